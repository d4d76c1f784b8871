#pragma once
// State a node shares between the API threads and its I/O thread.

#include "membership/state.hpp"
#include "node/mailbox.hpp"
#include "node/monitors.hpp"

#include <liminal/events.hpp>
#include <liminal/options.hpp>
#include <liminal/stats.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace spdlog { class logger; }

namespace liminal::detail {

// Every Stats field as an atomic; written from any thread, relaxed.
struct Counters {
#define LIMINAL_COUNTER(name) std::atomic<std::uint64_t> name{0};
#include "node/counters.def"
#undef LIMINAL_COUNTER
    Stats snapshot() const;
};

inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    if (by != 0) counter.fetch_add(by, std::memory_order_relaxed);
}

// Per-peer traffic counters, written by the I/O thread, read by peers().
struct PeerCounters {
    std::atomic<std::uint64_t> messages_out{0}, bytes_out{0}, messages_in{0}, bytes_in{0};
};

struct ChannelRoute;

// One wire message on its way from an API thread to the I/O thread. The API
// thread encodes it (once, whatever the number of nodes it goes to) into the
// batch's byte buffer.
struct Outgoing {
    const ChannelRoute* route = nullptr;        // PUBLISH: to every node in route->remote (kept alive by the batch)
    std::string node;                           // SEND: to this node ...
    std::uint64_t creation = 0;                 // ... of this creation
    std::size_t offset = 0;                     // the message's bytes in OutgoingBatch::bytes
    std::size_t length = 0;
};

struct OutgoingBatch {
    std::string bytes;
    std::vector<Outgoing> items;
    // The routes items point to, each held once per run of items that share
    // it: a reference count touched per message by two threads would bounce
    // its cache line between them.
    std::vector<std::shared_ptr<const ChannelRoute>> routes;
    std::string_view message(const Outgoing& item) const { return std::string_view(bytes).substr(item.offset, item.length); }
    void clear() {
        bytes.clear();
        items.clear();
        routes.clear();
    }
};

// API threads -> I/O thread, in order. The eventfd doorbell is rung only when
// the queue goes from empty to non-empty: the I/O thread takes it whole on
// each wake, and both sides keep their buffers' capacity.
class CommandQueue {
public:
    CommandQueue();
    ~CommandQueue();
    CommandQueue(const CommandQueue&) = delete;
    CommandQueue& operator=(const CommandQueue&) = delete;

    // Queues one message: `encode(std::string&)` appends its bytes.
    template <typename Encode>
    void push(const std::shared_ptr<const ChannelRoute>& route, std::string_view node, std::uint64_t creation,
              Encode&& encode) {
        bool ring = false;
        {
            std::lock_guard lock(mutex_);
            ring = queue_.items.empty();
            const std::size_t offset = queue_.bytes.size();
            try {
                encode(queue_.bytes);
                if (route != nullptr && (queue_.routes.empty() || queue_.routes.back() != route))
                    queue_.routes.push_back(route);
                queue_.items.push_back(
                    Outgoing{route.get(), std::string(node), creation, offset, queue_.bytes.size() - offset});
                pending_.store(true, std::memory_order_relaxed);
            } catch (...) {
                queue_.bytes.resize(offset);  // nothing half-queued
                throw;
            }
        }
        // The I/O thread itself (a callback answering) needs no doorbell: it
        // looks at the queue before it polls again.
        if (ring && std::this_thread::get_id() != consumer_.load(std::memory_order_relaxed)) wake();
    }
    // Wakes the I/O thread without a message (stop, gossip, digest requests).
    void wake();
    // Runs on the I/O thread: the calling thread becomes the consumer.
    void set_consumer() { consumer_.store(std::this_thread::get_id(), std::memory_order_relaxed); }
    // Runs on the I/O thread: swaps everything queued into `out` (cleared
    // first); with `doorbell`, also clears the doorbell (it rang).
    void drain(OutgoingBatch& out, bool doorbell);
    int fd() const noexcept { return fd_; }
    // Something is queued (a hint: read without the lock).
    bool pending() const noexcept { return pending_.load(std::memory_order_relaxed); }

private:
    int fd_ = -1;
    std::mutex mutex_;
    OutgoingBatch queue_;
    std::atomic<bool> pending_{false};
    std::atomic<std::thread::id> consumer_{};
};

// The peer view behind Node::peers() and send()'s routing decision; written
// by the I/O thread.
class PeerDirectory {
public:
    struct Route {
        std::uint64_t creation = 0;
        PeerState state = PeerState::down;
    };

    std::optional<Route> route(const std::string& name) const;
    std::vector<PeerInfo> snapshot() const;

    void set(const PeerInfo& info, std::shared_ptr<PeerCounters> counters);
    void set_connecting(const std::string& endpoint, bool connecting);
    void erase(const std::string& name);

private:
    struct Entry {
        PeerInfo info;
        std::shared_ptr<PeerCounters> counters;
    };
    mutable std::shared_mutex mutex_;
    std::map<std::string, Entry> peers_;      // by name
    std::set<std::string> connecting_;        // endpoints with no peer name yet (seeds)
};

// Bounded queue behind Node::next_event(); the oldest event goes first when full.
class EventQueue {
public:
    static constexpr std::size_t capacity = 4096;
    // Returns false when an old event had to be dropped to make room.
    bool push(PeerEvent event);
    std::optional<PeerEvent> pop(std::chrono::milliseconds timeout);
    void close();

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<PeerEvent> events_;
    bool closed_ = false;
};

