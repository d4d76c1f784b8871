// Node's process-group functions. They run on the caller's thread under the
// membership lock; own deltas go to the outbox and the I/O thread gossips
// them. Channels (subscribe, publish) are in publish.cpp.

#include <liminal/node.hpp>

#include "node/impl.hpp"
#include "wire/codec.hpp"

#include <chrono>

namespace liminal {
namespace {

void check_name(std::string_view what, std::string_view name) {
    if (!detail::wire::is_valid_name(name))
        throw InvalidArgument("liminal: " + std::string(what) + " names are 1 to " +
                              std::to_string(detail::wire::max_name_bytes) + " bytes");
}

// A pid that names no process anywhere (no node name, or id 0, which is a
// node itself as a sender) is a usage error, not a question of locality.
void check_pid(const Pid& pid) {
    if (!is_valid_node_name(pid.node) || pid.id == 0)
        throw InvalidArgument("liminal: " + pid.to_string() + " is not a process id");
}

std::vector<Pid> to_pids(const std::vector<detail::membership::State::Member>& members) {
    std::vector<Pid> out;
    out.reserve(members.size());
    for (const auto& m : members) out.push_back(Pid{m.node, m.creation, m.id});
    return out;
}

}  // namespace

namespace detail {

std::vector<std::uint64_t> NodeImpl::local_ids(const std::vector<Pid>& pids) const {
    std::vector<std::uint64_t> ids;
    ids.reserve(pids.size());
    for (const auto& pid : pids) check_pid(pid);
    for (const auto& pid : pids) {
        if (pid.node != core->options.name || pid.creation != core->creation || !core->processes->find(pid.id))
            throw NotLocal("liminal: " + pid.to_string() + " is not a live process of this node");
        ids.push_back(pid.id);
    }
    return ids;
}

std::shared_ptr<Mailbox> NodeImpl::publisher(const Pid& from) const {
    if (from.node != core->options.name || from.creation != core->creation)
        throw NotLocal("liminal::Node::publish: the sender must be a process of this node");
    if (from.id == 0) return nullptr;
    auto sender = core->processes->find(from.id);
    if (!sender) throw NotLocal("liminal::Node::publish: " + from.to_string() + " is not live");
    return sender;
}

bool refused_as_too_large(wire::Refusal refusal, Counters& counters, const char* call) {
    switch (refusal) {
    case wire::Refusal::none: return false;
    case wire::Refusal::too_large: refuse(counters, counters.dropped_too_large); return true;
    default: throw InvalidArgument(std::string(call) + ": " + wire::to_string(refusal));
    }
}

void finish_local_change(NodeCore& core, membership::Effects& fx) {
    if (record_effects(*core.membership, fx)) core.commands.post(command::Gossip{});
}

void leave_all(NodeCore& core, std::uint64_t id) {
    auto& membership = *core.membership;
    detail::Membership::Write lock(membership);
    membership::Effects fx;
    membership.state.leave_all(id, fx);
    finish_local_change(core, fx);
}

}  // namespace detail

void Node::join(std::string_view scope, std::string_view group, const Pid& pid) {
    join(scope, group, std::vector<Pid>{pid});
}

void Node::join(std::string_view scope, std::string_view group, const std::vector<Pid>& pids) {
    check_name("scope", scope);
    check_name("group", group);
    auto& membership = *impl().core->membership;
    // Under the lock: a process that closes after this check leaves all its
    // groups under the same lock, so after these joins, never before them.
    detail::Membership::Write lock(membership);
    const auto ids = impl().local_ids(pids);
    if (impl().core->testing.joining && !ids.empty()) impl().core->testing.joining(ids.front());
    detail::membership::Effects fx;
    membership.state.join(std::string(scope), std::string(group), ids, fx);
    detail::finish_local_change(*impl().core, fx);
}

bool Node::leave(std::string_view scope, std::string_view group, const Pid& pid) {
    return leave(scope, group, std::vector<Pid>{pid});
}

bool Node::leave(std::string_view scope, std::string_view group, const std::vector<Pid>& pids) {
    check_name("scope", scope);
    check_name("group", group);
    for (const auto& pid : pids) check_pid(pid);
    std::vector<std::uint64_t> ids;
    for (const auto& pid : pids) {
        if (pid.node != name() || pid.creation != creation())
            throw NotLocal("liminal: " + pid.to_string() + " is not a process of this node");
        ids.push_back(pid.id);
    }
    auto& membership = *impl().core->membership;
    detail::Membership::Write lock(membership);
    detail::membership::Effects fx;
    const std::size_t left = membership.state.leave(std::string(scope), std::string(group), ids, fx);
    detail::finish_local_change(*impl().core, fx);
    return left > 0;
}

std::vector<Pid> Node::members(std::string_view scope, std::string_view group) const {
    auto& membership = *impl().core->membership;
    std::shared_lock lock(membership.mutex);
    return to_pids(membership.state.members(std::string(scope), std::string(group)));
}

std::vector<Pid> Node::local_members(std::string_view scope, std::string_view group) const {
    auto& membership = *impl().core->membership;
    std::vector<std::uint64_t> ids;
    {
        std::shared_lock lock(membership.mutex);
        ids = membership.state.local_members(std::string(scope), std::string(group));
    }
    std::vector<Pid> out;
    for (const auto id : ids) out.push_back(Pid{name(), creation(), id});
    return out;
}

std::vector<Pid> Node::remote_members(std::string_view scope, std::string_view group) const {
    auto& membership = *impl().core->membership;
    std::shared_lock lock(membership.mutex);
    return to_pids(membership.state.remote_members(std::string(scope), std::string(group)));
}

std::vector<std::string> Node::which_groups(std::string_view scope) const {
    auto& membership = *impl().core->membership;
    std::shared_lock lock(membership.mutex);
    return membership.state.which_groups(std::string(scope));
}

std::vector<std::string> Node::which_local_groups(std::string_view scope) const {
    auto& membership = *impl().core->membership;
    std::shared_lock lock(membership.mutex);
    return membership.state.which_local_groups(std::string(scope));
}

Monitor Node::monitor(std::string_view scope) { return impl().monitor(std::string(scope), std::nullopt); }

Monitor Node::monitor(std::string_view scope, std::string_view group) {
    return impl().monitor(std::string(scope), std::string(group));
}

Monitor detail::NodeImpl::monitor(const std::string& scope, const std::optional<std::string>& group) {
    auto& membership = *core->membership;
    auto queue = std::make_shared<MonitorQueue>(scope, group, core->options.limits.monitor_queue_bytes,
                                                &core->counters.monitor_events_dropped);
    std::vector<GroupMembers> snapshot;
    // Registering under the lock that every change takes: snapshot and events
    // line up exactly.
    std::shared_lock lock(membership.mutex);
    const auto groups = group ? std::vector<std::string>{*group} : membership.state.which_groups(scope);
    for (const auto& g : groups) {
        auto pids = to_pids(membership.state.members(scope, g));
        if (!pids.empty()) snapshot.push_back(GroupMembers{g, std::move(pids)});
    }
    membership.monitors->add(queue);
    return Monitor(std::move(snapshot), std::move(queue), membership.monitors);
}

SyncResult Node::sync_membership(std::chrono::milliseconds timeout) {
    auto& core = *impl().core;
    std::uint64_t target = 0;
    {
        std::shared_lock lock(core.membership->mutex);
        target = core.membership->state.seq();
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::vector<std::string> up;
        for (const auto& peer : peers()) {
            if (peer.state == PeerState::up) up.push_back(peer.name);
        }
        // Ask for a DIGEST now (the answer is the acknowledgement), and again
        // every so often: gossip may be lost.
        core.commands.post(detail::command::PublishDigest{});
        const auto slice = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
        auto lagging = core.acks.wait(up, target, slice);
        if (lagging.empty()) return SyncResult{true, {}};
        if (std::chrono::steady_clock::now() >= deadline) return SyncResult{false, std::move(lagging)};
    }
}

}  // namespace liminal
