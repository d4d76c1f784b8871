// Several nodes in one process on 127.0.0.1: mesh, directed sends, cookie
// proof, BYE, restarts and hostile input on the ROUTER.

#include "node/test_hooks.hpp"
#include "support/cluster.hpp"
#include "wire/codec.hpp"
#include "wire/proof.hpp"
#include "support/ports.hpp"
#include "support/raw.hpp"
#include "support/relay.hpp"
#include "support/sanitizers.hpp"

#include <catch2/catch.hpp>

#include <zmq.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

using namespace liminal;
using namespace std::chrono_literals;
using liminal::test::Holder;
using liminal::test::node_options;
using liminal::test::raw_dealer;
using liminal::test::raw_router;
using liminal::test::peer_is;
using liminal::test::peers_up;
using liminal::test::wait_event;
using liminal::test::wait_for_mesh;
using liminal::test::wait_until;

namespace {

struct Trio {
    Node a{node_options("a@127.0.0.1")};
    Node b{node_options("b@127.0.0.1", {a.router_endpoint()})};
    Node c{node_options("c@127.0.0.1", {a.router_endpoint()})};
    std::vector<Node*> all() { return {&a, &b, &c}; }
};

}  // namespace

TEST_CASE("three nodes form a full mesh from one seed", "[cluster]") {
    Trio t;
    REQUIRE(wait_for_mesh(t.all()));
    for (Node* node : t.all()) {
        CHECK(peers_up(*node) == 2);
        for (const auto& peer : node->peers()) {
            CHECK(peer.router_endpoint.rfind("tcp://127.0.0.1:", 0) == 0);
            CHECK(peer.pub_endpoint.rfind("tcp://127.0.0.1:", 0) == 0);
        }
    }
    // b and c never named each other: they learned each other through a.
}

TEST_CASE("directed sends between every pair arrive exactly once and in order", "[cluster]") {
    Trio t;
    REQUIRE(wait_for_mesh(t.all()));
    std::vector<Process> procs;
    for (Node* node : t.all()) procs.push_back(node->spawn());
    constexpr int per_pair = 300;
    const auto nodes = t.all();
    for (int i = 0; i < per_pair; ++i) {
        for (std::size_t from = 0; from < 3; ++from) {
            for (std::size_t to = 0; to < 3; ++to) {
                if (from == to) continue;
                const auto result = nodes[from]->send(procs[from].pid(), procs[to].pid(), std::to_string(i),
                                                      {{"seq", std::to_string(i)}});
                REQUIRE(result == SendResult::queued);
            }
        }
    }
    for (std::size_t to = 0; to < 3; ++to) {
        std::map<Pid, int> next;  // per sender: the sequence number expected next
        for (int n = 0; n < 2 * per_pair; ++n) {
            const auto message = procs[to].receive(5s);
            REQUIRE(message);
            int& expected = next[message->from()];
            CHECK(message->payload() == std::to_string(expected));
            CHECK(message->headers().at("seq") == std::to_string(expected));
            ++expected;
        }
        CHECK(next.size() == 2);
        for (const auto& [sender, count] : next) CHECK(count == per_pair);
        CHECK_FALSE(procs[to].receive(50ms));  // nothing twice
    }
    for (Node* node : nodes) {
        const auto stats = node->stats();
        CHECK(stats.sends_remote == 2 * per_pair);
        CHECK(stats.delivered_remote == 2 * per_pair);
        CHECK(stats.dropped_node_down + stats.dropped_backpressure + stats.malformed_frames == 0);
    }
}

// A message that starts a burst while the sender's I/O thread sleeps is sent
// by its sender's thread (CommandQueue::io_lock); within a burst, by the I/O
// thread. Both, from several threads at once, and the receiver's replies
// sent from its I/O thread must keep each sender's order.
TEST_CASE("senders on several threads, alone and in bursts, and replies from the I/O thread keep their order",
          "[cluster]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto echo = b.spawn();
    const Pid echo_pid = echo.pid();
    echo.on_message([&](Message message) { b.send(echo_pid, message.from(), message.payload()); },
                    Process::CallbackThread::delivering);
    constexpr int senders = 4, per_sender = 300;
    std::vector<Process> procs;
    for (int s = 0; s < senders; ++s) procs.push_back(a.spawn());
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int s = 0; s < senders; ++s) {
        threads.emplace_back([&, s] {
            for (int i = 0; i < per_sender; ++i) {
                if (i % 10 == 0) std::this_thread::sleep_for(200us);  // wait-ok: pacing, every tenth starts a burst
                if (a.send(procs[s].pid(), echo_pid, std::to_string(i)) != SendResult::queued) ++failures;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(failures == 0);
    for (auto& proc : procs) {
        for (int i = 0; i < per_sender; ++i) {
            const auto message = proc.receive(5s);
            REQUIRE(message);
            REQUIRE(message->payload() == std::to_string(i));
        }
        CHECK_FALSE(proc.try_receive());
    }
    CHECK(a.stats().sends_remote == senders * per_sender);
    CHECK(b.stats().delivered_remote == senders * per_sender);
    // Counted just after the mailbox took it: a receiver can be a step ahead.
    CHECK(wait_until([&] { return a.stats().delivered_remote == senders * per_sender; }));
}

// Leader/follower receive (src/node/leadership.hpp): a thread waiting in
// receive() runs b's poll loop itself, so it also runs what that loop runs,
// here another process's delivering callback; once it stops waiting, b's I/O
// thread takes the loop back.
TEST_CASE("a thread waiting in receive() runs its node's poll loop, and the I/O thread takes it back after",
          "[cluster]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto waiter = b.spawn();
    auto watched = b.spawn();
    std::mutex mutex;
    std::thread::id last_caller;
    std::atomic<int> calls{0};
    watched.on_message([&](Message) {
        std::lock_guard lock(mutex);
        last_caller = std::this_thread::get_id();
        ++calls;
    }, Process::CallbackThread::delivering);
    const auto caller = [&] {
        std::lock_guard lock(mutex);
        return last_caller;
    };
    auto sender = a.spawn();
    // A ping to `watched`, answered by its callback on whichever thread runs
    // b's loop; false if it was not. (No REQUIRE while `waiting` runs: a
    // failure must not leave the test with a joinable thread.)
    const auto ping = [&] {
        const int before = calls;
        return a.send(sender.pid(), watched.pid(), "ping") == SendResult::queued &&
               wait_until([&] { return calls > before; });
    };
    std::atomic<bool> received{false};
    std::thread::id waiting_thread;
    std::thread waiting([&] {
        if (waiter.receive(20s)) received = true;
    });
    waiting_thread = waiting.get_id();
    // It leads once b's I/O thread has parked: a ping soon runs on it.
    const bool led = wait_until([&] { return ping() && caller() == waiting_thread; });
    const bool sent = a.send(sender.pid(), waiter.pid(), "for the waiter") == SendResult::queued;
    waiting.join();  // once its message came (or its receive timed out)
    CHECK(led);
    REQUIRE(sent);
    CHECK(received);
    // Nobody waits now: within a lease the I/O thread is back, and runs the callback.
    CHECK(wait_until([&] { return ping() && caller() != waiting_thread; }));
    CHECK(wait_until([&] { return b.stats().delivered_remote == static_cast<std::uint64_t>(calls) + 1; }));
}

TEST_CASE("a leading receiver returns once its message came, and the frames behind it are still read", "[cluster]") {
    // No periodic digests: with nothing else to do, an I/O thread sleeps its
    // longest (1 s) between looks, so frames left on the ROUTER without it
    // knowing would wait that long.
    auto a_options = node_options("a@127.0.0.1");
    a_options.digest_interval = 60s;
    Node a(a_options);
    auto b_options = node_options("b@127.0.0.1", {a.router_endpoint()});
    b_options.digest_interval = 60s;
    Node b(b_options);
    REQUIRE(wait_for_mesh({&a, &b}));
    auto waiter = b.spawn();
    auto watched = b.spawn();
    std::mutex mutex;
    std::thread::id last_caller;
    std::vector<std::string> got;
    watched.on_message([&](Message message) {
        std::lock_guard lock(mutex);
        last_caller = std::this_thread::get_id();
        got.emplace_back(message.payload());
    }, Process::CallbackThread::delivering);
    const auto caller = [&] {
        std::lock_guard lock(mutex);
        return last_caller;
    };
    const auto count = [&] {
        std::lock_guard lock(mutex);
        return got.size();
    };
    auto sender = a.spawn();
    std::atomic<bool> received{false};
    std::thread waiting([&] {
        if (waiter.receive(20s)) received = true;  // and it waits no more: only b's I/O thread is left to read
    });
    const auto waiting_thread = waiting.get_id();
    // Pings until one runs on the waiting thread: it leads b's loop.
    CHECK(wait_until([&] {
        const auto before = count();
        if (a.send(sender.pid(), watched.pid(), "ping") != SendResult::queued) return false;
        return wait_until([&] { return count() > before; }) && caller() == waiting_thread;
    }));
    const auto pings = count();
    // Its message, then frames it does not wait for, sent one by one.
    constexpr std::size_t behind = 50;
    REQUIRE(a.send(sender.pid(), waiter.pid(), "for the waiter") == SendResult::queued);
    for (std::size_t i = 0; i < behind; ++i) {
        REQUIRE(a.send(sender.pid(), watched.pid(), "behind " + std::to_string(i)) == SendResult::queued);
    }
    waiting.join();
    CHECK(received);
    // Whatever the leader left unread, the I/O thread reads once it is back
    // (a lease later), not at its next look: every frame arrives, in order,
    // and the last ones on the I/O thread.
    const auto returned = std::chrono::steady_clock::now();
    REQUIRE(wait_until([&] { return count() == pings + behind; }));
    CHECK(std::chrono::steady_clock::now() - returned < 400ms);
    CHECK(caller() != waiting_thread);
    std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < behind; ++i) CHECK(got[pings + i] == "behind " + std::to_string(i));
}

TEST_CASE("a reply sent from a delivering callback leaves before the frames behind its message are read",
          "[cluster]") {
    // b's I/O thread is held in one callback while two frames queue behind:
    // a ping for an echo, then a message whose callback holds the thread
    // again. The echo's reply must leave between the two, not wait for the
    // second callback to return.
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    std::mutex mutex;
    std::condition_variable changed;
    int entered = 0, released = 0;
    auto gate = b.spawn();
    gate.on_message([&](Message) {
        std::unique_lock lock(mutex);
        const int mine = ++entered;
        changed.notify_all();
        changed.wait_for(lock, 20s, [&] { return released >= mine; });  // bounded: never hangs the suite
    }, Process::CallbackThread::delivering);
    auto echo = b.spawn();
    echo.on_message([&](Message message) { b.send(echo.pid(), message.from(), message.payload()); },
                    Process::CallbackThread::delivering);
    const auto release = [&](int upto) {
        std::lock_guard lock(mutex);
        released = upto;
        changed.notify_all();
    };
    auto sender = a.spawn();
    // Each message leaves a in a frame of its own: the next is sent once a has sent the last.
    const auto send_alone = [&](const Pid& to, const std::string& payload) {
        const auto before = a.stats().sends_remote;
        REQUIRE(a.send(sender.pid(), to, payload) == SendResult::queued);
        REQUIRE(wait_until([&] { return a.stats().sends_remote > before; }));
    };
    send_alone(gate.pid(), "hold");
    REQUIRE(wait_until([&] {
        std::lock_guard lock(mutex);
        return entered == 1;
    }));
    send_alone(echo.pid(), "ping");
    send_alone(gate.pid(), "hold again");
    // No API shows what waits in b's ZeroMQ pipe: give both frames time to get there.
    std::this_thread::sleep_for(100ms);  // wait-ok: the frames cross loopback into b's ROUTER
    release(1);
    const bool echoed = wait_until([&] { return sender.receive(0ms).has_value(); }, 5s);
    bool held = false;
    {
        std::lock_guard lock(mutex);
        held = entered == 2 && released == 1;
    }
    release(2);
    CHECK(echoed);
    CHECK(held);  // the echo came while the second callback still held b's I/O thread
}

TEST_CASE("frames wait for a receiver whose I/O thread is blocked, then all arrive in order", "[cluster]") {
    // The receiver's I/O thread blocks in a callback, so it stops reading its
    // ROUTER. With high-water marks of one frame, ~20 MB cannot all fit in
    // ZeroMQ's pipes and the kernel's socket buffers: the sender's DEALER
    // refuses frames, which wait in the link's queue until the socket is
    // writable again (the ZMQ_POLLOUT path of the poll loop).
    auto sender_options = node_options("a@127.0.0.1");
    sender_options.limits.send_hwm = 1;
    sender_options.limits.peer_queue_bytes = 64u << 20;  // room for all of it: this is about order, not limits
    Node a(sender_options);
    auto receiver_options = node_options("b@127.0.0.1", {a.router_endpoint()});
    receiver_options.limits.receive_hwm = 1;
    Node b(receiver_options);
    REQUIRE(wait_for_mesh({&a, &b}));

    auto from = a.spawn();
    auto to = b.spawn();
    std::mutex mutex;
    std::condition_variable changed;
    bool entered = false, released = false;
    std::vector<std::string> got;
    to.on_message(
        [&](Message message) {
        std::unique_lock lock(mutex);
        if (!entered) {
            entered = true;
            changed.notify_all();
            changed.wait_for(lock, 20s, [&] { return released; });  // bounded: never hangs the suite
        }
        got.emplace_back(message.payload().substr(0, 8));
        changed.notify_all();
    },
        Process::CallbackThread::delivering);  // on b's I/O thread: it stops reading
    constexpr int count = 20'000;
    const std::string filler(1024, 'x');
    for (int i = 0; i < count; ++i) {
        char head[9];
        std::snprintf(head, sizeof head, "%08d", i);
        REQUIRE(a.send(from.pid(), to.pid(), std::string(head) + filler) == SendResult::queued);
    }
    {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, 10s, [&] { return entered; }));
        released = true;
        changed.notify_all();
        REQUIRE(changed.wait_for(lock, 30s, [&] { return got.size() == count; }));
    }
    for (int i = 0; i < count; ++i) {
        char head[9];
        std::snprintf(head, sizeof head, "%08d", i);
        REQUIRE(got[static_cast<std::size_t>(i)] == head);
    }
    const auto stats = a.stats();
    CHECK(stats.sends_remote == count);
    CHECK(stats.dropped_backpressure + stats.dropped_node_down == 0);
}

