#pragma once
// A process's bounded mailbox, and the table of a node's live processes.

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
#include <unordered_map>
#include <vector>

namespace liminal::detail {

enum class PushResult : std::uint8_t {
    delivered,
    displaced,  // delivered; the oldest waiting message was dropped for it (drop_oldest)
    full,       // refused (drop_newest)
    closed,
};

// Many producers (the I/O thread, local senders), one consumer. The consumer
// is woken only when it is waiting, and takes everything waiting at once (one
// lock per batch, not per message); producers can hand over a batch too.
class Mailbox {
public:
    Mailbox(std::size_t capacity, OverflowPolicy overflow) : capacity_(capacity), overflow_(overflow) {}

    PushResult push(Message message);
    // Outcome counts of push_batch.
    struct BatchResult {
        std::size_t delivered = 0;  // including those that displaced an older message
        std::size_t displaced = 0;
        std::size_t refused = 0;    // full (drop_newest) or closed
        bool closed = false;
    };
    // Pushes every message of `batch` (emptied) under one lock, in order.
    BatchResult push_batch(std::vector<Message>& batch);
    std::optional<Message> pop(std::chrono::milliseconds timeout);
    std::optional<Message> try_pop();
    void set_handler(std::function<void(Message)> handler);
    // Later pushes are refused; a waiting consumer wakes up.
    void close();

    bool closed() const;
    std::size_t size() const;
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    // The next sequence number of this process's publishes (from 1).
    std::uint64_t next_publish_seq() noexcept { return publish_seq_.fetch_add(1, std::memory_order_relaxed) + 1; }

private:
    using Handler = std::function<void(Message)>;

    // Consumer side, with take_mutex_ held.
    std::optional<Message> take_one();
    // Producer side, with mutex_ held and no handler: capacity and overflow policy.
    PushResult enqueue_locked(Message& message);

    const std::size_t capacity_;
    const OverflowPolicy overflow_;
    std::mutex take_mutex_;              // consumers: one at a time
    std::deque<Message> taken_;          // guarded by take_mutex_: moved out of queue_ in one go
    std::atomic<std::size_t> taken_count_{0};  // taken_.size(), for the capacity check
    mutable std::mutex mutex_;           // guards every field below but handler_calls_
    std::condition_variable ready_;
    std::deque<Message> queue_;
    std::shared_ptr<Handler> handler_;   // set: deliver by callback instead of queueing
    int waiters_ = 0;                    // consumers blocked in pop()
    bool closed_ = false;
    // Keeps callback invocations from overlapping across threads. Recursive: a
    // handler that sends to its own process is called again, nested, not deadlocked.
    std::recursive_mutex handler_calls_;
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> publish_seq_{0};
};

// The live processes of one node, by local id. Shared by the API threads and
// the I/O thread; a Process handle keeps it alive to deregister itself.
class ProcessTable {
public:
    ProcessTable(std::size_t mailbox_capacity, OverflowPolicy overflow)
        : mailbox_capacity_(mailbox_capacity), overflow_(overflow) {}

    // Called (outside the table's lock) with the id of every process removed.
    void on_remove(std::function<void(std::uint64_t)> hook) { on_remove_ = std::move(hook); }

    // Registers a new process and returns its id (never 0) and mailbox.
    std::pair<std::uint64_t, std::shared_ptr<Mailbox>> create();
    std::shared_ptr<Mailbox> find(std::uint64_t id) const;
    void remove(std::uint64_t id);
    // Closes every mailbox (the node is stopping).
    void close_all();
    std::size_t size() const;

private:
    const std::size_t mailbox_capacity_;
    const OverflowPolicy overflow_;
    std::function<void(std::uint64_t)> on_remove_;  // set before the first process exists
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::uint64_t, std::shared_ptr<Mailbox>> processes_;
    std::uint64_t next_id_ = 1;  // guarded by mutex_
};

}  // namespace liminal::detail
