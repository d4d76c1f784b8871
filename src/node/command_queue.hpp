#pragma once
// API threads -> I/O thread: pre-encoded SEND and PUBLISH messages (the hot
// path) and typed commands, in one queue.

#include "node/commands.hpp"
#include "node/leadership.hpp"

#include <liminal/options.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace liminal::detail {

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
    std::vector<Command> commands;  // typed commands, in the order they were posted
    // The routes items point to, each held once per run of items that share
    // it: a reference count touched per message by two threads would bounce
    // its cache line between them.
    std::vector<std::shared_ptr<const ChannelRoute>> routes;
    std::string_view message(const Outgoing& item) const { return std::string_view(bytes).substr(item.offset, item.length); }
    void clear() {
        bytes.clear();
        items.clear();
        commands.clear();
        routes.clear();
    }
};

// API threads -> I/O thread. Messages keep their order among themselves, and
// commands among themselves; the I/O thread sends the messages of a batch
// before it carries out its commands (so a send accepted before stop() goes
// out ahead of BYE). The eventfd doorbell is rung only when the queue goes
// from empty to non-empty: the I/O thread takes it whole on each wake, and
// both sides keep their buffers' capacity. A message that starts a burst
// while the I/O thread sleeps is sent by its sender instead (io_lock()).
class CommandQueue {
public:
    CommandQueue();
    ~CommandQueue();
    CommandQueue(const CommandQueue&) = delete;
    CommandQueue& operator=(const CommandQueue&) = delete;

    // The bound on what waits for the I/O thread, and what a full queue does:
    // under OverflowPolicy::block push() waits up to `timeout` for the I/O
    // thread to take what waits and pack it (packed()); under any other it
    // refuses at once.
    void limit(std::size_t bytes, OverflowPolicy policy, std::chrono::milliseconds timeout) {
        limit_bytes_ = bytes;
        block_ = policy == OverflowPolicy::block;
        timeout_ = timeout;
    }
    // Queues one message: `encode(std::string&)` appends its bytes, then
    // `queued()` runs, still under the queue's lock (the I/O thread cannot
    // have taken the message yet: the sender counts it in flight there).
    // False: the queue is full (nothing queued). The I/O thread itself (a
    // callback sending) never waits.
    template <typename Encode, typename Queued>
    bool push(const std::shared_ptr<const ChannelRoute>& route, std::string_view node, std::uint64_t creation,
              Encode&& encode, Queued&& queued) {
        bool ring = false;
        {
            std::unique_lock lock(mutex_);
            if (bytes_locked() >= limit_bytes_) {
                const bool may_wait = block_ && !on_consumer_thread();
                if (!may_wait || !room_.wait_for(lock, timeout_, [&] { return bytes_locked() < limit_bytes_; }))
                    return false;
            }
            ring = empty_locked();
            const std::size_t offset = queue_.bytes.size();
            try {
                encode(queue_.bytes);
                if (route != nullptr && (queue_.routes.empty() || queue_.routes.back() != route))
                    queue_.routes.push_back(route);
                queue_.items.push_back(
                    Outgoing{route.get(), std::string(node), creation, offset, queue_.bytes.size() - offset});
                queued_bytes_.store(bytes_locked(), std::memory_order_relaxed);
                pending_.store(true, std::memory_order_relaxed);
                if (on_consumer_thread()) queued_by_consumer_.store(true, std::memory_order_relaxed);
                queued();
            } catch (...) {
                queue_.bytes.resize(offset);  // nothing half-queued
                throw;
            }
        }
        if (ring) wake();
        return true;
    }
    // Queues a typed command (never refused: commands are small, and a
    // caller of join or monitor waits for nothing).
    void post(Command command);
    // Runs on the I/O thread: the calling thread becomes the consumer.
    void set_consumer() { set_consumer(std::this_thread::get_id()); }
    // A receiver leading (Leadership) is the consumer while it leads.
    void set_consumer(std::thread::id id) { consumer_.store(id, std::memory_order_relaxed); }
    std::thread::id consumer() const noexcept { return consumer_.load(std::memory_order_relaxed); }
    // Who may lead in the I/O thread's place; the doorbell ends its lease.
    Leadership& leadership() noexcept { return *leadership_; }
    const std::shared_ptr<Leadership>& shared_leadership() const noexcept { return leadership_; }
    // The caller is the I/O thread (a callback on the delivering thread),
    // which must never wait for room: only it could make the room.
    bool on_consumer_thread() const noexcept {
        return std::this_thread::get_id() == consumer_.load(std::memory_order_relaxed);
    }
    // Runs on the I/O thread: swaps everything queued into `out` (cleared
    // first); with `doorbell`, also clears the doorbell (it rang).
    void drain(OutgoingBatch& out, bool doorbell);
    int fd() const noexcept { return fd_; }
    // Something is queued (a hint: read without the lock).
    bool pending() const noexcept { return pending_.load(std::memory_order_relaxed); }
    // The consumer itself queued something (a callback on the delivering
    // thread sent, or posted a command) since the queue was last taken.
    bool queued_by_consumer() const noexcept { return queued_by_consumer_.load(std::memory_order_relaxed); }

