#pragma once
// Process groups (as Erlang's pg) and channels: the types the Node's group
// and channel functions use.

#include <liminal/message.hpp>
#include <liminal/pid.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liminal {

// The scope used when none is named, and the scope channels live in.
inline constexpr std::string_view default_scope = "default";
inline constexpr std::string_view channels_scope = "channels";

// Pids joined or left a group. Events caused by a purge (a peer went down,
// or came back as a new creation) are leaves like any other.
struct GroupEvent {
    // `lost`: the monitor was not read and its queue (limits.monitor_queue_bytes)
    // overflowed: the events before this one are gone, so snapshot() plus the
    // events no longer add up to the membership. Create a new Monitor for an
    // exact state. Only `kind` is set.
    enum class Kind { join, leave, lost };
    Kind kind = Kind::join;
    std::string scope;
    std::string group;
    std::string node;      // the node that owns the pids
    std::vector<Pid> pids;
    bool local = false;    // the pids are this node's
};

// One group's members, as a monitor's initial snapshot lists them.
struct GroupMembers {
    std::string group;
    std::vector<Pid> pids;
};

namespace detail { class MonitorQueue; class MonitorHub; struct NodeImpl; }

// A subscription to the membership changes of a scope (or of one group in
// it). It starts with a snapshot taken atomically with the registration, so
// that snapshot + events never miss or repeat a change. Destroying it
// unregisters it. Events queue until read, up to limits.monitor_queue_bytes;
// past that the queue is emptied and next() returns one Kind::lost event
// (counted under Stats::monitor_events_dropped). A moved-from
// Monitor is empty: every member but the destructor and assignment throws
// liminal::Error of ErrorKind::closed.
class Monitor {
public:
    Monitor(Monitor&&) noexcept;
    Monitor& operator=(Monitor&&) noexcept;
    ~Monitor();

    const std::vector<GroupMembers>& snapshot() const;
    // The next event, waiting up to `timeout`; none at once once cancelled.
    std::optional<GroupEvent> next(std::chrono::milliseconds timeout);
    std::size_t pending() const;
    // Stops the monitor (pg's demonitor): no event is queued from here on,
    // the queued ones are discarded, and a next() waiting on another thread
    // returns. True if it was active: false when cancelled before, or when
    // its node has stopped. The snapshot stays readable.
    bool cancel();

private:
    friend struct detail::NodeImpl;
    Monitor(std::vector<GroupMembers> snapshot, std::shared_ptr<detail::MonitorQueue> queue,
            std::weak_ptr<detail::MonitorHub> hub);

    std::vector<GroupMembers> snapshot_;
    std::shared_ptr<detail::MonitorQueue> queue_;
    std::weak_ptr<detail::MonitorHub> hub_;
};

// What the convergence barrier found.
struct SyncResult {
    bool ok = false;                   // every live peer applied this node's membership
    std::vector<std::string> lagging;  // when not: the peers that had not acknowledged
};

struct PublishResult {
    std::size_t local_deliveries = 0;  // local subscribers that got it
    std::size_t local_dropped = 0;     // local subscribers whose mailbox was full
    std::size_t nodes = 0;             // remote nodes it was sent to (once each)
    bool too_large = false;            // refused: its frame would exceed limits.max_frame_bytes; nothing was sent
    // OverflowPolicy::block (limits.peer_overflow): a node's queue, or the
    // outbound queue, stayed full for limits.block_timeout; nothing was sent
    // or delivered (counted under would_block, not publishes).
    bool would_block = false;
    // The node's outbound queue was full: no remote node got it (counted
    // under dropped_queue_full); local subscribers did.
    bool queue_full = false;
    MessageId id{};
};

}  // namespace liminal
