// Overload: every queue bounded, each OverflowPolicy doing what it says, and
// a publisher flat out against a subscriber that never reads staying under
// the bound its options give (as separate processes, RSS read from /proc).

#include "support/child.hpp"
#include "support/cluster.hpp"
#include "support/sanitizers.hpp"

#include "node/test_hooks.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>

using namespace std::chrono_literals;
using namespace liminal;
using liminal::test::node_options;
using liminal::test::wait_event;
using liminal::test::wait_for_mesh;
using liminal::test::wait_until;

namespace {

// Holds the thread that calls hold() (a node's I/O thread, from a callback)
// until release(), bounded so that a failing test never hangs the suite.
class Stall {
public:
    // Releases the holder and waits for it to be out of hold(), which uses
    // this object until it returns.
    ~Stall() {
        std::unique_lock lock(mutex_);
        released_ = true;
        changed_.notify_all();
        changed_.wait_for(lock, 30s, [&] { return !inside_; });
    }
    void hold() {
        std::unique_lock lock(mutex_);
        entered_ = inside_ = true;
        changed_.notify_all();
        changed_.wait_for(lock, 30s, [&] { return released_; });
        inside_ = false;
        changed_.notify_all();
    }
    bool entered(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return entered_; });
    }
    void release() {
        std::lock_guard lock(mutex_);
        released_ = true;
        changed_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool entered_ = false, released_ = false, inside_ = false;
};

// b's I/O thread stops reading: a message from a to b's `stuck` process
// runs a callback that holds it.
struct StalledReceiver {
    Process stuck;
    Stall stall;
    StalledReceiver(Node& a, Node& b) : stuck(b.spawn()) {
        stuck.on_message([this](Message) { stall.hold(); }, Process::CallbackThread::delivering);
        auto from = a.spawn();
        REQUIRE(a.send(from.pid(), stuck.pid(), "stop reading") == SendResult::queued);
        REQUIRE(stall.entered(10s));
    }
};

std::string numbered(std::size_t i) {
    char head[12];
    std::snprintf(head, sizeof head, "%010zu", i);
    return std::string(head) + std::string(1014, 'x');
}

std::size_t number_of(const Message& m) { return std::stoul(std::string(m.payload().substr(0, 10))); }

// A test that holds a node's I/O thread may hold it longer than the default
// heartbeat timeout: a connection whose input is stopped (its pipe full) does
// not read heartbeats either and would be taken down, and libzmq 4.3.4 then
// may abort on reconnecting it (README, "Known issues"). Nodes here wait longer.
Options patient(Options options) {
    options.heartbeat_timeout = 30s;
    return options;
}

Options receiver_options(const std::string& name, const std::string& seed) {
    auto options = patient(node_options(name, {seed}));
    // Room for everything the sender may hold back and then let go.
    options.limits.mailbox_capacity = 1'000'000;
    options.limits.mailbox_bytes = 1u << 30;
    return options;
}

// A process of b subscribed to `flood`, once a, the publisher, knows it.
Process subscribe_flood(Node& a, Node& b) {
    auto sub = b.spawn();
    b.subscribe("flood", sub.pid());
    REQUIRE(wait_until([&] { return a.members("channels", "flood").size() == 1; }));
    return sub;
}

// Everything `sub` has, as message numbers, once `expected` arrived.
std::vector<std::size_t> drain(Process& sub, std::size_t expected) {
    std::vector<std::size_t> got;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (got.size() < expected && std::chrono::steady_clock::now() < deadline) {
        if (auto m = sub.receive(100ms)) got.push_back(number_of(*m));
    }
    while (auto m = sub.receive(200ms)) got.push_back(number_of(*m));  // and nothing more
    return got;
}

}  // namespace

