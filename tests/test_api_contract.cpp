// The public API's contract: every wire limit is checked before a message
// can enter a frame, oversized publishes are refused whole, and local misuse
// (a bad argument, a pid of another node, an empty handle) throws one
// documented liminal::Error kind.

#include "node/test_hooks.hpp"
#include "support/cluster.hpp"

#include <liminal/error.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace liminal;
using namespace std::chrono_literals;
using liminal::test::node_options;
using liminal::test::thrown_kind;
using liminal::test::wait_for_mesh;
using liminal::test::wait_until;

namespace {

Headers many_headers(std::size_t count) {
    Headers headers;
    for (std::size_t i = 0; i < count; ++i) headers["h" + std::to_string(i)] = "v";
    return headers;
}

}  // namespace

TEST_CASE("a send over a wire limit is refused before it can poison the frame around it", "[api]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto from = a.spawn();
    auto to = b.spawn();
    const Headers too_many = many_headers(300);
    int refused = 0;
    // Queued back to back, the good sends share frames with the bad ones.
    for (int i = 0; i < 1100; ++i) {
        if (i % 22 == 11) {
            CHECK(thrown_kind([&] { a.send(from.pid(), to.pid(), "bad", too_many); }) == ErrorKind::invalid_argument);
            ++refused;
        } else {
            REQUIRE(a.send(from.pid(), to.pid(), std::to_string(i)) == SendResult::queued);
        }
    }
    CHECK(refused == 50);
    int arrived = 0;
    while (arrived < 1050) {
        const auto message = to.receive(5s);
        REQUIRE(message);
        ++arrived;
    }
    CHECK(b.stats().malformed_frames == 0);
    CHECK(a.stats().sends_remote == 1050);
}

TEST_CASE("a publish over a wire limit throws and sends nothing", "[api]") {
    Node a(node_options("a@127.0.0.1"));
    auto p = a.spawn();
    a.subscribe("ch", p.pid());
    CHECK(thrown_kind([&] { a.publish("ch", "x", many_headers(257)); }) == ErrorKind::invalid_argument);
    CHECK(thrown_kind([&] { a.publish(std::string(256, 'c'), "x"); }) == ErrorKind::invalid_argument);
    CHECK(thrown_kind([&] { a.publish(p.pid(), "ch", "x", {}, std::vector<MessageId>(65)); }) ==
          ErrorKind::invalid_argument);
    // At the limits exactly, it goes.
    CHECK(a.publish(p.pid(), "ch", "x", many_headers(256), std::vector<MessageId>(64)).local_deliveries == 1);
    CHECK(a.stats().publishes == 1);
    REQUIRE(p.receive(1s));
    CHECK_FALSE(p.try_receive());
}

TEST_CASE("a publish larger than the maximum frame is refused whole, locally and remotely", "[api]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto local = a.spawn();
    auto remote = b.spawn();
    a.subscribe("big", local.pid());
    b.subscribe("big", remote.pid());
    REQUIRE(b.sync_membership(5s).ok);
    REQUIRE(wait_until([&] { return a.members(channels_scope, "big").size() == 2; }));

    const std::string payload(17u << 20, 'x');
    const auto refused = a.publish("big", payload);
    CHECK(refused.too_large);
    CHECK(refused.nodes == 0);
    CHECK(refused.local_deliveries == 0);
    CHECK(a.stats().dropped_too_large == 1);
    CHECK(a.stats().publishes == 0);

    // The next publish overtakes nothing: the big one never left.
    const auto sent = a.publish("big", "small");
    CHECK_FALSE(sent.too_large);
    CHECK(sent.nodes == 1);
    const auto message = remote.receive(5s);
    REQUIRE(message);
    CHECK(message->payload() == "small");
    CHECK(local.try_receive()->payload() == "small");
    CHECK_FALSE(local.try_receive());
    CHECK(b.stats().oversized_frames == 0);
}