TEST_CASE("sends to a remote closed or stale pid are counted at the receiver", "[cluster]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto closed = b.spawn();
    const Pid gone = closed.pid();
    closed.close();
    CHECK(a.send(gone, "x") == SendResult::queued);
    REQUIRE(wait_until([&] { return b.stats().dropped_no_such_process == 1; }));
    CHECK(a.send(Pid{gone.node, gone.creation + 1, gone.id}, "x") == SendResult::stale_creation);
    CHECK(a.stats().dropped_stale_creation == 1);
}

TEST_CASE("a node with the wrong cookie is rejected on both sides", "[cluster][auth]") {
    Node a(node_options("a@127.0.0.1"));
    Node intruder(node_options("x@127.0.0.1", {a.router_endpoint()}, "wrong-cookie-0123456789"));
    // The encrypted handshake fails: a refuses the connection, x rejects a.
    REQUIRE(wait_until([&] { return a.stats().refused_connections >= 1 && intruder.stats().rejected_peers >= 1; }));
    CHECK(peers_up(a) == 0);
    CHECK(peers_up(intruder) == 0);
    CHECK(a.send(Pid{"x@127.0.0.1", intruder.creation(), 1}, "x") == SendResult::unknown_node);
    const auto rejected = wait_event(intruder, [](const PeerEvent& e) { return e.kind == PeerEventKind::rejected; });
    REQUIRE(rejected);
    CHECK_THAT(rejected->detail, Catch::Contains("cookie"));
}

TEST_CASE("BYE marks the peer down at once, not after a heartbeat timeout", "[cluster]") {
    auto slow = [](Options o) {
        o.heartbeat_interval = 1000ms;
        o.heartbeat_timeout = 60000ms;  // a missed BYE would show as a minute-long wait
        return o;
    };
    Node a(slow(node_options("a@127.0.0.1")));
    auto b = std::make_unique<Node>(slow(node_options("b@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, b.get()}));
    const auto b_creation = b->creation();
    const auto start = std::chrono::steady_clock::now();
    b.reset();  // the destructor says BYE and waits for the acknowledgement
    const auto down = wait_event(a, [](const PeerEvent& e) { return e.kind == PeerEventKind::down; }, 5s);
    REQUIRE(down);
    CHECK(down->name == "b@127.0.0.1");
    CHECK(down->creation == b_creation);
    CHECK(down->reason == DownReason::bye);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK(peer_is(a, "b@127.0.0.1", PeerState::down));
    CHECK(a.send(Pid{"b@127.0.0.1", b_creation, 1}, "x") == SendResult::node_down);
}

TEST_CASE("a restarted node is a new creation and old pids are stale", "[cluster]") {
    Node a(node_options("a@127.0.0.1"));
    auto b = std::make_unique<Node>(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, b.get()}));
    auto old_proc = b->spawn();
    const Pid old_pid = old_proc.pid();
    const auto old_creation = b->creation();
    old_proc.close();
    b.reset();
    b = std::make_unique<Node>(node_options("b@127.0.0.1", {a.router_endpoint()}));
    CHECK(b->creation() != old_creation);
    REQUIRE(wait_until([&] { return peer_is(a, "b@127.0.0.1", PeerState::up, b->creation()); }));
    auto new_proc = b->spawn();
    CHECK(a.send(old_pid, "to the old one") == SendResult::stale_creation);
    CHECK(a.send(new_proc.pid(), "to the new one") == SendResult::queued);
    const auto message = new_proc.receive(5s);
    REQUIRE(message);
    CHECK(message->payload() == "to the new one");
    CHECK(b->stats().dropped_stale_creation == 0);
}

TEST_CASE("a seed that stops cleanly and comes back at its endpoint is linked to again", "[cluster][peers]") {
    const std::string endpoint = liminal::test::reserved_endpoint();
    auto seed_options = node_options("a@127.0.0.1");
    seed_options.listen = endpoint;
    auto a = std::make_unique<Node>(seed_options);
    Node b(node_options("b@127.0.0.1", {endpoint}));
    REQUIRE(wait_for_mesh({a.get(), &b}));
    a.reset();  // BYE: b stops linking to that incarnation, not to its seed
    REQUIRE(wait_until([&] { return peer_is(b, "a@127.0.0.1", PeerState::down); }));
    a = std::make_unique<Node>(seed_options);  // no seeds of its own: only b's seed link finds it
    CHECK(wait_until([&] { return peer_is(b, "a@127.0.0.1", PeerState::up, a->creation()); }, 15s));
}

TEST_CASE("a seed that is the node's own endpoint is ignored", "[cluster]") {
    Node a(node_options("a@127.0.0.1"));
    const std::string own = liminal::test::reserved_endpoint();
    const std::string port = own.substr(own.rfind(':'));
    // The node's own endpoint, spelled as bound and spelled another way.
    auto options = node_options("d@127.0.0.1", {own, "tcp://localhost" + port, a.router_endpoint()});
    options.listen = own;
    Node d(options);
    REQUIRE(wait_for_mesh({&a, &d}));
    REQUIRE(wait_until([&] { return d.peers().size() == 1; }));
    CHECK(d.peers()[0].name == "a@127.0.0.1");
    CHECK(d.stats().rejected_peers == 0);
}

TEST_CASE("a node's outgoing connections come from its source address, and a bad one fails the start", "[cluster]") {
    zmq::context_t context;
    auto listener = raw_router(context, 5000ms, Holder::member);
    const std::string endpoint = listener.get(zmq::sockopt::last_endpoint);
    for (const std::string source : {"127.0.0.2", ""}) {
        Options options = node_options("a@127.0.0.1", {endpoint});
        options.source_address = source;
        Node a(options);
        zmq::message_t id, hello;
        REQUIRE(listener.recv(id));
        REQUIRE(listener.recv(hello));
        const char* from = zmq_msg_gets(hello.handle(), "Peer-Address");
        REQUIRE(from != nullptr);
        CHECK(std::string(from) == (source.empty() ? "127.0.0.1" : source));
    }
    for (const std::string bad : {"127.0.0.2:0;127.0.0.3", "127.0.0.2:5000", "tcp://127.0.0.2", "[::1"}) {
        Options options = node_options("a@127.0.0.1");
        options.source_address = bad;
        CHECK_THROWS_AS(Node(options), StartFailed);
    }
}

TEST_CASE("an unreachable seed is retried until it comes up", "[cluster]") {
    const std::string endpoint = liminal::test::reserved_endpoint();
    Node b(node_options("b@127.0.0.1", {endpoint}));
    REQUIRE(wait_until([&] {
        const auto peers = b.peers();
        return peers.size() == 1 && peers[0].state == PeerState::connecting && peers[0].router_endpoint == endpoint;
    }));
    auto options = node_options("a@127.0.0.1");
    options.listen = endpoint;
    Node a(options);
    REQUIRE(wait_for_mesh({&a, &b}, 15s));
}

namespace {

// Frames a cookie holder that does not follow the protocol sends a node's
// ROUTER: 5 malformed, 3 unauthenticated (check_garbage_counted).
void send_garbage(zmq::socket_t& raw) {
    const std::vector<std::string> garbage = {
        "",                                     // empty
        "\x07garbage",                          // wrong version
        std::string("\x01\x91\x7f", 3),         // unknown type
        std::string("\x01\x96\x10\xcd\x03", 5), // truncated SEND
        std::string("\x01\x91\x05", 3),         // BYE_ACK: well-formed, but unauthenticated
        std::string("\x01\x92\x03\xc4\x20", 5) + std::string(32, 'x'),  // AUTH without HELLO
    };
    for (const auto& frame : garbage) raw.send(zmq::buffer(frame), zmq::send_flags::none);
    // A well-formed SEND from a connection that never said HELLO.
    raw.send(zmq::buffer(std::string("\x01\x96\x10\x01\x01\x01\x80\xc4\x00", 9)), zmq::send_flags::none);
    // A multipart message.
    raw.send(zmq::buffer(std::string("\x01\x91\x05", 3)), zmq::send_flags::sndmore);
    raw.send(zmq::buffer(std::string("\x01\x91\x05", 3)), zmq::send_flags::none);
}

// `delivered`: what the node had delivered from peers before the garbage.
void check_garbage_counted(Node& node, std::uint64_t delivered = 0) {
    REQUIRE(wait_until([&] {
        const auto s = node.stats();
        return s.malformed_frames >= 5 && s.unauthenticated_frames >= 3;
    }));
    const auto stats = node.stats();
    CHECK(stats.malformed_frames == 5);
    CHECK(stats.unauthenticated_frames == 3);
    CHECK(stats.delivered_remote == delivered);
}

}  // namespace

TEST_CASE("garbage from a raw DEALER is counted and the node keeps serving", "[cluster][bad-input]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));

    // A cookie holder that does not follow the protocol.
    zmq::context_t context;
    zmq::socket_t raw = raw_dealer(context, a.router_endpoint(), Holder::member);
    send_garbage(raw);
    check_garbage_counted(a);

    // Still serving: a real send crosses.
    auto target = a.spawn();
    CHECK(b.send(target.pid(), "still here") == SendResult::queued);
    const auto message = target.receive(5s);
    REQUIRE(message);
    CHECK(message->payload() == "still here");
}

// The same garbage, read by a thread waiting in receive() that runs a's poll
// loop in the I/O thread's place (leadership.hpp): counted the same, nothing
// delivered, and the waiting thread still gets its own message.
TEST_CASE("garbage read by a thread leading a node's poll loop is counted the same, and it still gets its message",
          "[cluster][bad-input]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto target = a.spawn();
    auto watched = a.spawn();
    std::atomic<std::thread::id> caller{};
    std::atomic<int> calls{0};
    watched.on_message([&](Message) {
        caller = std::this_thread::get_id();
        ++calls;
    }, Process::CallbackThread::delivering);
    auto sender = b.spawn();
    std::optional<Message> received;
    std::thread waiting([&] { received = target.receive(20s); });
    const auto waiting_thread = waiting.get_id();
    // It leads once a's I/O thread has parked, and keeps leading while it waits.
    CHECK(wait_until([&] {
        const int before = calls;
        if (b.send(sender.pid(), watched.pid(), "ping") != SendResult::queued) return false;
        return wait_until([&] { return calls > before; }) && caller.load() == waiting_thread;
    }));
    const std::uint64_t delivered = a.stats().delivered_remote;
    zmq::context_t context;
    zmq::socket_t raw = raw_dealer(context, a.router_endpoint(), Holder::member);
    send_garbage(raw);
    check_garbage_counted(a, delivered);
    // Still the leader after the garbage, so it read it (the I/O thread stays
    // parked while a leader leads).
    const int before = calls;
    REQUIRE(b.send(sender.pid(), watched.pid(), "after") == SendResult::queued);
    REQUIRE(wait_until([&] { return calls > before; }));
    CHECK(caller.load() == waiting_thread);
    REQUIRE(b.send(sender.pid(), target.pid(), "still here") == SendResult::queued);
    waiting.join();
    REQUIRE(received);
    CHECK(received->payload() == "still here");
}

TEST_CASE("an oversized frame is dropped and counted", "[cluster][bad-input]") {
    auto options = node_options("a@127.0.0.1");
    options.limits.max_frame_bytes = 2048;
    Node a(options);
    zmq::context_t context;
    zmq::socket_t raw = raw_dealer(context, a.router_endpoint(), Holder::member);
    raw.send(zmq::buffer(std::string(4096, '\x01')), zmq::send_flags::none);
    REQUIRE(wait_until([&] { return a.stats().oversized_frames == 1; }));
}

TEST_CASE("before authentication a frame larger than a handshake is not even decoded", "[cluster][bad-input][trust]") {
    Node a(node_options("a@127.0.0.1"));
    zmq::context_t context;
    zmq::socket_t raw = raw_dealer(context, a.router_endpoint(), Holder::member);
    // A "HELLO" of half the frame limit: a HELLO header, then filler.
    std::string big = std::string("\x01\x96\x01", 3) + std::string(Limits{}.max_frame_bytes / 2, '\xc1');
    raw.send(zmq::buffer(big), zmq::send_flags::none);
    // One byte over the handshake limit, then at it: RESYNCs, which are no handshake.
    std::string resyncs(1, '\x01');
    while (resyncs.size() + 2 <= detail::wire::max_handshake_frame_bytes) resyncs += std::string("\x91\x23", 2);
    raw.send(zmq::buffer(resyncs + "\xc1\xc1"), zmq::send_flags::none);
    raw.send(zmq::buffer(resyncs), zmq::send_flags::none);
    REQUIRE(wait_until([&] { return a.stats().unauthenticated_frames + a.stats().malformed_frames >= 3; }));
    const auto stats = a.stats();
    CHECK(stats.unauthenticated_frames == 3);  // the first two never decoded, the third not a handshake
    CHECK(stats.malformed_frames == 0);
    // The node still lets a real peer in.
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    CHECK(wait_for_mesh({&a, &b}));
}

TEST_CASE("junk HELLOs cannot hold the session table against a real node", "[cluster][bad-input][trust]") {
    detail::TestHooks small;
    small.session_capacity = 32;
    Node a = detail::TestAccess::make_node(node_options("a@127.0.0.1"), small);
    // 64 connections, each a HELLO that never authenticates, sent twice: a
    // repeated HELLO must not renew its session.
    zmq::context_t context;
    std::vector<zmq::socket_t> junk;
    const auto name_of = [](int i) { return "junk" + std::to_string(i) + "@127.0.0.1"; };
    for (int i = 0; i < 64; ++i)
        junk.push_back(raw_dealer(context, a.router_endpoint(), Holder::member, 5s, detail::routing_id(name_of(i), 1)));
    const auto hello_of = [&](int i) {
        return detail::wire::encode_frame(detail::wire::Hello{detail::wire::protocol_version, name_of(i), 1,
                                                              "tcp://127.0.0.1:1", "tcp://127.0.0.1:2",
                                                              detail::wire::make_nonce()});
    };
    for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 64; ++i) junk[static_cast<std::size_t>(i)].send(zmq::buffer(hello_of(i)));
    }
    // Every junk HELLO was answered (each got a WELCOME), so the table is full of them.
    for (auto& socket : junk) {
        zmq::message_t welcome;
        REQUIRE(socket.recv(welcome));
    }
    // A real node still gets in, without waiting for the junk to expire.
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    CHECK(wait_for_mesh({&a, &b}, 5s));
    CHECK(a.stats().rejected_peers == 0);
}

