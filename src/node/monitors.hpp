#pragma once
// Delivery of membership changes to Monitor handles.

#include "membership/state.hpp"

#include <liminal/groups.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace liminal::detail {

// One monitor's event queue, bounded in bytes, and its filter.
class MonitorQueue {
public:
    MonitorQueue(std::string scope, std::optional<std::string> group, std::size_t limit_bytes,
                 std::atomic<std::uint64_t>* dropped)
        : scope_(std::move(scope)), group_(std::move(group)), limit_bytes_(limit_bytes), dropped_(dropped) {}

    bool matches(const std::string& scope, const std::string& group) const {
        return scope == scope_ && (!group_ || *group_ == group);
    }
    void push(GroupEvent event);
    std::optional<GroupEvent> pop(std::chrono::milliseconds timeout);
    std::size_t size() const;
    // Discards what is queued and everything pushed later; wakes pop.
    void cancel();

private:
    const std::string scope_;
    const std::optional<std::string> group_;
    const std::size_t limit_bytes_;
    std::atomic<std::uint64_t>* const dropped_;  // the node's monitor_events_dropped
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<GroupEvent> events_;
    std::size_t bytes_ = 0;
    bool lost_ = false;                          // a Kind::lost is due before the next event
    bool cancelled_ = false;
};

// The node's monitors. dispatch() runs under the membership lock, so events
// reach every monitor in the order the state changed.
class MonitorHub {
public:
    void add(std::shared_ptr<MonitorQueue> queue);
    bool remove(const MonitorQueue* queue);  // false: it was not there
    void dispatch(const std::vector<membership::Change>& changes);
    // Whether any monitor listens (registration takes the membership lock
    // shared; a caller holding it exclusively gets a stable answer).
    bool listening();

private:
    std::mutex mutex_;
    std::vector<std::shared_ptr<MonitorQueue>> queues_;
};

}  // namespace liminal::detail