    // The I/O thread holds io_lock() whenever it is not asleep in poll. A
    // sender that queues into an empty queue, after a pause of more than
    // `burst_gap` since the last such message, and finds the lock free sends
    // what waits itself with `flusher` (set and cleared by the I/O thread
    // under io_lock()): a message then costs one thread wake-up fewer. The
    // flusher returns false when the I/O thread must look after all (typed
    // commands wait, or a socket wants it): the doorbell rings then.
    std::mutex& io_lock() noexcept { return io_lock_; }
    void set_flusher(std::function<bool()> flusher) { flusher_ = std::move(flusher); }
    void set_burst_gap(std::chrono::nanoseconds gap) noexcept { burst_gap_ = gap; }  // before any push
    // Runs under io_lock(), on whichever thread holds it: swaps the queued
    // messages into `out` (cleared first); false, with nothing taken, when
    // typed commands wait too (only the I/O thread carries those out).
    bool drain_messages(OutgoingBatch& out);

    // Bytes of the messages waiting (a gauge, read without the lock).
    std::size_t queued_bytes() const noexcept { return queued_bytes_.load(std::memory_order_relaxed); }
    // What drain() or drain_messages() took is in its peers' queues now.
    // Under OverflowPolicy::block those bytes count against the bound until
    // then: a full peer queue says so (Link::congested) only once its
    // messages are in it, and room made before that would let senders past
    // the congestion check a whole queue more than the peer's hard limit
    // was sized for (a publisher flooding while the I/O thread was
    // descheduled between taking and packing lost messages that way).
    void packed();

private:
    bool empty_locked() const { return queue_.items.empty() && queue_.commands.empty(); }
    // What the waiting messages cost: their bytes and their bookkeeping.
    std::size_t bytes_locked() const {
        return queue_.bytes.size() + queue_.items.size() * sizeof(Outgoing) + taken_bytes_;
    }
    // The I/O thread itself (a callback answering) needs no doorbell: it
    // looks at the queue before it polls again.
    void ring_doorbell();
    // Swaps everything queued into `out` (cleared first) if `whether()`,
    // asked under the queue's lock; false when it said no.
    template <typename Whether>
    bool take(OutgoingBatch& out, Whether&& whether);
    // After queuing into an empty queue: sends it on this thread if the I/O
    // thread sleeps and the message starts a burst, else rings the doorbell.
    void wake();

    int fd_ = -1;
    std::shared_ptr<Leadership> leadership_;  // polls fd_ too
    std::mutex io_lock_;
    std::function<bool()> flusher_;  // guarded by io_lock_
    // When wake() last ran (steady_clock ticks), and the pause after which a
    // message starts a new burst.
    std::atomic<std::int64_t> last_wake_{0};
    std::chrono::nanoseconds burst_gap_ = std::chrono::microseconds(50);
    std::mutex mutex_;
    OutgoingBatch queue_;
    std::atomic<bool> pending_{false};
    std::atomic<bool> queued_by_consumer_{false};
    std::atomic<std::thread::id> consumer_{};
    std::condition_variable room_;  // packed() made room
    std::size_t taken_bytes_ = 0;   // under block: taken, not yet packed (guarded by mutex_)
    std::size_t limit_bytes_ = SIZE_MAX;
    bool block_ = false;
    std::chrono::milliseconds timeout_{0};
    std::atomic<std::size_t> queued_bytes_{0};
};

}  // namespace liminal::detail
