// Local processes and their mailboxes, on a node with no peers.

#include "support/cluster.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace liminal;
using namespace std::chrono_literals;
using liminal::test::node_options;

TEST_CASE("a local send lands in the mailbox with its sender and headers", "[mailbox]") {
    Node node(node_options("solo@127.0.0.1"));
    auto a = node.spawn();
    auto b = node.spawn();
    CHECK(a.pid().node == "solo@127.0.0.1");
    CHECK(a.pid().creation == node.creation());
    CHECK(a.pid().id != b.pid().id);
    CHECK(node.send(a.pid(), b.pid(), "hello", {{"h", "v"}}) == SendResult::delivered);
    const auto message = b.receive(1s);
    REQUIRE(message);
    CHECK(message->payload() == "hello");
    CHECK(message->from() == a.pid());
    CHECK(message->headers().at("h") == "v");
    CHECK_FALSE(b.try_receive());
    CHECK(node.stats().sends_local == 1);
}

TEST_CASE("receive times out on an empty mailbox", "[mailbox]") {
    Node node(node_options("solo@127.0.0.1"));
    auto p = node.spawn();
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(p.receive(50ms));
    CHECK(std::chrono::steady_clock::now() - start >= 50ms);
}

TEST_CASE("a full mailbox drops and counts, per process and per node", "[mailbox]") {
    auto options = node_options("solo@127.0.0.1");
    options.limits.mailbox_capacity = 3;
    Node node(options);
    auto p = node.spawn();
    for (int i = 0; i < 3; ++i) CHECK(node.send(p.pid(), std::to_string(i)) == SendResult::delivered);
    CHECK(node.send(p.pid(), "x") == SendResult::mailbox_full);
    CHECK(node.send(p.pid(), "y") == SendResult::mailbox_full);
    CHECK(p.dropped() == 2);
    CHECK(p.queued() == 3);
    CHECK(node.stats().dropped_mailbox_full == 2);
    for (int i = 0; i < 3; ++i) CHECK(p.try_receive()->payload() == std::to_string(i));
}

TEST_CASE("sends to closed, unknown and stale local pids are counted", "[mailbox]") {
    Node node(node_options("solo@127.0.0.1"));
    auto p = node.spawn();
    const Pid pid = p.pid();
    p.close();
    CHECK_FALSE(p.is_open());
    CHECK(node.send(pid, "late") == SendResult::no_such_process);
    CHECK(node.send(Pid{pid.node, pid.creation, 999}, "x") == SendResult::no_such_process);
    CHECK(node.send(Pid{pid.node, pid.creation + 1, pid.id}, "x") == SendResult::stale_creation);
    CHECK(node.send(Pid{"other@127.0.0.1", 1, 1}, "x") == SendResult::unknown_node);
    const auto stats = node.stats();
    CHECK(stats.dropped_no_such_process == 2);
    CHECK(stats.dropped_stale_creation == 1);
    CHECK(stats.dropped_unknown_node == 1);
}

TEST_CASE("misuse of send fails loudly", "[mailbox]") {
    Node node(node_options("solo@127.0.0.1"));
    auto p = node.spawn();
    CHECK_THROWS_AS(node.send(Pid{}, "x"), liminal::Error);
    CHECK_THROWS_AS(node.send(Pid{"other@h", 1, 1}, p.pid(), "x"), liminal::Error);
}

TEST_CASE("a message larger than the frame limit is refused", "[mailbox]") {
    auto options = node_options("solo@127.0.0.1");
    options.limits.max_frame_bytes = 4096;
    Node node(options);
    auto p = node.spawn();
    CHECK(node.send(p.pid(), std::string(5000, 'x')) == SendResult::too_large);
    CHECK(node.stats().dropped_too_large == 1);
}

TEST_CASE("callback delivery hands over the backlog first, then each message in order", "[mailbox]") {
    Node node(node_options("solo@127.0.0.1"));
    auto p = node.spawn();
    node.send(p.pid(), "0");
    node.send(p.pid(), "1");
    std::mutex mutex;
    std::vector<std::string> seen;
    p.on_message([&](Message m) {
        std::lock_guard lock(mutex);
        seen.emplace_back(m.payload());
    });
    for (int i = 2; i < 100; ++i) CHECK(node.send(p.pid(), std::to_string(i)) == SendResult::delivered);
    std::lock_guard lock(mutex);
    REQUIRE(seen.size() == 100);
    for (int i = 0; i < 100; ++i) CHECK(seen[static_cast<std::size_t>(i)] == std::to_string(i));
}

TEST_CASE("a receiver blocked in receive wakes for a send from another thread", "[mailbox]") {
    Node node(node_options("solo@127.0.0.1"));
    auto p = node.spawn();
    const Pid pid = p.pid();
    std::thread sender([&] {
        for (int i = 0; i < 1000; ++i) node.send(pid, std::to_string(i));
    });
    for (int i = 0; i < 1000; ++i) {
        const auto m = p.receive(5s);
        REQUIRE(m);
        CHECK(m->payload() == std::to_string(i));
    }
    sender.join();
}

TEST_CASE("stop closes mailboxes and later sends report the node down", "[mailbox]") {
    Node node(node_options("solo@127.0.0.1"));
    auto p = node.spawn();
    node.stop();
    node.stop();  // idempotent
    CHECK_FALSE(p.receive(10ms));
    CHECK(node.send(p.pid(), "x") == SendResult::node_down);
    CHECK_THROWS_AS(node.spawn(), Error);
}

TEST_CASE("bad options fail the constructor with a clear error", "[mailbox]") {
    auto options = node_options("no-at-sign");
    CHECK_THROWS_WITH(Node(options), Catch::Contains("invalid node name"));
    options = node_options("a@127.0.0.1");
    options.cookie.clear();
    CHECK_THROWS_WITH(Node(options), Catch::Contains("cookie"));
    options = node_options("a@127.0.0.1");
    options.listen = "tcp://256.1.1.1:1";
    CHECK_THROWS_WITH(Node(options), Catch::Contains("cannot bind the ROUTER"));
    options = node_options("a@127.0.0.1");
    options.listen = "ipc:///tmp/x";
    CHECK_THROWS_WITH(Node(options), Catch::Contains("tcp://"));
}

TEST_CASE("a callback that sends to its own process is called again, not deadlocked", "[mailbox]") {
    Node node(node_options("solo@127.0.0.1"));
    auto p = node.spawn();
    std::vector<std::string> seen;
    p.on_message([&](Message m) {
        seen.emplace_back(m.payload());
        if (m.payload().size() < 3) node.send(p.pid(), std::string(m.payload()) + "x");
    });
    CHECK(node.send(p.pid(), "x") == SendResult::delivered);
    CHECK(seen == std::vector<std::string>{"x", "xx", "xxx"});
}