TEST_CASE("a HELLO that is never answered is retried on a new connection, with backoff", "[cluster][trust]") {
    // A "peer" that accepts connections and reads HELLOs but never answers.
    zmq::context_t context;
    zmq::socket_t silent = raw_router(context, 100ms, Holder::member);
    const std::string endpoint = silent.get(zmq::sockopt::last_endpoint);
    Node b(node_options("b@127.0.0.1", {endpoint}));
    std::vector<std::pair<std::chrono::steady_clock::time_point, detail::wire::Nonce>> hellos;
    const auto deadline = std::chrono::steady_clock::now() + 12s;
    while (hellos.size() < 3 && std::chrono::steady_clock::now() < deadline) {
        zmq::message_t id, body;
        if (!silent.recv(id) || !id.more() || !silent.recv(body)) continue;
        std::vector<detail::wire::WireMessage> decoded;
        const std::string_view bytes(static_cast<const char*>(body.data()), body.size());
        REQUIRE(detail::wire::decode_frame(bytes, decoded) == detail::wire::DecodeError::none);
        REQUIRE(std::holds_alternative<detail::wire::Hello>(decoded[0]));
        hellos.emplace_back(std::chrono::steady_clock::now(), std::get<detail::wire::Hello>(decoded[0]).nonce);
    }
    REQUIRE(hellos.size() == 3);
    CHECK(hellos[0].second != hellos[1].second);  // a fresh handshake each time
    // 2 s, then 4 s: each wait longer than the one before.
    const auto first_wait = hellos[1].first - hellos[0].first;
    const auto second_wait = hellos[2].first - hellos[1].first;
    CHECK(first_wait >= 1900ms);
    CHECK(second_wait > first_wait);
}

TEST_CASE("a node's own HELLO reflected back to it gets an answer no other identity can use", "[cluster][trust]") {
    // The attacker knows no cookie. It listens where a will connect (a seeds
    // it) and connects to a itself. Only plaintext lets it that far (see the
    // next test); the proofs must hold even so.
    zmq::context_t context;
    zmq::socket_t listener = raw_router(context, 5000ms, Holder::stranger);
    const std::string attacker_endpoint = listener.get(zmq::sockopt::last_endpoint);
    auto options = node_options("a@127.0.0.1", {attacker_endpoint});
    options.security = Security::insecure_plaintext;
    Node a(options);
    // (under a's own routing id, as the HELLO's claims require)
    zmq::socket_t dialer = raw_dealer(context, a.router_endpoint(), Holder::stranger, 5s,
                                      detail::routing_id(a.name(), a.creation()));

    // a's HELLO to the "peer" it seeded ...
    zmq::message_t link_id, hello;
    REQUIRE(listener.recv(link_id));
    REQUIRE(listener.recv(hello));
    // ... goes back to a, which answers it with its own proof ...
    dialer.send(zmq::buffer(hello.data(), hello.size()));
    zmq::message_t welcome_frame;
    REQUIRE(dialer.recv(welcome_frame));
    std::vector<detail::wire::WireMessage> decoded;
    REQUIRE(detail::wire::decode_frame(welcome_frame.to_string(), decoded) == detail::wire::DecodeError::none);
    const auto welcome = std::get<detail::wire::Welcome>(decoded.at(0));
    CHECK(welcome.name == "a@127.0.0.1");
    // ... and that answer is replayed to a's HELLO under another name.
    detail::wire::Welcome forged = welcome;
    forged.name = "fake@127.0.0.1";
    forged.creation = 42;
    forged.router = attacker_endpoint;
    forged.pub = "tcp://127.0.0.1:1";
    listener.send(link_id, zmq::send_flags::sndmore);
    listener.send(zmq::buffer(detail::wire::encode_frame(forged)));

    REQUIRE(wait_until([&] { return a.stats().rejected_peers >= 1; }, 5s));
    CHECK_FALSE(peer_is(a, "fake@127.0.0.1", PeerState::up));
    CHECK(a.stats().peers_up == 0);
}

namespace {
std::string frame_of(std::initializer_list<detail::wire::WireMessage> messages) {
    detail::wire::FrameWriter writer;
    for (const auto& m : messages) writer.add(m);
    return writer.take();
}

int port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

// The client half of the handshake by hand, as a cookie holder: HELLO as
// `hello` says, the node's WELCOME, a correct AUTH. Returns the WELCOME.
detail::wire::Welcome authenticate(zmq::socket_t& dealer, const detail::wire::Hello& hello) {
    using namespace liminal::detail::wire;
    const std::string frame = encode_frame(hello);
    dealer.send(zmq::buffer(frame));
    zmq::message_t reply;
    REQUIRE(dealer.recv(reply));
    std::vector<WireMessage> decoded;
    REQUIRE(decode_frame(reply.to_string(), decoded) == DecodeError::none);
    const auto welcome = std::get<Welcome>(decoded.at(0));
    const Answerer node{welcome.name, welcome.creation, welcome.router, welcome.pub};
    dealer.send(zmq::buffer(encode_frame(Auth{make_proof(cluster_keys(liminal::test::test_cookie).proof,
                                                         ProofRole::client, hello.nonce, welcome.nonce,
                                                         frame.substr(1), node)})));
    return welcome;
}
}  // namespace

