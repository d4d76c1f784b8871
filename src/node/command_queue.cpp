#include "node/command_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace liminal::detail {

CommandQueue::CommandQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    leadership_ = std::make_shared<Leadership>(fd_);
}

CommandQueue::~CommandQueue() { ::close(fd_); }

void CommandQueue::post(Command command) {
    bool ring = false;
    {
        std::lock_guard lock(mutex_);
        ring = empty_locked();
        queue_.commands.push_back(std::move(command));
        pending_.store(true, std::memory_order_relaxed);
        if (on_consumer_thread()) queued_by_consumer_.store(true, std::memory_order_relaxed);
    }
    if (ring) ring_doorbell();
}

void CommandQueue::ring_doorbell() {
    if (std::this_thread::get_id() == consumer_.load(std::memory_order_relaxed)) return;
    const std::uint64_t one = 1;
    // A full eventfd counter (EAGAIN) still means "readable": nothing is lost.
    [[maybe_unused]] const auto written = ::write(fd_, &one, sizeof one);
    leadership_->nudge();  // a parked I/O thread looks now, not after its lease
}

void CommandQueue::wake() {
    // Only a sender that starts a new burst sends itself: within a burst,
    // the doorbell lets messages gather while the I/O thread wakes, so they
    // leave packed in few frames (CurveZMQ encrypts per frame).
    const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    const std::int64_t last = last_wake_.exchange(now, std::memory_order_relaxed);
    if (now - last > burst_gap_.count() && !on_consumer_thread()) {
        std::unique_lock io(io_lock_, std::try_to_lock);
        if (io && flusher_) {
            try {
                if (flusher_()) return;
            } catch (...) {
                ring_doorbell();  // whatever the flusher left, the I/O thread sends
                throw;
            }
        }
    }
    ring_doorbell();
}

bool CommandQueue::drain_messages(OutgoingBatch& out) {
    return take(out, [this] { return queue_.commands.empty(); });
}

void CommandQueue::drain(OutgoingBatch& out, bool doorbell) {
    if (doorbell) {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto read = ::read(fd_, &count, sizeof count);
    }
    take(out, [] { return true; });
}

template <typename Whether>
bool CommandQueue::take(OutgoingBatch& out, Whether&& whether) {
    out.clear();
    {
        std::lock_guard lock(mutex_);
        if (!whether()) return false;
        std::swap(out, queue_);
        pending_.store(false, std::memory_order_relaxed);
        queued_by_consumer_.store(false, std::memory_order_relaxed);
        queued_bytes_.store(0, std::memory_order_relaxed);
        if (block_) taken_bytes_ = out.bytes.size() + out.items.size() * sizeof(Outgoing);
    }
    return true;
}

void CommandQueue::packed() {
    {
        std::lock_guard lock(mutex_);
        if (taken_bytes_ == 0) return;
        taken_bytes_ = 0;
    }
    room_.notify_all();
}

}  // namespace liminal::detail
