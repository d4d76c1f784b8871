#pragma once
// A process's bounded mailbox, and the table of a node's live processes.

#include "node/counters.hpp"

#include <liminal/message.hpp>
#include <liminal/options.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace liminal::detail {

class Leadership;

enum class PushResult : std::uint8_t {
    delivered,
    displaced,  // delivered; older waiting messages were dropped for it (drop_oldest)
    full,       // refused (drop_newest, or block for a sender that may not wait)
    timed_out,  // refused: block, and no room came within its timeout
    closed,
    cut_off,    // refused, and the process cut off for it (disconnect)
};

// What a mailbox may hold and what it does when full.
struct MailboxLimits {
    std::size_t capacity = 100'000;  // messages
    std::size_t bytes = 64u << 20;   // message_cost() of what waits
    OverflowPolicy overflow = OverflowPolicy::drop_newest;
    std::chrono::milliseconds block_timeout{100};
};

// What a message costs a mailbox: its payload, headers, sender and envelope,
// and the bookkeeping around them.
std::size_t message_cost(const Message& message) noexcept;

// Many producers (the I/O thread, local senders), one consumer. The consumer
// is woken only when it is waiting, and takes everything waiting at once (one
// lock per batch, not per message); producers can hand over a batch too.
class Mailbox : public std::enable_shared_from_this<Mailbox> {
public:
    // `on_full(cut)`: a slow-consumer episode began (the mailbox refused or
    // evicted for the first time since it last drained below a quarter), or
    // under disconnect the process was cut off. Called outside every lock of
    // the mailbox, on the pushing thread.
    //
    // `counters`: the node's ledger (counters.hpp), kept here: a message
    // pushed is taken in flight (in_flight_mailboxes) under the mailbox's
    // lock, before any consumer can see it, and leaves it when received,
    // evicted, cut off or dropped unread at close. Null: not counted.
    //
    // `leadership`: the node's (leadership.hpp): a receiver that would wait
    // runs the poll loop itself meanwhile. Null: it waits.
    Mailbox(MailboxLimits limits, std::function<void(bool cut)> on_full, Counters* counters = nullptr,
            std::shared_ptr<Leadership> leadership = nullptr)
        : limits_(limits), on_full_(std::move(on_full)), counters_(counters), leadership_(std::move(leadership)) {}
    ~Mailbox();
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    // `may_wait`: a local sender, which waits for room under block; a wait
    // that runs out counts as would_block if `timeout_is_would_block` (the
    // sender is told), else as dropped_mailbox_full.
    // `dropped`: set to how many waiting messages were dropped for it
    // (drop_oldest's evictions, or all of them when it cut the process off).
    PushResult push(Message message, bool may_wait = false, std::size_t* dropped = nullptr,
                    bool timeout_is_would_block = false);
    // Outcome counts of push_batch.
    struct BatchResult {
        std::size_t delivered = 0;  // including those that displaced an older message
        std::size_t displaced = 0;  // older messages dropped to make room
        std::size_t refused = 0;    // full, closed or cut off
        std::size_t cut_dropped = 0;  // waiting messages dropped when it was cut off
        bool closed = false;
        bool cut_off = false;
    };
    // Pushes every message of `batch` (emptied) under one lock, in order;
    // never waits (the I/O thread's way).
    BatchResult push_batch(std::vector<Message>& batch);
    std::optional<Message> pop(std::chrono::milliseconds timeout);
    std::optional<Message> try_pop();
    // Callback delivery: on a thread of this mailbox (`own_thread`), or on
    // whichever thread delivers. False: it has a handler already.
    bool set_handler(std::function<void(Message)> handler, bool own_thread);
    // Later pushes are refused; a waiting consumer (and the handler's
    // thread) wakes up and stops; what waits unread is dropped
    // (dropped_no_such_process). Waits for the handler's thread to finish
    // unless `join` is false or it is the calling thread.
    void close(bool join = true);
    // The node stops: nothing is counted any more (the counters may go).
    void detach();

    bool closed() const;
    std::size_t size() const;
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    // The next sequence number of this process's publishes (from 1).
    std::uint64_t next_publish_seq() noexcept { return publish_seq_.fetch_add(1, std::memory_order_relaxed) + 1; }

private:
    using Handler = std::function<void(Message)>;