TEST_CASE("a node of a later protocol version, whose messages carry fields this one does not know, is spoken to",
          "[cluster][compat]") {
    Node a(node_options("a@127.0.0.1"));
    auto target = a.spawn();
    zmq::context_t context;
    zmq::socket_t later =
        raw_dealer(context, a.router_endpoint(), Holder::member, 5s, detail::routing_id("later@127.0.0.1", 5));
    using namespace liminal::detail::wire;
    // What a version 4 encoder would write: its version in HELLO, and a
    // field appended to each message (fields are only ever appended).
    const auto appended = [](std::string frame, const std::string& extra) {
        frame[1] = static_cast<char>(frame[1] + 1);  // a fixarray one field longer
        return frame + extra;
    };
    const Hello hello{protocol_version + 1, "later@127.0.0.1", 5, "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", make_nonce()};
    const std::string hello_frame = appended(encode_frame(hello), "\x92\x01\xa1x");
    later.send(zmq::buffer(hello_frame));
    zmq::message_t reply;
    REQUIRE(later.recv(reply));
    std::vector<WireMessage> decoded;
    REQUIRE(decode_frame(reply.to_string(), decoded) == DecodeError::none);
    const auto welcome = std::get<Welcome>(decoded.at(0));
    const Answerer node{welcome.name, welcome.creation, welcome.router, welcome.pub};
    later.send(zmq::buffer(appended(encode_frame(Auth{make_proof(cluster_keys(liminal::test::test_cookie).proof,
                                                                 ProofRole::client, hello.nonce, welcome.nonce,
                                                                 hello_frame.substr(1), node)}),
                                    "\xc3")));
    later.send(zmq::buffer(appended(encode_frame(Send{a.creation(), target.pid().id, 1, {}, "from the future"}),
                                    "\x81\xa1k\xa1v")));
    const auto message = target.receive(5s);
    REQUIRE(message);
    CHECK(message->payload() == "from the future");
    CHECK(message->from().node == "later@127.0.0.1");
    CHECK(a.stats().malformed_frames == 0);

    // A HELLO below the lowest version this node speaks is rejected.
    zmq::socket_t older = raw_dealer(context, a.router_endpoint(), Holder::member, 1s, detail::routing_id("older@127.0.0.1", 5));
    older.send(zmq::buffer(encode_frame(Hello{min_protocol_version - 1, "older@127.0.0.1", 5, "tcp://127.0.0.1:1",
                                              "tcp://127.0.0.1:2", make_nonce()})));
    CHECK(wait_until([&] { return a.stats().rejected_peers >= 1; }, 5s));
}

TEST_CASE("an authenticated peer's frame is refused whole when it carries anything but data", "[cluster][bad-input][trust]") {
    Node a(node_options("a@127.0.0.1"));
    auto target = a.spawn();
    // A raw client that knows the cookie and completes the handshake as liar@127.0.0.1.
    zmq::context_t context;
    zmq::socket_t liar =
        raw_dealer(context, a.router_endpoint(), Holder::member, 5s, detail::routing_id("liar@127.0.0.1", 5));
    using namespace liminal::detail::wire;
    const Hello hello{protocol_version, "liar@127.0.0.1", 5, "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", make_nonce()};
    authenticate(liar, hello);

    const auto send_to_target = [&](const std::string& text) {
        return Send{a.creation(), target.pid().id, 1, {}, text};
    };
    // A SEND packed with gossip (which only travels on PUB), then with a HELLO:
    // neither frame may be applied in part.
    liar.send(zmq::buffer(frame_of({send_to_target("mixed"), Delta{true, "c@127.0.0.1", 1, 1, "s", "g", {1}}})));
    liar.send(zmq::buffer(frame_of({send_to_target("mixed too"), hello})));
    // A good frame: the session is authenticated, and the refusals came first.
    liar.send(zmq::buffer(frame_of({send_to_target("alone")})));
    const auto first = target.receive(5s);
    REQUIRE(first);
    CHECK(first->payload() == "alone");
    CHECK(first->from().node == "liar@127.0.0.1");
    CHECK(a.stats().malformed_frames == 2);
    CHECK(a.members("s", "g").empty());

    // Nothing after a BYE is applied, and the session ends with it.
    liar.send(zmq::buffer(frame_of({send_to_target("before"), Bye{}, send_to_target("after")})));
    const auto before = target.receive(5s);
    REQUIRE(before);
    CHECK(before->payload() == "before");
    liar.send(zmq::buffer(frame_of({send_to_target("late")})));
    REQUIRE(wait_until([&] { return a.stats().unauthenticated_frames >= 1; }, 5s));
    CHECK_FALSE(target.try_receive());
    CHECK(a.stats().delivered_remote == 2);
}


TEST_CASE("without the cookie a party cannot connect, and learns nothing", "[cluster][trust]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    zmq::context_t context;
    // A stranger speaking plain ZMTP and one guessing at the keys, each with a
    // HELLO for a's ROUTER, and a guesser subscribing to a's gossip.
    zmq::socket_t plain = raw_dealer(context, a.router_endpoint(), Holder::stranger);
    zmq::socket_t guess = raw_dealer(context, a.router_endpoint(), Holder::guesser);
    zmq::socket_t listener(context, zmq::socket_type::sub);
    listener.set(zmq::sockopt::linger, 0);
    listener.set(zmq::sockopt::subscribe, "");
    liminal::test::secure_as(listener, Holder::guesser);
    listener.connect(a.pub_endpoint());
    const std::string hello = detail::wire::encode_frame(detail::wire::Hello{
        detail::wire::protocol_version, "x@127.0.0.1", 1, "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", {}});
    plain.send(zmq::buffer(hello), zmq::send_flags::dontwait);
    guess.send(zmq::buffer(hello), zmq::send_flags::dontwait);
    REQUIRE(wait_until([&] { return a.stats().refused_connections >= 3; }));

    // a's membership changes, which b learns through gossip ...
    auto worker = a.spawn();
    a.join("s", "g", worker.pid());
    REQUIRE(wait_until([&] { return b.members("s", "g").size() == 1; }));
    // ... but the strangers get no WELCOME and no gossip, and reach nothing of the protocol.
    zmq::message_t got;
    CHECK_FALSE(plain.recv(got, zmq::recv_flags::dontwait));
    CHECK_FALSE(guess.recv(got, zmq::recv_flags::dontwait));
    CHECK_FALSE(listener.recv(got, zmq::recv_flags::dontwait));
    CHECK(a.stats().unauthenticated_frames == 0);
    CHECK(a.stats().malformed_frames == 0);
    CHECK(peers_up(a) == 1);
}

TEST_CASE("a stranger listening where a node connects gets no HELLO", "[cluster][trust]") {
    zmq::context_t context;
    zmq::socket_t listener = raw_router(context, 100ms, Holder::stranger);
    Node a(node_options("a@127.0.0.1", {listener.get(zmq::sockopt::last_endpoint)}));
    // a's encrypted handshake fails against it: a rejects it, and no HELLO (no
    // name, nonce or endpoint) ever reaches it.
    REQUIRE(wait_until([&] { return a.stats().rejected_peers >= 1; }));
    zmq::message_t got;
    CHECK_FALSE(listener.recv(got, zmq::recv_flags::dontwait));
    CHECK(peers_up(a) == 0);
}

TEST_CASE("a connection that takes over a peer's routing id gets nothing of its session", "[cluster][trust]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto target = a.spawn();
    const auto b_creation = b.creation();
    // Even a cookie holder: it connects under b's routing id, and
    // ROUTER_HANDOVER hands it b's place on a's ROUTER. It then sends what b's
    // authenticated session could: a SEND, a SNAPSHOT, a BYE.
    zmq::context_t context;
    zmq::socket_t thief = raw_dealer(context, a.router_endpoint(), Holder::member, 5s,
                                     detail::routing_id(b.name(), b_creation));
    using namespace liminal::detail::wire;
    thief.send(zmq::buffer(frame_of({Send{a.creation(), target.pid().id, 1, {}, "forged"}})));
    thief.send(zmq::buffer(frame_of({Snapshot{1000000, 0, true, {{"s", "g", {1}}}}})));
    thief.send(zmq::buffer(frame_of({Bye{}})));
    REQUIRE(wait_until([&] { return a.stats().unauthenticated_frames >= 3; }));
    CHECK_FALSE(target.try_receive());
    CHECK(a.members("s", "g").empty());
    CHECK(peer_is(a, "b@127.0.0.1", PeerState::up, b_creation));
    CHECK(a.stats().delivered_remote == 0);

    // Once the thief is gone, b's own traffic flows again: its orphaned
    // connection times out, it reconnects and runs the handshake anew.
    thief.close();
    std::optional<Message> real;
    REQUIRE(wait_until(
        [&] {
            b.send(target.pid(), "real");
            real = target.receive(100ms);
            return real.has_value();
        },
        15s));
    CHECK(real->payload() == "real");
    CHECK(real->from().node == "b@127.0.0.1");
}

TEST_CASE("a capture of the traffic between two nodes shows no payload and no node name", "[cluster][trust]") {
    const std::string secret_payload = "payload-that-must-not-show-3f9a";
    for (const auto security : {Security::insecure_plaintext, Security::cluster_secret}) {
        auto a_options = node_options("a@127.0.0.1");
        a_options.security = security;
        Node a(a_options);
        // b reaches a through a relay that records every byte, both ways.
        liminal::test::Relay relay(port_of(a.router_endpoint()));
        auto b_options = node_options("b@127.0.0.1", {relay.endpoint()});
        b_options.security = security;
        Node b(b_options);
        REQUIRE(wait_for_mesh({&a, &b}));
        auto target = a.spawn();
        REQUIRE(b.send(target.pid(), secret_payload) == SendResult::queued);
        const auto message = target.receive(5s);
        REQUIRE(message);
        const std::string captured = relay.captured();
        INFO("security " << (security == Security::cluster_secret ? "cluster_secret" : "insecure_plaintext"));
        REQUIRE(captured.size() > 200);
        const bool in_clear = captured.find(secret_payload) != std::string::npos;
        const bool names_in_clear = captured.find("b@127.0.0.1") != std::string::npos ||
                                    captured.find("a@127.0.0.1") != std::string::npos;
        // Plaintext shows both (so the capture sees what it should); encrypted neither.
        CHECK(in_clear == (security == Security::insecure_plaintext));
        CHECK(names_in_clear == (security == Security::insecure_plaintext));
    }
}

namespace {
// A cookie holder that runs both sides of the handshake by hand, so that a
// node takes it for a peer and subscribes to its PUB, from which it then
// gossips whatever it likes.
struct RawPeer {
    static constexpr std::uint64_t creation = 5;
    const std::string name;
    const std::uint64_t incarnation;  // `creation` unless a test plays a restart
    zmq::context_t& context;
    zmq::socket_t router;
    zmq::socket_t pub;
    zmq::socket_t dealer;
    std::string router_endpoint, pub_endpoint;

    // `send_hwm`: what its ROUTER, DEALER and PUB may queue for the node, in
    // frames (0: ZeroMQ's default).
    RawPeer(zmq::context_t& c, const std::string& target, std::string peer_name = "liar@127.0.0.1",
            std::uint64_t peer_creation = creation, int send_hwm = 0)
        : name(std::move(peer_name)), incarnation(peer_creation), context(c),
          router(raw_router(c, 5000ms, Holder::member, send_hwm)), pub(c, zmq::socket_type::pub),
          dealer(raw_dealer(c, target, Holder::member, 5s, detail::routing_id(name, incarnation), send_hwm)) {
        const auto& keys = detail::wire::cluster_keys(liminal::test::test_cookie);
        pub.set(zmq::sockopt::linger, 0);
        if (send_hwm > 0) pub.set(zmq::sockopt::sndhwm, send_hwm);
        pub.set(zmq::sockopt::curve_server, 1);
        pub.set(zmq::sockopt::curve_secretkey, keys.curve_secret);
        pub.bind("tcp://127.0.0.1:*");
        router_endpoint = router.get(zmq::sockopt::last_endpoint);
        pub_endpoint = pub.get(zmq::sockopt::last_endpoint);
    }
    detail::wire::Answerer self() const { return {name, incarnation, router_endpoint, pub_endpoint}; }