// The membership state and what hangs off it, under one lock: the API
// threads (join, leave, queries, publish) and the I/O thread (gossip) share it.
struct Membership {
    explicit Membership(std::string self, std::uint64_t creation) : state(std::move(self), creation) {}

    // Exclusive access for a change. Bumps `version` before unlocking, so a
    // route cached at the old version is known to be stale.
    class Write {
    public:
        explicit Write(Membership& membership) : membership_(membership), lock_(membership.mutex) {}
        ~Write() { membership_.version.fetch_add(1, std::memory_order_release); }
        Write(const Write&) = delete;
        Write& operator=(const Write&) = delete;

    private:
        Membership& membership_;
        std::unique_lock<std::shared_mutex> lock_;
    };

    mutable std::shared_mutex mutex;
    membership::State state;                     // guarded by mutex
    std::atomic<std::uint64_t> version{1};       // bumped by every Write
    std::vector<membership::OwnDelta> outbox;    // guarded by mutex: own deltas not yet gossiped
    std::atomic<bool> outbox_ready{false};       // set with the outbox: saves the I/O thread a lock
    std::shared_ptr<MonitorHub> monitors = std::make_shared<MonitorHub>();
};

// Digest acknowledgements from peers, for the convergence barrier.
class AckBoard {
public:
    void record(const std::string& peer, std::uint64_t seq);
    void forget(const std::string& peer);
    // Waits until every peer in `peers` acknowledged at least `seq`, or `until`.
    // Returns the peers still lagging.
    std::vector<std::string> wait(const std::vector<std::string>& peers, std::uint64_t seq,
                                  std::chrono::steady_clock::time_point until);

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, std::uint64_t> acked_;  // peer -> highest seq of ours it applied
};

// Per-channel counters. A channel's entry is created on first use and never
// removed, so references stay valid.
struct ChannelCounters {
    std::atomic<std::uint64_t> published{0}, nodes_sent{0}, received{0}, delivered{0}, dropped{0};
};

class ChannelTable {
public:
    ChannelCounters& at(std::string_view channel);
    std::vector<ChannelStats> snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<ChannelCounters>, std::less<>> channels_;  // less<>: look up by view
};

// Where a channel's messages go, as of one membership version: the local
// subscribers and the remote nodes that have any. Immutable once built and
// shared, so the hot path neither locks the membership nor copies names.
struct ChannelRoute {
    struct Node {
        std::string name;
        std::uint64_t creation = 0;
    };
    std::uint64_t version = 0;
    std::string channel;
    std::vector<std::uint64_t> local;
    std::vector<Node> remote;
    ChannelCounters* counters = nullptr;  // the channel's entry in NodeCore::channels
};

// Everything both sides of a node see. Immutable after construction except
// the synchronised members.
struct NodeCore {
    Options options;
    std::shared_ptr<spdlog::logger> log;
    std::uint64_t creation = 0;
    std::string router_endpoint;  // as advertised
    std::string pub_endpoint;     // as advertised
    std::string admin_endpoint;   // as bound, empty without one
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    Counters counters;
    std::shared_ptr<ProcessTable> processes;
    PeerDirectory directory;
    CommandQueue commands;
    EventQueue events;
    std::atomic<bool> stopping{false};
    std::unique_ptr<Membership> membership;
    AckBoard acks;
    ChannelTable channels;
    std::atomic<bool> digest_requested{false};   // the I/O thread publishes a DIGEST now
    std::uint64_t message_id_prefix = 0;         // random, per node start
    std::atomic<std::uint64_t> message_id_counter{0};
    std::atomic<std::uint64_t> node_publish_seq{0};  // sequence of publishes by the node itself (pid id 0)
};

// The route of `channel` at the current membership version. Each thread
// keeps the last few it used, so a publish or a received PUBLISH takes no
// lock and allocates nothing while the membership stays the same. A route
// has counters when the channel has local subscribers, or when `publishing`.
std::shared_ptr<const ChannelRoute> channel_route(NodeCore& core, std::string_view channel, bool publishing);

// Puts `message` into `mailbox` and counts the outcome: `delivered` when it
// went in, dropped_mailbox_full / dropped_no_such_process when not.
PushResult deliver(Counters& counters, Mailbox& mailbox, Message message, std::atomic<std::uint64_t>& delivered);

// Deliveries gathered while one frame is applied, handed to each mailbox in
// one batch (one lock, at most one wake-up) when the frame is done. Per
// mailbox the order is the frame's order.
class DeliveryBatch {
public:
    // `channel` is null for a directed send.
    void add(std::shared_ptr<Mailbox> mailbox, Message message, ChannelCounters* channel);
    // Delivers everything and counts the outcomes.
    void flush(Counters& counters);

private:
    struct Pending {
        std::shared_ptr<Mailbox> mailbox;
        std::vector<Message> messages;
        std::vector<ChannelCounters*> channels;
    };
    std::vector<Pending> pending_;
};

// Carries out the effects every caller of the membership state shares:
// monitors hear of changes, own deltas join the outbox (the caller rings the
// doorbell). Runs with the membership lock held exclusively.
void record_effects(Membership& membership, membership::Effects& fx);

// A creation number for a node starting now: the wall clock in microseconds,
// strictly increasing within this process, never 0.
std::uint64_t new_creation();

}  // namespace liminal::detail
