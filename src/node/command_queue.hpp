#pragma once
// API threads -> I/O thread: pre-encoded SEND and PUBLISH messages (the hot
// path) and typed commands, in one queue.

#include "node/commands.hpp"

#include <atomic>
#include <cstdint>
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
// both sides keep their buffers' capacity.
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
            ring = empty_locked();
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
        if (ring) ring_doorbell();
    }
    // Queues a typed command.
    void post(Command command);
    // Runs on the I/O thread: the calling thread becomes the consumer.
    void set_consumer() { consumer_.store(std::this_thread::get_id(), std::memory_order_relaxed); }
    // Runs on the I/O thread: swaps everything queued into `out` (cleared
    // first); with `doorbell`, also clears the doorbell (it rang).
    void drain(OutgoingBatch& out, bool doorbell);
    int fd() const noexcept { return fd_; }
    // Something is queued (a hint: read without the lock).
    bool pending() const noexcept { return pending_.load(std::memory_order_relaxed); }

private:
    bool empty_locked() const { return queue_.items.empty() && queue_.commands.empty(); }
    // The I/O thread itself (a callback answering) needs no doorbell: it
    // looks at the queue before it polls again.
    void ring_doorbell();

    int fd_ = -1;
    std::mutex mutex_;
    OutgoingBatch queue_;
    std::atomic<bool> pending_{false};
    std::atomic<std::thread::id> consumer_{};
};

}  // namespace liminal::detail