    // Our HELLO to the node, its WELCOME, our AUTH.
    void connect_to_node() {
        using namespace liminal::detail::wire;
        authenticate(dealer, Hello{protocol_version, name, incarnation, router_endpoint, pub_endpoint, make_nonce()});
    }
    // The node's HELLO to us, answered with a WELCOME it accepts.
    void answer_node() {
        using namespace liminal::detail::wire;
        zmq::message_t id, body;
        REQUIRE(router.recv(id));
        REQUIRE(router.recv(body));
        std::vector<WireMessage> decoded;
        const std::string frame = body.to_string();
        REQUIRE(decode_frame(frame, decoded) == DecodeError::none);
        const auto hello = std::get<Hello>(decoded.at(0));
        const Nonce nonce = make_nonce();
        const Proof proof = make_proof(cluster_keys(liminal::test::test_cookie).proof, ProofRole::server, hello.nonce,
                                       nonce, frame.substr(1), self());
        router.send(id, zmq::send_flags::sndmore);
        router.send(zmq::buffer(encode_frame(Welcome{name, incarnation, router_endpoint, pub_endpoint, nonce, proof})));
    }
    // Both handshakes, until `node` has us up.
    void join(const Node& node) {
        connect_to_node();
        answer_node();
        REQUIRE(wait_until([&] { return peer_is(node, name, PeerState::up); }));
    }
    void gossip(std::initializer_list<detail::wire::WireMessage> messages) {
        pub.send(zmq::buffer(frame_of(messages)), zmq::send_flags::dontwait);
    }
};

bool holds(const std::vector<Pid>& pids, const std::string& node, std::uint64_t id) {
    return std::any_of(pids.begin(), pids.end(), [&](const Pid& p) { return p.node == node && p.id == id; });
}
}  // namespace

TEST_CASE("a partial partition is reported only past the grace, and only for a known peer that did not leave",
          "[cluster][faults][trust]") {
    Options options = node_options("a@127.0.0.1");
    options.heartbeat_interval = 100ms;
    options.heartbeat_timeout = 500ms;  // the grace: two intervals, 200 ms
    Node a(options);
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    zmq::context_t context;
    using namespace liminal::detail::wire;
    // A witness with credentials that says what it likes about who it sees:
    // the victim, b, and 4,000 names a never heard of.
    RawPeer witness(context, a.router_endpoint(), "witness@127.0.0.1");
    witness.join(a);
    auto victim = std::make_unique<RawPeer>(context, a.router_endpoint(), "victim@127.0.0.1");
    victim->join(a);
    std::vector<std::string> reach = {"victim@127.0.0.1", "b@127.0.0.1"};
    for (int i = 0; i < 4000; ++i) reach.push_back("stranger" + std::to_string(i) + "@10.9.9.9");
    const auto say = [&] { witness.pub.send(zmq::buffer(frame_of({Digest{witness.name, RawPeer::creation, 0, 0, reach}})), zmq::send_flags::dontwait); };
    const auto seen_up_by = [&](const std::string& name) {
        const auto peers = a.peers();
        const auto* peer = liminal::test::find_peer(peers, name);
        return peer == nullptr ? std::vector<std::string>{"(no record)"} : peer->seen_up_by;
    };
    // Says it until `done`, at most every 20 ms.
    const auto saying = [&](auto done, std::chrono::milliseconds timeout) {
        auto last = std::chrono::steady_clock::now() - 1s;
        return wait_until([&] {
            if (std::chrono::steady_clock::now() - last >= 20ms) {
                say();
                last = std::chrono::steady_clock::now();
            }
            return done();
        }, timeout);
    };

    // a cannot see the victim down before this: the grace runs from later on,
    // a little before this test sees it down (its polls lag).
    const auto gone = std::chrono::steady_clock::now();
    victim.reset();  // its connections close: a sees it down at once
    REQUIRE(wait_until([&] { return peer_is(a, "victim@127.0.0.1", PeerState::down); }));
    // The witness's word right after is no evidence yet: a peer that died is
    // seen down by the others a little later.
    const auto digests = a.stats().digests_in;
    say();
    REQUIRE(wait_until([&] { return a.stats().digests_in > digests; }));
    const bool within_grace = std::chrono::steady_clock::now() - gone < 190ms;
    if (within_grace) CHECK(a.stats().partial_partitions == 0);
    // Said past the grace, it is: a cannot reach the victim, the witness can.
    REQUIRE(saying([&] { return seen_up_by("victim@127.0.0.1") == std::vector<std::string>{witness.name}; }, 5s));
    CHECK(std::chrono::steady_clock::now() - gone >= 200ms);
    const auto event = wait_event(a, [](const PeerEvent& e) { return e.kind == PeerEventKind::partial_partition; });
    REQUIRE(event);
    CHECK(event->name == "victim@127.0.0.1");
    CHECK(event->detail == "witness@127.0.0.1 sees it up");
    // The names a never heard of made no record and no report.
    CHECK(a.peers().size() == 3);

    // b leaves with BYE: however long the witness says it sees b, b is gone.
    b.stop();
    REQUIRE(wait_until([&] { return peer_is(a, "b@127.0.0.1", PeerState::down); }));
    const auto left = std::chrono::steady_clock::now();
    const auto before = a.stats().digests_in;
    CHECK_FALSE(saying([&] { return !seen_up_by("b@127.0.0.1").empty(); }, 1s));  // wait-ok: five graces of digests
    CHECK(std::chrono::steady_clock::now() - left >= 1s);
    CHECK(a.stats().digests_in >= before + 10);
    CHECK(a.stats().partial_partitions == 1);

    // Once no up peer lists the victim, the report ends.
    reach = {};
    CHECK(saying([&] { return seen_up_by("victim@127.0.0.1").empty(); }, 5s));
    CHECK(a.stats().partial_partitions == 1);
}

// Found by tools/soak: short-lived nodes that said BYE came back as links
// that reconnected forever (three sockets each), when a peer that had not
// heard of the BYE yet told of them in PEERS.
// A node that says BYE while our HELLO to it is on its way may still answer
// that HELLO: its WELCOME crossed its BYE, and must not bring it back up.
TEST_CASE("a WELCOME that crossed its sender's BYE does not bring the sender back up", "[cluster][peers][trust]") {
    zmq::context_t context;
    const std::string a_endpoint = liminal::test::reserved_endpoint();
    RawPeer leaver(context, a_endpoint, "leaver@127.0.0.1");
    // A seed: once it leaves, a links to whatever runs there next, so a link survives the BYE.
    auto options = node_options("a@127.0.0.1", {leaver.router_endpoint});
    options.listen = a_endpoint;
    Node a(options);
    using namespace liminal::detail::wire;
    const auto next_message = [&] {
        zmq::message_t id, body;
        REQUIRE(leaver.router.recv(id));  // within its 5 s receive timeout
        REQUIRE(leaver.router.recv(body));
        std::vector<WireMessage> decoded;
        REQUIRE(decode_frame(body.to_string(), decoded) == DecodeError::none);
        REQUIRE(decoded.size() == 1);
        return decoded[0];
    };
    const auto next_hello = [&] { REQUIRE(std::holds_alternative<Hello>(next_message())); };
    next_hello();  // a's HELLO to its seed, left unanswered for now
    leaver.connect_to_node();
    leaver.dealer.send(zmq::buffer(frame_of({Bye{leaver.name, RawPeer::creation}})));
    zmq::message_t ack;
    REQUIRE(leaver.dealer.recv(ack));
    std::vector<WireMessage> decoded;
    REQUIRE(decode_frame(ack.to_string(), decoded) == DecodeError::none);
    REQUIRE(std::holds_alternative<ByeAck>(decoded.at(0)));
    // a let its link go and says HELLO on a fresh one; the incarnation that
    // said BYE answers it with a WELCOME whose proof holds.
    leaver.answer_node();
    // a answers with its AUTH (its own proof, sent before it looks at who
    // answered), then refuses the peer: that link goes too, and a fresh one
    // says HELLO again.
    REQUIRE(std::holds_alternative<Auth>(next_message()));
    next_hello();
    CHECK_FALSE(peer_is(a, leaver.name, PeerState::up));
    CHECK(a.stats().peers_up == 0);
}

TEST_CASE("a node that said BYE is not linked to again when a peer tells of it late", "[cluster][peers]") {
    Node a(node_options("a@127.0.0.1"));
    auto target = a.spawn();
    zmq::context_t context;
    RawPeer leaver(context, a.router_endpoint(), "leaver@127.0.0.1");
    RawPeer teller(context, a.router_endpoint(), "teller@127.0.0.1");
    leaver.join(a);
    teller.join(a);
    using namespace liminal::detail::wire;
    leaver.dealer.send(zmq::buffer(frame_of({Bye{leaver.name, RawPeer::creation}})));
    REQUIRE(wait_until([&] { return peer_is(a, leaver.name, PeerState::down); }));
    // The teller has not heard: it tells a of the leaver, then sends to a
    // process of a in the same frame (delivered: the PEERS was applied).
    teller.dealer.send(zmq::buffer(frame_of(
        {Peers{{{leaver.name, RawPeer::creation, leaver.router_endpoint, leaver.pub_endpoint}}},
         Send{a.creation(), target.pid().id, 1, {}, "after the news"}})));
    REQUIRE(target.receive(5s));
    const auto linking = [&] {
        for (const auto& peer : a.peers())
            if (peer.router_endpoint == leaver.router_endpoint && peer.state == PeerState::connecting) return true;
        return false;
    };
    // Still down, and no link to it: a's links are opened where PEERS is applied.
    CHECK(peer_is(a, leaver.name, PeerState::down));
    CHECK_FALSE(linking());
    // A new incarnation under the name is another matter: that one is linked to.
    teller.dealer.send(zmq::buffer(frame_of({Peers{{{leaver.name, RawPeer::creation + 1, leaver.router_endpoint,
                                                      leaver.pub_endpoint}}}})));
    CHECK(wait_until(linking));
}

// Found by tools/soak: a session outlived its connection, so every
// short-lived node that went without BYE (killed, or BYE lost) held one for
// good, and 4,096 of them would have filled the table against every new HELLO.
TEST_CASE("a session ends with its connection, and a connection on a reused descriptor keeps its own",
          "[cluster][peers][trust]") {
    Node a(node_options("a@127.0.0.1"));
    auto target = a.spawn();
    zmq::context_t context;
    using namespace liminal::detail::wire;
    for (int i = 0; i < 20; ++i) {
        {
            RawPeer gone(context, a.router_endpoint(), "gone" + std::to_string(i) + "@127.0.0.1");
            gone.connect_to_node();
        }  // its sockets close: the connection ends, without BYE
        // The next connection often gets the closed one's descriptor on a's
        // side: its session must not end with the old connection's.
        RawPeer next(context, a.router_endpoint(), "next" + std::to_string(i) + "@127.0.0.1");
        next.connect_to_node();
        next.dealer.send(zmq::buffer(frame_of({Send{a.creation(), target.pid().id, 1, {}, "still mine"}})));
        REQUIRE(target.receive(5s));
    }
    // Every connection has closed: so has every session.
    CHECK(wait_until([&] { return a.stats().sessions == 0; }));
    CHECK(a.stats().unauthenticated_frames == 0);
}

// Found by tools/soak: a short-lived node that stopped before its own link
// to a peer was up said BYE only on its up links, so that peer, linked to it
// the other way, kept reconnecting to it (and listening to its PUB) for good.
TEST_CASE("a stopping node tells a peer it has no up link to, on that peer's own connection",
          "[cluster][peers]") {
    Node c(node_options("c@127.0.0.1"));
    zmq::context_t context;
    // Linked to c (c has our session), but c's HELLO to us is never answered.
    RawPeer watcher(context, c.router_endpoint(), "watcher@127.0.0.1");
    watcher.connect_to_node();
    // Authenticated: c has learned of the watcher and links to it.
    REQUIRE(wait_until([&] { return c.stats().links == 1; }));
    const std::uint64_t creation = c.creation();
    c.stop();
    zmq::message_t reply;
    REQUIRE(watcher.dealer.recv(reply));  // within its 5 s receive timeout
    using namespace liminal::detail::wire;
    std::vector<WireMessage> decoded;
    REQUIRE(decode_frame(reply.to_string(), decoded) == DecodeError::none);
    REQUIRE(decoded.size() == 1);
    CHECK(std::get<Leaving>(decoded[0]) == Leaving{"c@127.0.0.1", creation});
}

