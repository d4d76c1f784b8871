#pragma once
// What a Node handle holds, shared by node.cpp and groups.cpp.

#include "node/delivery.hpp"
#include "node/io_thread.hpp"
#include "node/node_core.hpp"
#include "wire/codec.hpp"

#include <liminal/groups.hpp>

#include <memory>
#include <mutex>
#include <optional>

namespace liminal::detail {

// After a local membership change (membership lock held exclusively): tell
// monitors, queue own deltas and wake the I/O thread to gossip them.
void finish_local_change(NodeCore& core, membership::Effects& fx);
// A local process closed: it leaves every group.
void leave_all(NodeCore& core, std::uint64_t id);
// What the API does with the codec's verdict on a message (wire::check_send,
// check_publish): true when it is too large for a frame (counted in
// dropped_too_large: the caller returns too_large); throws InvalidArgument,
// naming `call`, for any other refusal; false when it may be sent.
bool refused_as_too_large(wire::Refusal refusal, Counters& counters, const char* call);

struct NodeImpl {
    std::shared_ptr<NodeCore> core = std::make_shared<NodeCore>();
    std::unique_ptr<IoThread> io;  // null once stopped
    std::mutex stop_mutex;         // serialises stop()
    Pid node_pid;           // the node itself as a sender (id 0), built once: a Pid copies the name

    // The local ids of `pids`; throws NotLocal for any pid that is not a live
    // process of this node. Join calls it under the membership write lock.
    std::vector<std::uint64_t> local_ids(const std::vector<Pid>& pids) const;
    Monitor monitor(const std::string& scope, const std::optional<std::string>& group);
    // The mailbox of `from`, a publisher of this node (null: the node itself,
    // id 0); throws NotLocal for any other pid.
    std::shared_ptr<Mailbox> publisher(const Pid& from) const;
    MessageId next_message_id();
};

}  // namespace liminal::detail