TEST_CASE("block: a publisher waits for a slow peer, gets would_block after the timeout, and nothing is lost",
          "[overload][policy]") {
    auto a_options = patient(node_options("a@127.0.0.1"));
    a_options.limits.peer_overflow = OverflowPolicy::block;
    a_options.limits.block_timeout = 200ms;
    Node a(a_options);
    Node b(receiver_options("b@127.0.0.1", a.router_endpoint()));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto sub = subscribe_flood(a, b);
    StalledReceiver stalled(a, b);

    std::size_t accepted = 0;
    std::chrono::steady_clock::duration blocked{};
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        const auto start = std::chrono::steady_clock::now();
        const auto result = a.publish("flood", numbered(accepted));
        if (result.would_block) {
            blocked = std::chrono::steady_clock::now() - start;
            CHECK(result.nodes == 0);
            break;
        }
        REQUIRE(result.nodes == 1);
        ++accepted;
    }
    INFO(accepted << " accepted before would_block");
    CHECK(blocked >= 180ms);  // it waited for room ...
    CHECK(blocked < 2s);      // ... for about block_timeout, no longer
    const auto stats = a.stats();
    CHECK(stats.would_block == 1);
    CHECK(stats.dropped_backpressure == 0);
    CHECK(stats.dropped_queue_full == 0);
    CHECK(stats.slow_consumers >= 1);
    const auto event = wait_event(a, [](const PeerEvent& e) { return e.kind == PeerEventKind::slow_consumer; });
    REQUIRE(event);
    CHECK(event->name == "b@127.0.0.1");

    // Let b read again: every accepted message arrives, in order, once.
    stalled.stall.release();
    const auto got = drain(sub, accepted);
    REQUIRE(got.size() == accepted);
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == i);
    // And the publisher is free again.
    CHECK_FALSE(a.publish("flood", numbered(accepted)).would_block);
}

TEST_CASE("block: the outbound queue makes room only once what it gave up is in the peer's queue, so nothing is lost",
          "[overload][policy]") {
    // The I/O thread takes a batch from the outbound queue and then packs it
    // into b's queue, which says "congested" only once the messages are in.
    // A hook holds that moment open (as a descheduled I/O thread would) until
    // the publisher has queued half the outbound queue again, or 300 ms pass.
    // Were the room back on taking, the publisher would pass the congestion
    // check with a whole queue more than b's hard limit allows for, and
    // messages a accepted would be dropped there.
    constexpr std::size_t outbound = 1u << 20;
    std::atomic<std::size_t> published{0};
    std::atomic<int> holds{0};
    const auto publisher = std::this_thread::get_id();
    liminal::detail::TestHooks hooks;
    hooks.packing = [&](std::size_t bytes) {
        if (std::this_thread::get_id() == publisher || bytes < outbound / 16) return;
        holds.fetch_add(1);
        const std::size_t before = published.load();
        const auto until = std::chrono::steady_clock::now() + 300ms;
        // A helper thread: no Catch2 assertions here, and a deadline instead of a sleep.
        while (published.load() - before < outbound / 2 / 1024 && std::chrono::steady_clock::now() < until)
            std::this_thread::yield();
    };
    auto a_options = patient(node_options("a@127.0.0.1"));
    a_options.limits.peer_overflow = OverflowPolicy::block;
    a_options.limits.block_timeout = 200ms;
    a_options.limits.outbound_queue_bytes = outbound;
    a_options.limits.peer_queue_bytes = outbound / 2;  // dropped above 1.5 MiB (peer queue + outbound queue)
    Node a = liminal::detail::TestAccess::make_node(a_options, hooks);
    Node b(receiver_options("b@127.0.0.1", a.router_endpoint()));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto sub = subscribe_flood(a, b);
    StalledReceiver stalled(a, b);

    // Until a publisher is told to wait too long: b reads nothing, so the
    // kernel's buffers, then ZeroMQ's pipe, then b's queue fill.
    std::size_t accepted = 0;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!a.publish("flood", numbered(accepted)).would_block) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        ++accepted;
        published.store(accepted);
    }
    INFO(accepted << " accepted; the hook held " << holds.load() << " batches");
    CHECK(holds.load() >= 1);

    // Once b reads again, everything a accepted arrives, in order, and a dropped nothing.
    stalled.stall.release();
    const auto got = drain(sub, accepted);
    const auto stats = a.stats();
    CHECK(stats.dropped_backpressure == 0);
    CHECK(stats.dropped_queue_full == 0);
    REQUIRE(got.size() == accepted);
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == i);
}

