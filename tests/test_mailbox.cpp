// Local processes and their mailboxes, on a node with no peers.

#include "support/cluster.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

using namespace liminal;
using namespace std::chrono_literals;
using liminal::test::node_options;
using liminal::test::wait_event;
using liminal::test::wait_for_mesh;
using liminal::test::wait_until;

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
    const auto where = GENERATE(Process::CallbackThread::own, Process::CallbackThread::delivering);
    Node node(node_options("solo@127.0.0.1"));
    auto p = node.spawn();
    node.send(p.pid(), "0");
    node.send(p.pid(), "1");
    std::mutex mutex;
    std::vector<std::string> seen;
    std::set<std::thread::id> threads;
    p.on_message(
        [&](Message m) {
            std::lock_guard lock(mutex);
            seen.emplace_back(m.payload());
            threads.insert(std::this_thread::get_id());
        },
        where);
    for (int i = 2; i < 100; ++i) CHECK(node.send(p.pid(), std::to_string(i)) == SendResult::delivered);
    REQUIRE(wait_until([&] {
        std::lock_guard lock(mutex);
        return seen.size() == 100;
    }));
    std::lock_guard lock(mutex);
    for (int i = 0; i < 100; ++i) CHECK(seen[static_cast<std::size_t>(i)] == std::to_string(i));
    if (where == Process::CallbackThread::own) {
        // One thread of its own, not the sender's.
        CHECK(threads.size() == 1);
        CHECK(threads.count(std::this_thread::get_id()) == 0);
    } else {
        // The sender's own thread (every send was from this one, after the backlog).
        CHECK(threads.count(std::this_thread::get_id()) == 1);
    }
    // A second handler is refused.
    CHECK_THROWS_AS(p.on_message([](Message) {}), Error);
}

TEST_CASE("a callback that blocks holds only its own process: the node serves the others, and close waits",
          "[mailbox][bounded]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto stuck = b.spawn(MailboxOptions{10, 0, std::nullopt});
    auto other = b.spawn();
    std::mutex mutex;
    std::condition_variable changed;
    bool entered = false, released = false, returned = false;
    stuck.on_message([&](Message) {
        std::unique_lock lock(mutex);
        entered = true;
        changed.notify_all();
        changed.wait_for(lock, 20s, [&] { return released; });  // bounded: never hangs the suite
        returned = true;
    });
    auto from = a.spawn();
    for (int i = 0; i < 100; ++i) REQUIRE(a.send(from.pid(), stuck.pid(), "x") == SendResult::queued);
    {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, 10s, [&] { return entered; }));
    }
    // While that handler is stuck, the node delivers to its other process,
    // gossips, and the stuck one's mailbox drops what does not fit, counted.
    REQUIRE(a.send(from.pid(), other.pid(), "still served") == SendResult::queued);
    const auto got = other.receive(10s);
    REQUIRE(got);
    CHECK(got->payload() == "still served");
    // One in the handler, at most 10 waiting (one more if it came after the
    // handler took the first), the rest dropped.
    REQUIRE(wait_until([&] {
        const auto dropped = b.stats().dropped_mailbox_full;
        return dropped >= 89 && dropped + stuck.queued() + 1 == 100;
    }));
    b.join("g", "h", other.pid());
    REQUIRE(wait_until([&] { return a.members("g", "h").size() == 1; }));
    const auto slow = wait_event(b, [](const PeerEvent& e) { return e.kind == PeerEventKind::slow_consumer; });
    REQUIRE(slow);
    CHECK_THAT(slow->detail, Catch::Contains(stuck.pid().to_string()));
    // close() waits for the handler to return.
    std::thread releaser([&] {
        // Not a wait for a condition: a delay that makes a close() that did
        // not wait return before the release, and the CHECK below fail.
        std::this_thread::sleep_for(100ms);  // wait-ok: a delay, not a wait; see above
        std::lock_guard lock(mutex);
        released = true;
        changed.notify_all();
    });
    stuck.close();
    {
        std::lock_guard lock(mutex);
        CHECK(returned);
    }
    releaser.join();
}