// A stop waits for handshakes under way (their AUTH may be on its way), but
// a member that only ever sends HELLO cannot hold it past its grace.
TEST_CASE("handshakes that never finish hold a stop no longer than its BYE grace", "[cluster][peers][trust]") {
    auto options = node_options("c@127.0.0.1");
    options.bye_grace = 500ms;
    auto c = std::make_unique<Node>(options);
    zmq::context_t context;
    using namespace liminal::detail::wire;
    std::vector<std::unique_ptr<RawPeer>> stallers;
    for (int i = 0; i < 8; ++i) {
        stallers.push_back(std::make_unique<RawPeer>(context, c->router_endpoint(), "stall" + std::to_string(i) + "@127.0.0.1"));
        RawPeer& p = *stallers.back();
        p.dealer.send(zmq::buffer(encode_frame(
            Hello{protocol_version, p.name, p.incarnation, p.router_endpoint, p.pub_endpoint, make_nonce()})));
    }
    REQUIRE(wait_until([&] { return c->stats().sessions == 8; }));  // each answered, none authenticated
    const auto start = std::chrono::steady_clock::now();
    c.reset();
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 400ms);  // it did wait for them ...
    CHECK(took < 2s);      // ... for its grace only
}

TEST_CASE("LEAVING is taken from the peer its connection proved, and not before that proof", "[cluster][peers][trust]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    zmq::context_t context;
    RawPeer leaver(context, a.router_endpoint(), "leaver@127.0.0.1");
    leaver.connect_to_node();
    using namespace liminal::detail::wire;
    // a's HELLO to the leaver is answered with a LEAVING in b's name instead
    // of a WELCOME: nobody is proven on that connection yet.
    {
        zmq::message_t id, body;
        REQUIRE(leaver.router.recv(id));
        REQUIRE(leaver.router.recv(body));
        leaver.router.send(id, zmq::send_flags::sndmore);
        leaver.router.send(zmq::buffer(frame_of({Leaving{"b@127.0.0.1", b.creation()}})));
        REQUIRE(wait_until([&] { return a.stats().malformed_frames == 1; }));
        CHECK(peer_is(a, "b@127.0.0.1", PeerState::up));
        // a's link retries its handshake, and this time it is answered.
        REQUIRE(wait_until([&] { return leaver.router.recv(id, zmq::recv_flags::dontwait).has_value(); }, 15s));
        REQUIRE(leaver.router.recv(body));
        const std::string frame = body.to_string();
        std::vector<WireMessage> decoded;
        REQUIRE(decode_frame(frame, decoded) == DecodeError::none);
        const auto hello = std::get<Hello>(decoded.at(0));
        const Nonce nonce = make_nonce();
        const Proof proof = make_proof(cluster_keys(liminal::test::test_cookie).proof, ProofRole::server, hello.nonce,
                                       nonce, frame.substr(1), leaver.self());
        const std::string a_id = id.to_string();
        leaver.router.send(zmq::buffer(a_id), zmq::send_flags::sndmore);
        leaver.router.send(zmq::buffer(encode_frame(Welcome{leaver.name, RawPeer::creation, leaver.router_endpoint,
                                                            leaver.pub_endpoint, nonce, proof})));
        REQUIRE(wait_until([&] { return peer_is(a, leaver.name, PeerState::up); }));
        // Nothing is due on an up link's DEALER, and while the link sends, a
        // does not poll it for input: what comes there unasked (a second
        // WELCOME) is read all the same, counted and dropped, and changes
        // nothing. a sends to the leaver all along (which never reads).
        {
            auto p = a.spawn();
            const liminal::Pid nobody{leaver.name, RawPeer::creation, 1};
            std::atomic<bool> sending{true};
            std::thread sender([&] {
                while (sending.load()) {
                    a.send(p.pid(), nobody, "busy");
                    std::this_thread::sleep_for(2ms);  // wait-ok: paces a load, waits for nothing
                }
            });
            const auto sent = [&] { return a.stats().sends_remote; };
            const auto before = sent();
            const bool busy = wait_until([&] { return sent() >= before + 20; });
            leaver.router.send(zmq::buffer(a_id), zmq::send_flags::sndmore);
            leaver.router.send(zmq::buffer(encode_frame(Welcome{leaver.name, RawPeer::creation,
                                                                leaver.router_endpoint, leaver.pub_endpoint, nonce,
                                                                proof})));
            const bool counted = wait_until([&] { return a.stats().malformed_frames == 2; });
            sending = false;
            sender.join();
            REQUIRE(busy);
            CHECK(counted);
        }
        CHECK(peer_is(a, leaver.name, PeerState::up));
        // Now proven: its LEAVING, still in b's name, says the leaver leaves.
        leaver.router.send(zmq::buffer(a_id), zmq::send_flags::sndmore);
        leaver.router.send(zmq::buffer(frame_of({Leaving{"b@127.0.0.1", b.creation()}})));
    }
    REQUIRE(wait_until([&] { return peer_is(a, leaver.name, PeerState::down); }));
    CHECK(peer_is(a, "b@127.0.0.1", PeerState::up));
    CHECK(peer_is(b, "a@127.0.0.1", PeerState::up));
    // Gone for good: a no longer links to it, however it is told of it.
    CHECK(wait_until([&] { return a.stats().links == 1; }));  // to b only
    CHECK(a.stats().malformed_frames == 2);
}

// Found by tools/soak: a node that died without BYE, or one a peer told of
// that we never reached, was retried (a DEALER and a SUB each) for as long
// as the node ran, and the view a never-linked peer sent stayed in it.
TEST_CASE("a peer that is not up for forget_after is given up, and a seed is not", "[cluster][peers]") {
    const std::string dead_seed = liminal::test::reserved_endpoint();
    auto options = node_options("a@127.0.0.1", {dead_seed});
    options.heartbeat_interval = 200ms;
    options.heartbeat_timeout = 1000ms;
    options.forget_after = 1500ms;
    Node a(options);
    zmq::context_t context;
    using namespace liminal::detail::wire;
    std::optional<RawPeer> crashed(std::in_place, context, a.router_endpoint(), "crashed@127.0.0.1");
    crashed->join(a);
    // Authenticated, and sends its view; a's link to it never comes up.
    std::optional<RawPeer> ghost(std::in_place, context, a.router_endpoint(), "ghost@127.0.0.1");
    ghost->connect_to_node();
    ghost->dealer.send(zmq::buffer(frame_of({Snapshot{1, 0, true, {{"s", "g", {7}}}}})));
    // And a node a is told of, where nothing listens.
    crashed->dealer.send(zmq::buffer(frame_of(
        {Peers{{{"never@127.0.0.1", 9, liminal::test::reserved_endpoint(), liminal::test::reserved_endpoint()}}}})));
    REQUIRE(wait_until([&] { return holds(a.members("s", "g"), "ghost@127.0.0.1", 7) && a.stats().links == 4; }));
    // The crashed node and the ghost go without BYE.
    crashed.reset();
    ghost.reset();
    REQUIRE(wait_until([&] { return peer_is(a, "crashed@127.0.0.1", PeerState::down); }));
    // Given up on, all three; the seed is retried still.
    REQUIRE(wait_until([&] { return a.stats().links == 1; }, 10s));
    const auto peers = a.peers();
    CHECK(liminal::test::find_peer(peers, "crashed@127.0.0.1") == nullptr);
    CHECK(liminal::test::find_peer(peers, "ghost@127.0.0.1") == nullptr);
    CHECK(liminal::test::find_peer(peers, "never@127.0.0.1") == nullptr);
    CHECK_FALSE(holds(a.members("s", "g"), "ghost@127.0.0.1", 7));
    CHECK(std::any_of(peers.begin(), peers.end(), [&](const PeerInfo& p) { return p.router_endpoint == dead_seed; }));
    // Forgotten is not banned: the same node back is met again.
    RawPeer again(context, a.router_endpoint(), "crashed@127.0.0.1");
    again.join(a);
}

// The losses a receiving node counts itself (PROTOCOL §8): each message once,
// under its reason, and the ledger still adds up.
TEST_CASE("a PUBLISH nobody here subscribes to, and a frame from an old incarnation, are counted once each",
          "[cluster][ledger]") {
    Node a(node_options("a@127.0.0.1"));
    auto target = a.spawn();
    zmq::context_t context;
    using namespace liminal::detail::wire;
    // An incarnation's connection to a stays while a meets the next one
    // through its own link (told of it, by the old one itself here).
    RawPeer old(context, a.router_endpoint(), "phoenix@127.0.0.1", RawPeer::creation);
    old.connect_to_node();
    RawPeer fresh(context, a.router_endpoint(), "phoenix@127.0.0.1", RawPeer::creation + 1);
    old.dealer.send(zmq::buffer(frame_of(
        {Peers{{{fresh.name, fresh.incarnation, fresh.router_endpoint, fresh.pub_endpoint}}}})));
    fresh.answer_node();
    REQUIRE(wait_until([&] { return peer_is(a, fresh.name, PeerState::up, fresh.incarnation); }));
    // Two messages in one frame of the old incarnation: two drops.
    old.dealer.send(zmq::buffer(frame_of({Send{a.creation(), target.pid().id, 1, {}, "from the past"},
                                          Send{a.creation(), target.pid().id, 1, {}, "and again"}})));
    REQUIRE(wait_until([&] { return a.stats().dropped_stale_creation == 2; }));
    // A PUBLISH for a channel without subscribers here (they left on the way).
    fresh.connect_to_node();
    fresh.dealer.send(zmq::buffer(frame_of({Publish{"nobody", 1, MessageId{}, 1, 0, {}, "x", {}}})));
    REQUIRE(wait_until([&] { return a.stats().dropped_no_such_process == 1; }));
    const Stats s = a.stats();
    CHECK(s.delivered_remote == 0);
    CHECK(s.accepted == 3);
    CHECK(s.accepted == s.received + s.dropped_no_such_process + s.dropped_stale_creation + s.in_flight_mailboxes);
}

TEST_CASE("a peer's gossip is applied only for that peer as its origin", "[cluster][trust]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto worker = b.spawn();
    b.join("s", "g", worker.pid());
    REQUIRE(wait_until([&] { return holds(a.members("s", "g"), "b@127.0.0.1", worker.pid().id); }));

    zmq::context_t context;
    RawPeer liar(context, a.router_endpoint());
    liar.join(a);
    using namespace liminal::detail::wire;
    liar.dealer.send(zmq::buffer(frame_of({Snapshot{0, 0, true, {}}})));
    // Its own JOIN is applied (repeated until a's SUB has connected; duplicates are ignored) ...
    REQUIRE(wait_until([&] {
        liar.gossip({Delta{true, liar.name, RawPeer::creation, 1, "s", "g", {7}}});
        return holds(a.members("s", "g"), liar.name, 7);
    }));
    // ... but b's member removed and another added in b's name are not, nor
    // anything in a frame that carries one such delta.
    const std::uint64_t b_seq = 1;  // b's one JOIN so far
    const auto served_before = b.stats().resyncs_served;
    liar.gossip({Delta{false, "b@127.0.0.1", b.creation(), b_seq + 1, "s", "g", {worker.pid().id}}});
    liar.gossip({Delta{true, liar.name, RawPeer::creation, 2, "s", "g", {8}},
                 Delta{true, "b@127.0.0.1", b.creation(), b_seq + 2, "s", "g", {99}}});
    liar.gossip({Digest{"b@127.0.0.1", b.creation(), 1000, 1, {}}});
    REQUIRE(wait_until([&] { return a.stats().forged_gossip >= 3; }));
    liar.gossip({Delta{true, liar.name, RawPeer::creation, 2, "s", "g", {9}}});
    REQUIRE(wait_until([&] { return holds(a.members("s", "g"), liar.name, 9); }));
    const auto members = a.members("s", "g");
    CHECK(holds(members, "b@127.0.0.1", worker.pid().id));
    CHECK_FALSE(holds(members, "b@127.0.0.1", 99));
    CHECK_FALSE(holds(members, liar.name, 8));
    CHECK(a.stats().forged_gossip == 3);
    CHECK(b.stats().resyncs_served == served_before);  // the forged digest asked b for nothing either
}

