#include "node/monitors.hpp"

#include <liminal/error.hpp>

#include <algorithm>

namespace liminal {

Monitor::Monitor(std::vector<GroupMembers> snapshot, std::shared_ptr<detail::MonitorQueue> queue,
                 std::weak_ptr<detail::MonitorHub> hub)
    : snapshot_(std::move(snapshot)), queue_(std::move(queue)), hub_(std::move(hub)) {}

Monitor::Monitor(Monitor&&) noexcept = default;

Monitor& Monitor::operator=(Monitor&& other) noexcept {
    if (this != &other) {
        if (auto hub = hub_.lock(); hub && queue_) hub->remove(queue_.get());
        snapshot_ = std::move(other.snapshot_);
        queue_ = std::move(other.queue_);
        hub_ = std::move(other.hub_);
    }
    return *this;
}

Monitor::~Monitor() {
    if (auto hub = hub_.lock(); hub && queue_) hub->remove(queue_.get());
}

namespace {
detail::MonitorQueue& require(const std::shared_ptr<detail::MonitorQueue>& queue) {
    if (!queue) throw Closed("liminal::Monitor: use of an empty (moved-from) monitor");
    return *queue;
}
}  // namespace

const std::vector<GroupMembers>& Monitor::snapshot() const {
    require(queue_);
    return snapshot_;
}

std::optional<GroupEvent> Monitor::next(std::chrono::milliseconds timeout) { return require(queue_).pop(timeout); }

std::size_t Monitor::pending() const { return require(queue_).size(); }

bool Monitor::cancel() {
    auto& queue = require(queue_);
    bool active = false;
    if (auto hub = hub_.lock()) active = hub->remove(&queue);  // no event reaches it after this
    hub_.reset();
    queue.cancel();
    return active;
}

namespace detail {

namespace {
std::size_t event_cost(const GroupEvent& event) {
    std::size_t cost = 96 + event.scope.size() + event.group.size() + event.node.size();
    for (const auto& pid : event.pids) cost += sizeof(Pid) + pid.node.size();
    return cost;
}
}  // namespace

void MonitorQueue::push(GroupEvent event) {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
    const std::size_t cost = event_cost(event);
    if (bytes_ + cost > limit_bytes_) {
        // Nobody reads: what waits is worth nothing without what follows.
        if (dropped_ != nullptr) dropped_->fetch_add(events_.size() + 1, std::memory_order_relaxed);
        events_.clear();
        bytes_ = 0;
        lost_ = true;
        ready_.notify_one();
        return;
    }
    bytes_ += cost;
    events_.push_back(std::move(event));
    ready_.notify_one();
}

void MonitorQueue::cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    events_.clear();
    bytes_ = 0;
    lost_ = false;
    ready_.notify_all();
}

std::optional<GroupEvent> MonitorQueue::pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [this] { return !events_.empty() || lost_ || cancelled_; });
    if (cancelled_) return std::nullopt;
    if (lost_) {
        lost_ = false;
        GroupEvent lost;
        lost.kind = GroupEvent::Kind::lost;
        return lost;
    }
    if (events_.empty()) return std::nullopt;
    GroupEvent event = std::move(events_.front());
    events_.pop_front();
    bytes_ -= event_cost(event);
    return event;
}

std::size_t MonitorQueue::size() const {
    std::lock_guard lock(mutex_);
    return events_.size();
}

void MonitorHub::add(std::shared_ptr<MonitorQueue> queue) {
    std::lock_guard lock(mutex_);
    queues_.push_back(std::move(queue));
}

bool MonitorHub::remove(const MonitorQueue* queue) {
    std::lock_guard lock(mutex_);
    return std::erase_if(queues_, [&](const auto& q) { return q.get() == queue; }) > 0;
}

bool MonitorHub::listening() {
    std::lock_guard lock(mutex_);
    return !queues_.empty();
}

void MonitorHub::dispatch(const std::vector<membership::Change>& changes) {
    if (changes.empty()) return;
    std::lock_guard lock(mutex_);
    if (queues_.empty()) return;
    for (const auto& change : changes) {
        GroupEvent event;
        event.kind = change.join ? GroupEvent::Kind::join : GroupEvent::Kind::leave;
        event.scope = change.scope;
        event.group = change.group;
        event.node = change.node;
        event.local = change.local;
        for (const auto id : change.ids) event.pids.push_back(Pid{change.node, change.creation, id});
        for (const auto& queue : queues_) {
            if (queue->matches(change.scope, change.group)) queue->push(event);
        }
    }
}

}  // namespace detail
}  // namespace liminal