    // After a push from outside the poll loop, or a close: a consumer that
    // leads the node's poll loop (leadership_) sleeps in poll, not on ready_.
    void wake_leader();
    // A consumer that would wait runs the node's poll loop meanwhile, if it
    // may, until something arrives, the mailbox closes or `deadline`.
    void lead_until(std::chrono::steady_clock::time_point deadline);
    // What a waiting consumer wakes for (mutex_ held): something to take, or the close.
    bool arrived_locked() const { return !queue_.empty() || closed_; }
    // Consumer side, with take_mutex_ held.
    std::optional<Message> take_one();
    // Counts the messages taken since the last call as received.
    void count_received();
    void took(std::size_t cost);
    void taken_all_locked();  // queue_ moved into taken_
    // Producer side, with mutex_ held and no inline handler: the limits and
    // the overflow policy. `displaced` counts evictions.
    PushResult enqueue_locked(Message& message, std::size_t& displaced);
    bool fits_locked(std::size_t cost) const;
    // Under disconnect: close, forget what waits; returns how many were dropped.
    std::size_t cut_locked();
    void run_handler(std::shared_ptr<Handler> handler);

    const MailboxLimits limits_;
    const std::function<void(bool)> on_full_;
    Counters* counters_;                 // guarded by both take_mutex_ and mutex_ (null once detached)
    const std::shared_ptr<Leadership> leadership_;
    std::atomic<int> leading_{0};        // consumers in lead_until (pushes from elsewhere ring for them)
    std::size_t uncounted_received_ = 0;  // guarded by take_mutex_: taken, not yet counted (a batch at a time)
    std::mutex take_mutex_;              // consumers: one at a time
    std::deque<Message> taken_;          // guarded by take_mutex_: moved out of queue_ in one go
    std::atomic<std::size_t> taken_count_{0};  // taken_.size(), for the limits
    std::atomic<std::size_t> taken_bytes_{0};  // their message_cost()
    mutable std::mutex mutex_;           // guards every field below but handler_calls_
    std::condition_variable ready_;
    std::condition_variable room_;       // a consumer took messages (block's senders wait)
    std::deque<Message> queue_;
    std::size_t queue_bytes_ = 0;
    std::shared_ptr<Handler> handler_;   // set (inline): deliver by callback instead of queueing
    int waiters_ = 0;                    // consumers blocked in pop()
    std::atomic<int> room_waiters_{0};   // senders blocked for room
    bool closed_ = false;
    std::atomic<bool> slow_{false};      // in a slow-consumer episode
    std::atomic<bool> cut_{false};       // cut off: nothing more is received
    std::thread dispatcher_;             // own-thread callback delivery
    // Keeps inline callback invocations from overlapping across threads. Recursive: a
    // handler that sends to its own process is called again, nested, not deadlocked.
    std::recursive_mutex handler_calls_;
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> publish_seq_{0};
};

// The live processes of one node, by local id. Shared by the API threads and
// the I/O thread; a Process handle keeps it alive to deregister itself.
class ProcessTable {
public:
    // `on_full(id, cut)`: Mailbox's on_full, for the process `id`.
    // `counters`: the node's, for every mailbox (null: not counted).
    ProcessTable(MailboxLimits limits, std::function<void(std::uint64_t, bool)> on_full, Counters* counters = nullptr,
                 std::shared_ptr<Leadership> leadership = nullptr)
        : limits_(limits), on_full_(std::move(on_full)), counters_(counters), leadership_(std::move(leadership)) {}

    // Called (outside the table's lock) with the id of every process removed.
    void on_remove(std::function<void(std::uint64_t)> hook) { on_remove_ = std::move(hook); }

    // Registers a new process and returns its id (never 0) and mailbox.
    std::pair<std::uint64_t, std::shared_ptr<Mailbox>> create(const MailboxLimits& limits);
    std::pair<std::uint64_t, std::shared_ptr<Mailbox>> create() { return create(limits_); }
    std::shared_ptr<Mailbox> find(std::uint64_t id) const;
    // `join`: wait for its callback thread (not from the I/O thread, where a
    // callback stuck in user code must not hold the node).
    void remove(std::uint64_t id, bool join = true);
    // Closes every mailbox (the node is stopping), waits for their
    // callbacks, and detaches them from the counters.
    void close_all();
    std::size_t size() const;
    const MailboxLimits& limits() const noexcept { return limits_; }

private:
    const MailboxLimits limits_;
    const std::function<void(std::uint64_t, bool)> on_full_;
    Counters* const counters_;
    const std::shared_ptr<Leadership> leadership_;  // every mailbox's
    std::function<void(std::uint64_t)> on_remove_;  // set before the first process exists
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::uint64_t, std::shared_ptr<Mailbox>> processes_;
    std::uint64_t next_id_ = 1;  // guarded by mutex_
};

}  // namespace liminal::detail