TEST_CASE("a restarted peer's backfill stays its view when the old incarnation is found gone", "[cluster][faults]") {
    Node a(node_options("a@127.0.0.1"));
    zmq::context_t context;
    using namespace liminal::detail::wire;
    const std::string b = "b@127.0.0.1";
    // The old incarnation is up at a with one member, and goes silent (its
    // sockets stay open: a hung host, not a closed connection).
    RawPeer old(context, a.router_endpoint(), b, 5);
    old.join(a);
    old.dealer.send(zmq::buffer(frame_of({Snapshot{1, 0, true, {{"s", "g", {1}}}}})));
    REQUIRE(wait_until([&] { return holds(a.members("s", "g"), b, 1); }));

    // The new incarnation, at other endpoints, handshakes and backfills
    // before a's own link to it is up ...
    RawPeer fresh(context, a.router_endpoint(), b, 6);
    fresh.connect_to_node();
    fresh.dealer.send(zmq::buffer(frame_of({Snapshot{1, 0, true, {{"s", "g", {2, 3}}}}})));
    const auto fresh_view = [&] {
        const auto members = a.members("s", "g");
        return members == std::vector<Pid>{Pid{b, 6, 2}, Pid{b, 6, 3}};
    };
    REQUIRE(wait_until(fresh_view));
    // ... then that link comes up, which tells a the old one is gone: its one
    // member is purged, and the new incarnation's view stays, acknowledged
    // to the new incarnation. (It sends no digest that would repair a loss.)
    fresh.answer_node();
    REQUIRE(wait_until([&] { return peer_is(a, b, PeerState::up, 6); }));
    CHECK(fresh_view());
    CHECK(a.stats().members_purged == 1);
    bool acknowledged = false;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!acknowledged && std::chrono::steady_clock::now() < deadline) {
        zmq::message_t id, body;
        if (!fresh.router.recv(id) || !fresh.router.recv(body)) break;
        std::vector<WireMessage> decoded;
        const std::string frame = body.to_string();
        if (decode_frame(frame, decoded) != DecodeError::none) continue;
        for (const auto& message : decoded) {
            const auto* ack = std::get_if<DigestAck>(&message);
            acknowledged = acknowledged || (ack != nullptr && ack->creation == 6 && ack->seq == 1);
        }
    }
    CHECK(acknowledged);
}

TEST_CASE("the view of a peer whose link never comes up is dropped within two heartbeat timeouts", "[cluster][faults]") {
    Options options = node_options("a@127.0.0.1");
    options.heartbeat_interval = 200ms;
    options.heartbeat_timeout = 1000ms;
    Node a(options);
    zmq::context_t context;
    using namespace liminal::detail::wire;
    // It proves itself and backfills, but never answers a's own HELLO.
    RawPeer ghost(context, a.router_endpoint(), "ghost@127.0.0.1");
    ghost.connect_to_node();
    ghost.dealer.send(zmq::buffer(frame_of({Snapshot{1, 0, true, {{"s", "g", {7}}}}})));
    REQUIRE(wait_until([&] { return holds(a.members("s", "g"), ghost.name, 7); }));
    const auto shown = std::chrono::steady_clock::now();
    CHECK(wait_until([&] { return a.members("s", "g").empty(); }, 5s));
    CHECK(std::chrono::steady_clock::now() - shown >= 1000ms);  // not before its link had its chance (2 s)
    CHECK(a.stats().members_purged == 1);
    CHECK_FALSE(peer_is(a, ghost.name, PeerState::up));
}

// Found by the purge benchmark: a node killed while a peer's own link to it
// was still coming up (its view had come as its backfill) was purged there
// only two heartbeat timeouts later, not at once as everywhere else.
TEST_CASE("the view of a peer whose connection closes before our link to it is up is dropped at once",
          "[cluster][faults]") {
    Options options = node_options("a@127.0.0.1");
    options.heartbeat_timeout = 5000ms;  // the fallback would take 10 s
    Node a(options);
    zmq::context_t context;
    using namespace liminal::detail::wire;
    auto ghost = std::make_unique<RawPeer>(context, a.router_endpoint(), "ghost@127.0.0.1");
    ghost->connect_to_node();
    ghost->dealer.send(zmq::buffer(frame_of({Snapshot{1, 0, true, {{"s", "g", {7}}}}})));
    REQUIRE(wait_until([&] { return holds(a.members("s", "g"), "ghost@127.0.0.1", 7); }));
    const auto closed = std::chrono::steady_clock::now();
    ghost.reset();  // killed: its connections close, and it never answered a's HELLO
    CHECK(wait_until([&] { return a.members("s", "g").empty(); }, 5s));
    CHECK(std::chrono::steady_clock::now() - closed < 2s);
    CHECK(a.stats().members_purged == 1);
}

TEST_CASE("a cookie holder that connects as a linked peer and hangs up does not get that peer's view dropped",
          "[cluster][faults][trust]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto worker = b.spawn();
    b.join("s", "g", worker.pid());
    REQUIRE(wait_until([&] { return holds(a.members("s", "g"), "b@127.0.0.1", worker.pid().id); }));
    zmq::context_t context;
    {
        // b's name and creation, so b's routing id: it takes b's session over, then closes.
        RawPeer impostor(context, a.router_endpoint(), "b@127.0.0.1", b.creation());
        impostor.connect_to_node();
    }
    // b still reaches a (reconnecting if it was pushed out), and a still holds b's member.
    auto target = a.spawn();
    REQUIRE(wait_until([&] { return b.send(target.pid(), "after") == SendResult::queued && target.receive(100ms); }, 10s));
    CHECK(holds(a.members("s", "g"), "b@127.0.0.1", worker.pid().id));
    CHECK(peer_is(a, "b@127.0.0.1", PeerState::up));
    CHECK(a.stats().members_purged == 0);
}

TEST_CASE("a gap found just after a resync is asked for again once the backoff has passed, not dropped",
          "[cluster][faults]") {
    Node a(node_options("a@127.0.0.1"));
    zmq::context_t context;
    using namespace liminal::detail::wire;
    RawPeer origin(context, a.router_endpoint(), "origin@127.0.0.1");
    origin.join(a);
    origin.dealer.send(zmq::buffer(frame_of({Snapshot{0, 0, true, {}}})));
    // Resyncs a asks the origin for, over its link to the origin's ROUTER.
    int resyncs = 0;
    const auto count_resyncs = [&](std::chrono::milliseconds within) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        while (std::chrono::steady_clock::now() < deadline) {
            zmq::pollitem_t item{origin.router.handle(), 0, ZMQ_POLLIN, 0};
            if (zmq::poll(&item, 1, 50ms) <= 0) continue;
            zmq::message_t id, body;
            if (!origin.router.recv(id) || !origin.router.recv(body)) break;
            std::vector<WireMessage> decoded;
            const std::string frame = body.to_string();
            if (decode_frame(frame, decoded) != DecodeError::none) continue;
            for (const auto& message : decoded) resyncs += std::holds_alternative<Resync>(message) ? 1 : 0;
        }
    };
    // Seq 1 is lost: 2 is a gap, and a asks; 3, right after, is a gap too,
    // within the backoff. (The origin never answers, nor sends a digest.)
    REQUIRE(wait_until([&] {
        origin.gossip({Delta{true, origin.name, RawPeer::creation, 2, "s", "g", {2}}});
        count_resyncs(50ms);
        return resyncs >= 1;
    }));
    origin.gossip({Delta{true, origin.name, RawPeer::creation, 3, "s", "g", {3}}});
    CHECK(wait_until(
        [&] {
            count_resyncs(50ms);
            return resyncs >= 2;
        },
        2s));
}

// pg_SUITE's thundering_herd: a node with 10,000 groups, flooded by a peer
// with 2,000 syncs (here both a snapshot and a request for one, each), still
// serves its other peers and its own calls at once.
TEST_CASE("pg_SUITE thundering_herd: 2,000 syncs from one peer do not stall a node with 10,000 groups",
          "[cluster][pg][bounded]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto self = a.spawn();
    for (int group = 0; group < 10'000; ++group) a.join("thundering_herd", "group" + std::to_string(group), self.pid());
    REQUIRE(a.sync_membership(10s).ok);
    zmq::context_t context;
    using namespace liminal::detail::wire;
    RawPeer herd(context, a.router_endpoint(), "herd@127.0.0.1");
    herd.join(a);
    const auto served_before = a.stats().resyncs_served;
    for (int i = 0; i < 2000; ++i) {
        herd.dealer.send(zmq::buffer(frame_of({Snapshot{static_cast<std::uint64_t>(i), 0, true, {{"thundering_herd", "group1", {7, 7}}}},
                                               Resync{}})));
    }
    // The next calls must not wait for the herd: a join here, and a join on
    // b seen here (through a's I/O thread).
    const auto started = std::chrono::steady_clock::now();
    a.join("thundering_herd", "thundering_herd", self.pid());
    auto worker = b.spawn();
    b.join("thundering_herd", "from b", worker.pid());
    CHECK(wait_until([&] { return a.members("thundering_herd", "from b") == std::vector<Pid>{worker.pid()}; }, 5s));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    INFO("a join, and b's join seen at a, took " << took.count() << " ms under the herd");
    // Not a timing claim: a stall. Unfixed, the herd held a's I/O thread for
    // over 5 s; this passes in well under a second (about 1 s under TSan).
    CHECK(took < 3000ms);
    REQUIRE(wait_until([&] { return holds(a.members("thundering_herd", "group1"), herd.name, 7); }));
    CHECK(a.members("thundering_herd", "group1").size() == 2);  // a's own and the herd's, once
    const auto served = a.stats().resyncs_served - served_before;
    INFO(served << " of the herd's 2,000 resyncs were served");
    CHECK(served < 100);  // coalesced: at most one per resync backoff
}

TEST_CASE("a connection that subscribes to a node's PUB gets its digest at once, not at the next periodic one",
          "[cluster][faults]") {
    Options options = node_options("b@127.0.0.1");
    options.digest_interval = 60s;  // the periodic one would come far too late
    Node b(options);
    auto worker = b.spawn();
    b.join("s", "g", worker.pid());
    zmq::context_t context;
    using namespace liminal::detail::wire;
    for (int connection = 0; connection < 2; ++connection) {  // each new connection, not only the first
        zmq::socket_t sub(context, zmq::socket_type::sub);
        sub.set(zmq::sockopt::linger, 0);
        sub.set(zmq::sockopt::rcvtimeo, 5000);
        secure_as(sub, Holder::member);
        sub.set(zmq::sockopt::subscribe, "");
        sub.connect(b.pub_endpoint());
        bool digest = false;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!digest && std::chrono::steady_clock::now() < deadline) {
            zmq::message_t frame;
            if (!sub.recv(frame)) break;
            std::vector<WireMessage> decoded;
            const std::string bytes = frame.to_string();
            if (decode_frame(bytes, decoded) != DecodeError::none) continue;
            for (const auto& message : decoded) {
                const auto* d = std::get_if<Digest>(&message);
                digest = digest || (d != nullptr && d->origin == b.name() && d->seq == 1);
            }
        }
        CHECK(digest);
    }
}