TEST_CASE("local misuse throws liminal::Error of a documented kind", "[api]") {
    Node a(node_options("a@127.0.0.1"));
    auto p = a.spawn();
    CHECK(thrown_kind([&] { a.send(Pid{}, "x"); }) == ErrorKind::invalid_argument);
    CHECK(thrown_kind([&] { a.send(Pid{"other@h", 1, 1}, p.pid(), "x"); }) == ErrorKind::not_local);
    CHECK(thrown_kind([&] { a.join("s", "g", Pid{"b@127.0.0.1", 1, 1}); }) == ErrorKind::not_local);
    CHECK(thrown_kind([&] { a.join("s", "g", Pid{a.name(), a.creation(), 999}); }) == ErrorKind::not_local);
    CHECK(thrown_kind([&] { a.join("", "g", p.pid()); }) == ErrorKind::invalid_argument);
    CHECK(thrown_kind([&] { a.leave("s", "g", Pid{"b@127.0.0.1", 1, 1}); }) == ErrorKind::not_local);
    CHECK(thrown_kind([&] { a.publish(Pid{"b@127.0.0.1", 1, 1}, "ch", "x"); }) == ErrorKind::not_local);
    CHECK(thrown_kind([&] { p.on_message({}); }) == ErrorKind::invalid_argument);
    // The kinds are also types, for catch clauses.
    CHECK_THROWS_AS(a.send(Pid{"other@h", 1, 1}, p.pid(), "x"), NotLocal);
    CHECK_THROWS_AS(a.join("", "g", p.pid()), InvalidArgument);
    a.stop();
    CHECK(thrown_kind([&] { a.spawn(); }) == ErrorKind::closed);
    CHECK(thrown_kind([] { Node bad(node_options("no-host")); }) == ErrorKind::start_failed);
    auto unbindable = node_options("c@127.0.0.1");
    unbindable.listen = "tcp://192.0.2.1:*";  // TEST-NET-1: no interface has it, so the bind fails (nothing is sent)
    CHECK(thrown_kind([&] { Node bad(unbindable); }) == ErrorKind::start_failed);
    detail::TestHooks hooks;
    hooks.gossip_drop_rate = 1.5;
    CHECK(thrown_kind([&] { detail::TestAccess::make_node(node_options("d@127.0.0.1"), hooks); }) ==
          ErrorKind::start_failed);
}

TEST_CASE("a moved-from Node, Process or Monitor throws ErrorKind::closed on every use", "[api]") {
    Node a(node_options("a@127.0.0.1"));
    Node moved_to(std::move(a));
    CHECK(thrown_kind([&] { (void)a.name(); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)a.creation(); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { a.spawn(); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { a.publish("ch", "x"); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)a.peers(); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)a.stats(); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)a.members("s", "g"); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)a.monitor("s"); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)a.next_event(1ms); }) == ErrorKind::closed);
    a.stop();  // stop is idempotent, and a no-op on an empty handle
    CHECK(moved_to.name() == "a@127.0.0.1");

    auto p = moved_to.spawn();
    Process q(std::move(p));
    CHECK(thrown_kind([&] { (void)p.pid(); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { p.receive(1ms); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { p.try_receive(); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { p.on_message([](Message) {}); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)p.dropped(); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)p.queued(); }) == ErrorKind::closed);
    CHECK_FALSE(p.is_open());
    p.close();  // closing an empty handle is a no-op, as destroying it is
    CHECK(q.is_open());
    Process never_spawned;
    CHECK(thrown_kind([&] { never_spawned.try_receive(); }) == ErrorKind::closed);

    auto m = moved_to.monitor("s");
    Monitor n(std::move(m));
    CHECK(thrown_kind([&] { m.next(1ms); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)m.pending(); }) == ErrorKind::closed);
    CHECK(thrown_kind([&] { (void)m.snapshot(); }) == ErrorKind::closed);
    CHECK(n.pending() == 0);
}

// stop() waits for the thread running the poll loop: from a callback on it
// (the I/O thread, or a thread waiting in receive() that leads in its
// place) it would wait for itself, so it throws and the node goes on.
TEST_CASE("stop() from a delivering callback throws invalid_argument, and the node goes on", "[api]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto stopper = b.spawn();
    std::atomic<int> refused{0};
    std::atomic<int> calls{0};
    stopper.on_message([&](Message message) {
        if (thrown_kind([&] { b.stop(); }) == ErrorKind::invalid_argument) ++refused;
        ++calls;
        b.send(stopper.pid(), message.from(), "still here");
    }, Process::CallbackThread::delivering);
    auto sender = a.spawn();
    // Once with b's I/O thread running the loop, once with a thread of b's
    // waiting in receive() that may lead in its place.
    REQUIRE(a.send(sender.pid(), stopper.pid(), "stop") == SendResult::queued);
    auto answer = sender.receive(10s);
    REQUIRE(answer);
    CHECK(answer->payload() == "still here");
    auto waiter = b.spawn();
    std::thread waiting([&] { (void)waiter.receive(10s); });
    REQUIRE(a.send(sender.pid(), stopper.pid(), "stop") == SendResult::queued);
    answer = sender.receive(10s);
    REQUIRE(b.send(waiter.pid(), "done") == SendResult::delivered);
    waiting.join();
    REQUIRE(answer);
    CHECK(answer->payload() == "still here");
    CHECK(calls == 2);
    CHECK(refused == 2);
    b.stop();  // from another thread, as it should be
    CHECK(thrown_kind([&] { b.spawn(); }) == ErrorKind::closed);
}