TEST_CASE("drop_newest and drop_oldest: a slow peer's queue stays bounded, and exactly the drops are missing",
          "[overload][policy]") {
    const auto policy = GENERATE(OverflowPolicy::drop_newest, OverflowPolicy::drop_oldest);
    auto a_options = patient(node_options("a@127.0.0.1"));
    a_options.limits.peer_overflow = policy;
    Node a(a_options);
    Node b(receiver_options("b@127.0.0.1", a.router_endpoint()));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto sub = subscribe_flood(a, b);
    StalledReceiver stalled(a, b);

    // ~60 MB against an 8 MiB queue, a 16 MiB outbound queue and the
    // kernel's buffers: most of it cannot wait.
    constexpr std::size_t count = 60'000;
    std::size_t refused = 0;
    std::optional<std::size_t> newest;  // the last publish a took (its outbound queue may refuse the last ones)
    for (std::size_t i = 0; i < count; ++i) {
        const auto result = a.publish("flood", numbered(i));
        if (result.queue_full)
            ++refused;
        else
            newest = i;
    }
    REQUIRE(newest);
    // The link to b is over its limit: drops have begun. Then b reads again,
    // and everything a took for b ends: handed to ZeroMQ, or dropped.
    REQUIRE(wait_until([&] { return a.stats().dropped_backpressure > 0; }));
    stalled.stall.release();
    REQUIRE(wait_until([&] { return a.stats().in_flight_peers == 0; }));
    const auto stats = a.stats();
    INFO("dropped_backpressure " << stats.dropped_backpressure << ", queue_full " << stats.dropped_queue_full);
    // One message per publish (b is the only node with a subscriber), and
    // the send that stalled b; each ended exactly once.
    CHECK(stats.accepted == count + 1);
    CHECK(stats.sends_remote == 1);
    CHECK(stats.publish_frames_out + stats.dropped_backpressure + stats.dropped_queue_full == count);
    CHECK(stats.dropped_queue_full == refused);
    CHECK(stats.slow_consumers >= 1);
    CHECK(a.peers().size() == 1);
    CHECK(a.peers()[0].messages_dropped == stats.dropped_backpressure);

    // What was handed to ZeroMQ arrives (drop_oldest's evictions never were).
    const std::size_t expected = stats.publish_frames_out;
    const auto got = drain(sub, expected);
    const auto at_b = b.stats();
    INFO("policy " << (policy == OverflowPolicy::drop_newest ? "drop_newest" : "drop_oldest") << "; b: malformed "
                   << at_b.malformed_frames << ", mailbox full " << at_b.dropped_mailbox_full << ", publish_frames_in "
                   << at_b.publish_frames_in << ", frames_in " << at_b.frames_in);
    CHECK(got.size() == expected);
    REQUIRE_FALSE(got.empty());
    CHECK(std::is_sorted(got.begin(), got.end()));
    CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());
    CHECK(got.front() == 0);
    if (policy == OverflowPolicy::drop_oldest) {
        // The newest a took made it: only older frames give way.
        CHECK(got.back() == *newest);
    }
}

