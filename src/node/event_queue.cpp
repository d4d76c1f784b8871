#include "node/event_queue.hpp"

namespace liminal::detail {

bool EventQueue::push(PeerEvent event) {
    std::lock_guard lock(mutex_);
    bool kept_all = true;
    if (events_.size() >= capacity) {
        events_.pop_front();
        kept_all = false;
    }
    events_.push_back(std::move(event));
    ready_.notify_one();
    return kept_all;
}

std::optional<PeerEvent> EventQueue::pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [this] { return !events_.empty() || closed_; });
    if (events_.empty()) return std::nullopt;
    PeerEvent event = std::move(events_.front());
    events_.pop_front();
    return event;
}

void EventQueue::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
}

}  // namespace liminal::detail