TEST_CASE("mailbox bytes bound what waits, whatever the message count", "[mailbox][bounded]") {
    Node node(node_options("solo@127.0.0.1"));
    auto p = node.spawn(MailboxOptions{1'000'000, 1u << 20, std::nullopt});
    const std::string kib(1024, 'x');
    std::size_t delivered = 0;
    for (int i = 0; i < 2000; ++i) delivered += node.send(p.pid(), kib) == SendResult::delivered ? 1 : 0;
    // 1 MiB holds fewer than 1024 messages of 1 KiB and their bookkeeping.
    CHECK(delivered < 1024);
    CHECK(delivered > 800);
    CHECK(p.queued() == delivered);
    CHECK(node.stats().dropped_mailbox_full == 2000 - delivered);
    // Taking one makes room for one.
    REQUIRE(p.try_receive());
    CHECK(node.send(p.pid(), kib) == SendResult::delivered);
    CHECK(node.send(p.pid(), kib) == SendResult::mailbox_full);
}

TEST_CASE("mailbox policies: block waits for the reader, disconnect cuts the process off", "[mailbox][bounded]") {
    auto options = node_options("solo@127.0.0.1");
    options.limits.block_timeout = 200ms;
    Node node(options);
    SECTION("block") {
        auto p = node.spawn(MailboxOptions{2, 0, OverflowPolicy::block});
        CHECK(node.send(p.pid(), "1") == SendResult::delivered);
        CHECK(node.send(p.pid(), "2") == SendResult::delivered);
        // Nobody reads: the sender waits its timeout, then is told.
        const auto start = std::chrono::steady_clock::now();
        CHECK(node.send(p.pid(), "3") == SendResult::would_block);
        const auto waited = std::chrono::steady_clock::now() - start;
        CHECK(waited >= 180ms);
        CHECK(waited < 2s);
        CHECK(node.stats().would_block == 1);
        CHECK(node.stats().dropped_mailbox_full == 0);
        // A reader that takes one lets a waiting sender in.
        std::thread reader([&] {
            std::this_thread::sleep_for(50ms);  // wait-ok: lets the send below start waiting first
            (void)p.receive(1s);
        });
        CHECK(node.send(p.pid(), "3") == SendResult::delivered);
        reader.join();
    }
    SECTION("disconnect") {
        auto p = node.spawn(MailboxOptions{2, 0, OverflowPolicy::disconnect});
        node.join("g", "slow", p.pid());
        CHECK(node.send(p.pid(), "1") == SendResult::delivered);
        CHECK(node.send(p.pid(), "2") == SendResult::delivered);
        CHECK(node.send(p.pid(), "3") == SendResult::mailbox_full);
        // Cut off: it receives nothing more, it left its groups, and what
        // waited is counted.
        CHECK_FALSE(p.receive(10ms));
        CHECK_FALSE(p.is_open());
        CHECK(node.members("g", "slow").empty());
        CHECK(node.stats().dropped_slow_consumer == 3);
        CHECK(node.send(p.pid(), "4") == SendResult::no_such_process);
        const auto event = wait_event(node, [](const PeerEvent& e) { return e.kind == PeerEventKind::slow_consumer; });
        REQUIRE(event);
        CHECK_THAT(event->detail, Catch::Contains("cut off"));
    }
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
    p.on_message(
        [&](Message m) {
            seen.emplace_back(m.payload());
            if (m.payload().size() < 3) node.send(p.pid(), std::string(m.payload()) + "x");
        },
        Process::CallbackThread::delivering);
    CHECK(node.send(p.pid(), "x") == SendResult::delivered);
    CHECK(seen == std::vector<std::string>{"x", "xx", "xxx"});
}