namespace {

// Stats' identity (stats.hpp): what a node accepted is received, handed to
// ZeroMQ, dropped (every dropped_* counter there is), refused (would_block)
// or in flight. Empty when it holds, else what does not add up.
std::string ledger_error(const Stats& s) {
    std::uint64_t dropped = 0;
#define LIMINAL_COUNTER(name) \
    if (std::string_view(#name).starts_with("dropped_")) dropped += s.name;
#include "node/counters.def"
#undef LIMINAL_COUNTER
    const std::uint64_t ended = s.received + s.sends_remote + s.publish_frames_out + dropped + s.would_block;
    const std::uint64_t in_flight = s.in_flight_peers + s.in_flight_mailboxes;
    if (s.in_flight_peers > (1ULL << 40) || s.in_flight_mailboxes > (1ULL << 40))
        return "a gauge below zero: peers " + std::to_string(s.in_flight_peers) + ", mailboxes " +
               std::to_string(s.in_flight_mailboxes);
    if (s.accepted == ended + in_flight) return {};
    return "accepted " + std::to_string(s.accepted) + " != ended " + std::to_string(ended) + " + in flight " +
           std::to_string(in_flight) + " (received " + std::to_string(s.received) + ", out " +
           std::to_string(s.sends_remote + s.publish_frames_out) + ", dropped " + std::to_string(dropped) +
           ", would_block " + std::to_string(s.would_block) + ")";
}

}  // namespace

TEST_CASE("the counters add up at any instant: every message accepted is received, handed on, dropped or in flight",
          "[overload][ledger]") {
    // a publishes flat out to a local subscriber it never reads (its mailbox
    // evicts) and to b's subscriber, read slowly (its mailbox refuses), and
    // sends to it too; b's I/O thread is held for the first half, so a's
    // queue for b evicts (drop_oldest). Meanwhile another thread reads both
    // nodes' counters at random moments.
    auto a_options = patient(node_options("a@127.0.0.1"));
    a_options.limits.peer_overflow = OverflowPolicy::drop_oldest;
    a_options.limits.peer_queue_bytes = 1u << 20;
    Node a(a_options);
    Node b(receiver_options("b@127.0.0.1", a.router_endpoint()));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto slow = b.spawn(MailboxOptions{0, 256u << 10, OverflowPolicy::drop_newest});
    b.subscribe("flood", slow.pid());
    auto local = a.spawn(MailboxOptions{0, 128u << 10, OverflowPolicy::drop_oldest});
    a.subscribe("flood", local.pid());
    REQUIRE(wait_until([&] { return a.members("channels", "flood").size() == 2; }));
    StalledReceiver stalled(a, b);
    auto from = a.spawn();

    std::atomic<bool> done{false};
    std::atomic<std::size_t> taken{0};
    std::thread reader([&] {  // b's subscriber: slow, never stopped
        std::size_t n = 0;
        while (!done.load()) {
            if (slow.receive(10ms)) taken.store(++n);
            if (n % 64 == 0) std::this_thread::sleep_for(1ms);  // wait-ok: a slow consumer's pace, not a wait
        }
    });
    std::size_t samples = 0;
    std::string first_error;
    std::thread sampler([&] {
        std::mt19937 random(7);
        while (!done.load()) {
            for (const Node* node : {&a, &b}) {
                const auto error = ledger_error(node->stats());
                ++samples;
                if (!error.empty() && first_error.empty()) first_error = node->name() + ": " + error;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(random() % 500));  // wait-ok: random sampling moments
        }
    });

    constexpr std::size_t count = 40'000;
    for (std::size_t i = 0; i < count; ++i) {
        a.publish("flood", numbered(i));
        if (i % 16 == 0) a.send(from.pid(), slow.pid(), numbered(i));
        if (i == count / 2) stalled.stall.release();
    }
    // Everything a took for b ends, b takes in all that reached it, and the
    // slow reader catches up.
    REQUIRE(wait_until([&] { return a.stats().in_flight_peers == 0; }, 30s));
    const auto out = [&] { const auto s = a.stats(); return s.sends_remote + s.publish_frames_out; };
    REQUIRE(wait_until([&] { return b.stats().accepted == out(); }, 30s));
    REQUIRE(wait_until([&] { return b.stats().in_flight_mailboxes == 0; }, 30s));
    done.store(true);
    reader.join();
    sampler.join();

    INFO("samples " << samples);
    CHECK(first_error.empty());
    CHECK(samples > 100);
    const auto at_a = a.stats(), at_b = b.stats();
    INFO("a: " << ledger_error(at_a) << "; b: " << ledger_error(at_b));
    CHECK(ledger_error(at_a).empty());
    CHECK(ledger_error(at_b).empty());
    // It was an overload at every stage, and every stage counted it.
    CHECK(at_a.dropped_backpressure > 0);
    CHECK(at_a.dropped_mailbox_full > 0);  // the local subscriber's evictions
    CHECK(at_b.dropped_mailbox_full > 0);  // the slow subscriber's refusals
    // The gauges are what the queues hold.
    CHECK(at_a.in_flight_mailboxes == local.queued());
    CHECK(at_b.in_flight_mailboxes == slow.queued());
    // In total: what a handed on, b accepted (one subscriber there); what
    // b's subscriber took, b counted as received (and the stalling send).
    CHECK(at_b.accepted == at_a.sends_remote + at_a.publish_frames_out);
    CHECK(at_b.received == taken.load() + 1);
    // And a took one message per publish for each of its two destinations
    // (a refused one counts once), one per send, and the stalling send.
    CHECK(at_a.accepted == 2 * count + (count + 15) / 16 + 1);
}

TEST_CASE("disconnect: a peer that stops reading is cut off, counted, and comes back", "[overload][policy]") {
    auto a_options = patient(node_options("a@127.0.0.1"));
    a_options.limits.peer_overflow = OverflowPolicy::disconnect;
    Node a(a_options);
    Node b(receiver_options("b@127.0.0.1", a.router_endpoint()));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto sub = subscribe_flood(a, b);
    {
        StalledReceiver stalled(a, b);
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        for (std::size_t i = 0; a.stats().dropped_slow_consumer == 0; ++i) {
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            a.publish("flood", numbered(i));
        }
        const auto slow = wait_event(a, [](const PeerEvent& e) { return e.kind == PeerEventKind::slow_consumer; });
        REQUIRE(slow);
        CHECK(slow->name == "b@127.0.0.1");
        CHECK_THAT(slow->detail, Catch::Contains("cut off"));
        const auto down = wait_event(a, [](const PeerEvent& e) { return e.kind == PeerEventKind::down; });
        REQUIRE(down);
        CHECK(down->reason == DownReason::slow_consumer);
        CHECK(a.stats().slow_consumers >= 1);
    }
    // Released, b is met again (a fresh connection and handshake) and served.
    REQUIRE(wait_for_mesh({&a, &b}, 20s));
    REQUIRE(wait_until([&] { return a.members("channels", "flood").size() == 1; }));
    while (sub.receive(200ms)) {
    }
    REQUIRE(a.publish("flood", "after").nodes == 1);
    const auto after = sub.receive(10s);
    REQUIRE(after);
    CHECK(after->payload() == "after");
}

TEST_CASE("the outbound queue is bounded: with the I/O thread stuck, publish says queue_full or would_block",
          "[overload][policy]") {
    const auto policy = GENERATE(OverflowPolicy::drop_newest, OverflowPolicy::block);
    auto a_options = patient(node_options("a@127.0.0.1"));
    a_options.limits.peer_overflow = policy;
    a_options.limits.block_timeout = 100ms;
    Node a(a_options);
    Node b(patient(node_options("b@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto sub = subscribe_flood(a, b);
    // This time a's own I/O thread is held: nothing drains its outbound queue.
    StalledReceiver stalled(b, a);

    const auto deadline = std::chrono::steady_clock::now() + 20s;
    std::size_t accepted = 0;
    PublishResult last;
    for (;;) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        last = a.publish("flood", numbered(accepted));
        if (last.queue_full || last.would_block) break;
        ++accepted;
    }
    INFO(accepted << " queued before the queue was full");
    // 16 MiB of 1 KiB messages, give or take their bookkeeping.
    CHECK(accepted * 1024 <= Limits{}.outbound_queue_bytes + 1024);
    CHECK(accepted * 1024 * 2 >= Limits{}.outbound_queue_bytes);
    const auto stats = a.stats();
    const auto channels = a.channel_stats();
    REQUIRE(channels.size() == 1);
    if (policy == OverflowPolicy::block) {
        // Refused whole, after waiting: not a publish, not a drop.
        CHECK(last.would_block);
        CHECK(stats.would_block == 1);
        CHECK(stats.dropped_queue_full == 0);
        CHECK(stats.publishes == accepted);
        CHECK(channels[0].nodes_dropped == 0);
    } else {
        CHECK(last.queue_full);
        CHECK(stats.dropped_queue_full == 1);
        CHECK(stats.publishes == accepted + 1);
        CHECK(channels[0].nodes_dropped == 1);
    }
    // Released, a packs 16 MiB at once for an 8 MiB peer queue: under block
    // the link makes room for what its senders could not see coming;
    // otherwise the excess is dropped, counted.
    stalled.stall.release();
    REQUIRE(wait_until([&] {
        const auto s = a.stats();
        return s.publish_frames_out + s.dropped_backpressure == accepted;
    }));
    const auto dropped = a.stats().dropped_backpressure;
    if (policy == OverflowPolicy::block) CHECK(dropped == 0);
    const auto got = drain(sub, accepted - dropped);
    CHECK(got.size() == accepted - dropped);
}

namespace {

long rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

// The worst case README "Memory" gives for a node with `peers` peers and
// `processes` processes, in KiB: Limits' formula.
long bound_kib(const Limits& l, std::size_t peers, std::size_t processes) {
    const std::size_t per_peer = l.peer_queue_bytes + 2 * static_cast<std::size_t>(l.send_hwm) * l.max_frame_bytes +
                                 2 * static_cast<std::size_t>(l.receive_hwm) * 2 * l.max_frame_bytes;
    return static_cast<long>((l.outbound_queue_bytes + peers * per_peer + processes * l.mailbox_bytes) / 1024);
}

}  // namespace

TEST_CASE("a publisher flat out at a subscriber that never reads: both stay under their options' bound",
          "[overload][rss]") {
#ifdef LIMINAL_SANITIZED
    // ASan keeps freed memory in quarantine (256 MiB by default): keep it small.
    ::setenv("ASAN_OPTIONS", "quarantine_size_mb=8:detect_leaks=0", 1);
    constexpr long slack_kib = 96 * 1024;  // shadow memory and the allocator's own
#else
    constexpr long slack_kib = 32 * 1024;  // allocator fragmentation, thread stacks
#endif
    test::Child sub({LIMINAL_OVERLOAD_NODE, "sub", "s@127.0.0.1"});
    const auto ready = sub.read_line(20s);
    REQUIRE(ready);
    REQUIRE(ready->rfind("ready ", 0) == 0);
    const long sub_idle = rss_kib(sub.pid());
    test::Child pub({LIMINAL_OVERLOAD_NODE, "pub", "p@127.0.0.1", ready->substr(6), "6", "1024"});
    const auto pub_ready = pub.read_line(20s);
    REQUIRE(pub_ready);
    const long pub_idle = rss_kib(pub.pid());
    long sub_peak = 0, pub_peak = 0;
    std::optional<std::string> pub_stats;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!pub_stats && std::chrono::steady_clock::now() < deadline) {
        sub_peak = std::max(sub_peak, rss_kib(sub.pid()));
        pub_peak = std::max(pub_peak, rss_kib(pub.pid()));
        pub_stats = pub.read_line(100ms);  // the stats line ends its flood
    }
    REQUIRE(pub_stats);
    CHECK(pub.wait_exit(10s) == 0);
    sub.signal(SIGTERM);
    const auto sub_stats = sub.read_line(10s);
    REQUIRE(sub_stats);
    CHECK(sub.wait_exit(10s) == 0);

    const Limits defaults;
    INFO("publisher: idle " << pub_idle / 1024 << " MiB, peak " << pub_peak / 1024 << " MiB; " << *pub_stats);
    INFO("subscriber: idle " << sub_idle / 1024 << " MiB, peak " << sub_peak / 1024 << " MiB; " << *sub_stats);
    if (test::rss_is_checked) {
        CHECK(pub_peak - pub_idle <= bound_kib(defaults, 1, 0) + slack_kib);
        CHECK(sub_peak - sub_idle <= bound_kib(defaults, 1, 1) + slack_kib);
    } else {
        WARN("RSS bounds not checked in this build (ThreadSanitizer's shadow memory)");
    }
    // It was an overload: the subscriber's mailbox filled and the publisher dropped.
    CHECK_THAT(*sub_stats, !Catch::Contains("dropped_mailbox_full=0 "));
    CHECK_THAT(*pub_stats, !Catch::Contains("dropped_backpressure=0 "));
}

TEST_CASE("a monitor nobody reads is bounded: a peer's churn empties it into one lost event, counted",
          "[overload][monitor]") {
    auto a_options = node_options("a@127.0.0.1");
    a_options.limits.monitor_queue_bytes = 64 * 1024;
    Node a(a_options);
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto monitor = a.monitor("work");
    // The peer joins 3,000 groups: far more than 64 KiB of events, whether a
    // reaches them by deltas or (gossip lost under load) by a resync.
    auto p = b.spawn();
    for (int i = 0; i < 3000; ++i) b.join("work", "g" + std::to_string(i), p.pid());
    REQUIRE(wait_until([&] { return a.stats().monitor_events_dropped > 0; }));
    CHECK(monitor.pending() * 100 <= 64 * 1024);  // what waits fits the limit
    const auto first = monitor.next(1s);
    REQUIRE(first);
    CHECK(first->kind == GroupEvent::Kind::lost);
    // After it, events flow again, in order.
    REQUIRE(b.sync_membership(10s).ok);  // a has applied all of b's churn
    while (monitor.next(200ms)) {
    }
    b.join("work", "after", p.pid());
    std::optional<GroupEvent> next;
    REQUIRE(wait_until([&] { return (next = monitor.next(100ms)).has_value(); }));
    CHECK(next->kind == GroupEvent::Kind::join);
    CHECK(next->group == "after");
}

TEST_CASE("disconnect on a mailbox fed by a peer: the process is cut off on the I/O thread, everything counted",
          "[overload][policy]") {
    Node a(node_options("a@127.0.0.1"));
    Node b(node_options("b@127.0.0.1", {a.router_endpoint()}));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto slow = b.spawn(MailboxOptions{2, 0, OverflowPolicy::disconnect});
    b.join("g", "slow", slow.pid());
    REQUIRE(wait_until([&] { return a.members("g", "slow").size() == 1; }));
    auto from = a.spawn();
    for (int i = 0; i < 10; ++i) REQUIRE(a.send(from.pid(), slow.pid(), "x") == SendResult::queued);
    // Two fit; the third cut it off: those two and every later one are
    // dropped, as slow_consumer or, once it is gone, no_such_process.
    REQUIRE(wait_until([&] {
        const auto s = b.stats();
        return s.dropped_slow_consumer + s.dropped_no_such_process == 10;
    }));
    CHECK(b.stats().dropped_slow_consumer >= 3);
    CHECK_FALSE(slow.receive(10ms));
    CHECK_FALSE(slow.is_open());
    // It left its groups, everywhere.
    CHECK(b.members("g", "slow").empty());
    REQUIRE(wait_until([&] { return a.members("g", "slow").empty(); }));
    const auto event = wait_event(b, [](const PeerEvent& e) { return e.kind == PeerEventKind::slow_consumer; });
    REQUIRE(event);
    CHECK_THAT(event->detail, Catch::Contains(slow.pid().to_string()) && Catch::Contains("cut off"));
    // The node goes on serving: a new process gets a send.
    auto fresh = b.spawn();
    REQUIRE(a.send(from.pid(), fresh.pid(), "y") == SendResult::queued);
    CHECK(fresh.receive(10s));
}

TEST_CASE("the I/O thread never waits under block: a callback on it that publishes to a congested peer is told at once",
          "[overload][policy]") {
    auto a_options = patient(node_options("a@127.0.0.1"));
    a_options.limits.peer_overflow = OverflowPolicy::block;
    a_options.limits.block_timeout = 3s;  // what a waiting caller would wait
    Node a(a_options);
    Node b(patient(receiver_options("b@127.0.0.1", a.router_endpoint())));
    Node c(patient(node_options("c@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b, &c}));
    auto sub = subscribe_flood(a, b);
    StalledReceiver stalled(a, b);
    // Congest a's link to b from this thread, which may wait.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::size_t i = 0;
    for (;; ++i) {
        if (std::chrono::steady_clock::now() >= deadline) {
            const auto s = a.stats();
            FAIL("no congestion after " << i << " publishes: backpressure " << s.dropped_backpressure << ", queue_full "
                                        << s.dropped_queue_full << ", node_down " << s.dropped_node_down);
        }
        if (a.publish("flood", numbered(i)).would_block) break;
    }
    // Now a message from c runs a callback on a's I/O thread that publishes.
    auto relay = a.spawn();
    std::mutex mutex;
    std::condition_variable done;
    std::optional<std::chrono::steady_clock::duration> took;
    bool would_block = false;
    relay.on_message(
        [&](Message) {
            const auto start = std::chrono::steady_clock::now();
            const auto result = a.publish("flood", numbered(i));
            std::lock_guard lock(mutex);
            took = std::chrono::steady_clock::now() - start;
            would_block = result.would_block;
            done.notify_all();
        },
        Process::CallbackThread::delivering);
    auto from = c.spawn();
    REQUIRE(c.send(from.pid(), relay.pid(), "go") == SendResult::queued);
    std::unique_lock lock(mutex);
    REQUIRE(done.wait_for(lock, 20s, [&] { return took.has_value(); }));
    CHECK(would_block);
    CHECK(*took < 1s);  // not the 3 s block_timeout
}