namespace {
long self_rss_mib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
    }
    return -1;
}
}  // namespace

TEST_CASE("a peer cannot make a few kept messages pin its large frames in a mailbox", "[cluster][bounded][trust]") {
    Node a(node_options("a@127.0.0.1"));
    auto target = a.spawn();  // never reads
    zmq::context_t context;
    RawPeer liar(context, a.router_endpoint());
    liar.join(a);
    using namespace liminal::detail::wire;
    // Each frame: one tiny SEND that is kept, and 800 KiB addressed to no one.
    // Were the kept message a view into its frame, 200 of them would hold
    // 160 MB.
    const std::string filler(800 * 1024, 'f');
    constexpr int frames = 200;
    [[maybe_unused]] const long before = self_rss_mib();  // read only where RSS means something (not under ASan)
    for (int i = 0; i < frames; ++i) {
        liar.dealer.send(zmq::buffer(frame_of({Send{a.creation(), target.pid().id, 1, {}, "kept"},
                                               Send{a.creation(), 999'999, 1, {}, filler}})));
    }
    REQUIRE(wait_until([&] { return target.queued() == frames; }, 30s));
    CHECK(a.stats().dropped_no_such_process == frames);
#ifndef __SANITIZE_ADDRESS__  // ASan keeps freed memory in quarantine
    const long after = self_rss_mib();
    INFO("RSS " << before << " -> " << after << " MiB");
    CHECK(after - before < 64);
#endif
    const auto message = target.try_receive();
    REQUIRE(message);
    CHECK(message->payload() == "kept");
    CHECK(message->from().node == liar.name);
}

namespace {
// What a's other peer saw while a liar flooded a for 3 s.
struct Flood {
    std::uint64_t sent = 0;   // junk frames that left the liar
    int round_trips = 0;      // b -> a -> b meanwhile, each timed
    double slowest_ms = 0;
    bool answered = true;     // every one was
    long rss_before = 0, rss_peak = 0;  // this process's, MiB
};

// Frames just under a node's frame limit, each undecodable (0xc1 is no msgpack type).
const std::string& junk_frame() {
    static const std::string junk(Limits{}.max_frame_bytes - 64, '\xc1');
    return junk;
}

// Runs `send_one` (one junk frame; false when the liar's pipe to a is full)
// for 3 s on a thread of its own, while b and a exchange messages on this one.
Flood flood_while_talking(Node& a, Node& b, const std::function<bool()>& send_one) {
    Flood result;
    result.rss_before = result.rss_peak = self_rss_mib();
    std::atomic<std::uint64_t> sent{0};
    std::atomic<bool> flooding{true};
    std::thread flood([&] {
        const auto until = std::chrono::steady_clock::now() + 3s;
        while (std::chrono::steady_clock::now() < until) {
            bool took = false;
            try {
                took = send_one();
            } catch (const zmq::error_t&) {  // no connection to a at this moment (EHOSTUNREACH): not sent
            }
            if (took)
                ++sent;
            else
                std::this_thread::sleep_for(1ms);  // wait-ok: paces a flood that found the pipe full
        }
        flooding = false;
    });
    auto at_a = a.spawn();
    auto at_b = b.spawn();
    while (flooding.load() && result.answered) {
        const auto start = std::chrono::steady_clock::now();
        result.answered = b.send(at_b.pid(), at_a.pid(), "ping") == SendResult::queued && at_a.receive(10s) &&
                          a.send(at_a.pid(), at_b.pid(), "pong") == SendResult::queued && at_b.receive(10s);
        result.slowest_ms = std::max(
            result.slowest_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        ++result.round_trips;
        result.rss_peak = std::max(result.rss_peak, self_rss_mib());
    }
    flood.join();
    result.sent = sent;
    return result;
}

// a and b meshed, and a liar (a cookie holder whose sockets queue at most 4
// frames for a, so that little of a flood waits on its side) proven to a.
struct LiarBesidePair {
    Node a{node_options("a@127.0.0.1")};
    Node b{node_options("b@127.0.0.1", {a.router_endpoint()})};
    zmq::context_t context;
    RawPeer liar{context, a.router_endpoint(), "liar@127.0.0.1", RawPeer::creation, 4};
    LiarBesidePair() {
        REQUIRE(wait_for_mesh({&a, &b}));
        liar.join(a);
    }
};

// What holds whatever the liar floods: nobody waits long, a's memory stays
// bounded, and a and b still see each other up.
void check_flood(const Flood& flood, const Node& a, const Node& b) {
    INFO(flood.sent << " junk frames of " << junk_frame().size() << " bytes sent in 3 s; " << flood.round_trips
                    << " round trips a <-> b meanwhile, the slowest " << flood.slowest_ms << " ms; RSS "
                    << flood.rss_before << " -> peak " << flood.rss_peak << " MiB");
    CHECK(flood.answered);
    CHECK(flood.sent >= 20);  // the flood did come: 20 MiB at least
    CHECK(flood.slowest_ms < 1000);
#ifndef __SANITIZE_ADDRESS__  // ASan keeps freed memory in quarantine
    if (liminal::test::rss_is_checked) CHECK(flood.rss_peak - flood.rss_before < 64);  // nor under TSan's shadow memory
#endif
    CHECK(peer_is(a, "b@127.0.0.1", PeerState::up));
    CHECK(peer_is(b, "a@127.0.0.1", PeerState::up));
}
}  // namespace

// A cookie holder that completes both handshakes, then floods the DEALER a
// node sends to it on, where only replies (or a stopping peer's LEAVING)
// may come. While the node sends there it does not poll that DEALER for
// input (Link::input_swept): the flood is read at the sweep, counted and
// dropped. Whatever the liar sends, the node holds no more of it than
// ZeroMQ's receive high-water mark allows, and its other peers do not wait.
TEST_CASE("a peer flooding the DEALER a node sends to it on is read, counted and dropped, and holds nobody up",
          "[cluster][bounded][trust]") {
    LiarBesidePair pair;
    auto& [a, b, context, liar] = pair;
    // A full pipe to a says so: every frame sent is one that a must read.
    liar.router.set(zmq::sockopt::router_mandatory, 1);
    const std::string to_a = detail::routing_id("a@127.0.0.1", a.creation());

    // a sends to the liar all along (which never reads), so its link to it sends.
    auto busy = a.spawn();
    const Pid nobody{liar.name, RawPeer::creation, 1};
    std::atomic<bool> running{true};
    std::thread sender([&] {
        while (running.load()) {
            a.send(busy.pid(), nobody, "busy");
            std::this_thread::sleep_for(2ms);  // wait-ok: paces a load, waits for nothing
        }
    });
    const auto sends_before = a.stats().sends_remote;
    const bool sending = wait_until([&] { return a.stats().sends_remote >= sends_before + 20; });
    const std::uint64_t malformed_before = a.stats().malformed_frames;
    const Flood flood = flood_while_talking(a, b, [&] {
        // EAGAIN: a has not read what came before.
        if (!liar.router.send(zmq::buffer(to_a), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return false;
        liar.router.send(zmq::buffer(junk_frame()), zmq::send_flags::dontwait);
        return true;
    });
    running = false;
    sender.join();

    REQUIRE(sending);
    check_flood(flood, a, b);
    // Every frame that left the liar is read, counted and dropped: nothing of it is delivered, nothing lost uncounted.
    CHECK(wait_until([&] { return a.stats().malformed_frames - malformed_before == flood.sent; }, 30s));
    CHECK(busy.queued() == 0);
}

// The same liar floods the node's ROUTER, where its data comes: the junk is
// counted and dropped frame by frame, and the other peers' messages, read
// from the same ROUTER, do not wait behind it.
TEST_CASE("a peer flooding a node's ROUTER with junk is counted, holds no memory, and holds nobody up",
          "[cluster][bounded][trust]") {
    LiarBesidePair pair;
    auto& [a, b, context, liar] = pair;
    const std::uint64_t malformed_before = a.stats().malformed_frames;
    const Flood flood = flood_while_talking(
        a, b, [&] { return liar.dealer.send(zmq::buffer(junk_frame()), zmq::send_flags::dontwait).has_value(); });
    check_flood(flood, a, b);
    CHECK(wait_until([&] { return a.stats().malformed_frames - malformed_before == flood.sent; }, 30s));
}

// And its gossip: a reads the liar's PUB on a SUB of its own, whose
// receive high-water mark bounds what waits there. A PUB drops what a
// subscriber's pipe has no room for (no flow control on gossip), so a
// counts only what reached it.
TEST_CASE("a peer flooding its gossip with junk is counted, holds no memory, and holds nobody up",
          "[cluster][bounded][trust]") {
    LiarBesidePair pair;
    auto& [a, b, context, liar] = pair;
    // a's SUB is on: what the liar publishes reaches it.
    const std::uint64_t malformed_before = a.stats().malformed_frames;
    REQUIRE(wait_until([&] {
        liar.pub.send(zmq::buffer(junk_frame()), zmq::send_flags::dontwait);
        return a.stats().malformed_frames > malformed_before;
    }));
    const std::uint64_t counted_before = a.stats().malformed_frames;
    const Flood flood = flood_while_talking(
        a, b, [&] { return liar.pub.send(zmq::buffer(junk_frame()), zmq::send_flags::dontwait).has_value(); });
    check_flood(flood, a, b);
    // What reached a is counted; a PUB does not say what it dropped.
    CHECK(wait_until([&] { return a.stats().malformed_frames - counted_before >= 20; }));
    CHECK(a.stats().malformed_frames - counted_before <= flood.sent);
}

TEST_CASE("a HELLO under a routing id that is not its sender's is refused", "[cluster][trust]") {
    Node a(node_options("a@127.0.0.1"));
    zmq::context_t context;
    // A cookie holder claiming to be x, on a connection named after y.
    zmq::socket_t raw =
        raw_dealer(context, a.router_endpoint(), Holder::member, 500ms, detail::routing_id("y@127.0.0.1", 9));
    raw.send(zmq::buffer(detail::wire::encode_frame(detail::wire::Hello{
        detail::wire::protocol_version, "x@127.0.0.1", 9, "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", {}})));
    REQUIRE(wait_until([&] { return a.stats().rejected_peers >= 1; }));
    zmq::message_t welcome;
    CHECK_FALSE(raw.recv(welcome, zmq::recv_flags::dontwait));
}

TEST_CASE("anything but subscriptions sent to a node's PUB is dropped and counted", "[cluster][bad-input][trust]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    // A cookie holder's XSUB may send its PUB anything at all.
    zmq::context_t context;
    zmq::socket_t raw(context, zmq::socket_type::xsub);
    raw.set(zmq::sockopt::linger, 0);
    raw.set(zmq::sockopt::sndhwm, 0);  // so that the attacker's own socket drops none of it
    liminal::test::secure_as(raw, Holder::member);
    raw.connect(a.pub_endpoint());
    // An XSUB drops what it sends before it is connected: send until the node counts one.
    REQUIRE(wait_until([&] {
        raw.send(zmq::buffer(std::string("\x05junk", 5)));
        return a.stats().malformed_frames >= 1;
    }));
    const auto before = a.stats().malformed_frames;
    for (int i = 0; i < 1000; ++i) raw.send(zmq::buffer(std::string("\x05junk", 5)));
    raw.send(zmq::str_buffer("\x01"));  // a real subscription, accepted
    raw.send(zmq::str_buffer(""));
    // (some warm-up junk may still be on its way: at least these 1,001)
    CHECK(wait_until([&] { return a.stats().malformed_frames >= before + 1001; }));
    // The node still gossips to its peers.
    auto worker = a.spawn();
    a.join("s", "g", worker.pid());
    CHECK(wait_until([&] { return b.members("s", "g").size() == 1; }));
}
