#pragma once
// The queue behind Node::next_event().

#include <liminal/events.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace liminal::detail {

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

}  // namespace liminal::detail
