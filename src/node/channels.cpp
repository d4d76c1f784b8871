#include "node/channels.hpp"

#include "node/node_core.hpp"

#include <liminal/groups.hpp>

#include <array>

namespace liminal::detail {

std::shared_ptr<const ChannelRoute> channel_route(NodeCore& core, std::string_view channel, bool publishing) {
    struct Cached {
        std::uint64_t node = 0;  // NodeCore::creation: unique within the process, never reused
        std::shared_ptr<const ChannelRoute> route;
    };
    thread_local std::array<Cached, 4> cache;
    thread_local std::size_t next_slot = 0;

    Membership& membership = *core.membership;
    const auto version = membership.version.load(std::memory_order_acquire);
    for (const auto& slot : cache) {
        if (slot.node == core.creation && slot.route->version == version && slot.route->channel == channel &&
            (slot.route->counters != nullptr || !publishing))
            return slot.route;
    }
    auto route = std::make_shared<ChannelRoute>();
    route->channel = std::string(channel);
    {
        const std::string scope(channels_scope);
        std::shared_lock lock(membership.mutex);
        // Read under the lock: a Write bumps the version while it holds it.
        route->version = membership.version.load(std::memory_order_acquire);
        route->local = membership.state.local_members(scope, route->channel);
        for (auto& [name, creation] : membership.state.remote_nodes(scope, route->channel))
            route->remote.push_back(ChannelRoute::Node{std::move(name), creation});
    }
    // A channel gets counters once it has a local subscriber or a local
    // publisher: a peer cannot grow the table by naming channels nobody here uses.
    if (publishing || !route->local.empty()) route->counters = &core.channels.at(channel);
    cache[next_slot] = Cached{core.creation, route};
    next_slot = (next_slot + 1) % cache.size();
    return route;
}

ChannelCounters& ChannelTable::at(std::string_view channel) {
    std::lock_guard lock(mutex_);
    if (const auto it = channels_.find(channel); it != channels_.end()) return *it->second;
    return *channels_.emplace(std::string(channel), std::make_unique<ChannelCounters>()).first->second;
}

std::vector<ChannelStats> ChannelTable::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<ChannelStats> out;
    for (const auto& [name, c] : channels_) {
        out.push_back(ChannelStats{name, c->published.load(), c->nodes_sent.load(), c->received.load(),
                                   c->delivered.load(), c->dropped.load(), c->nodes_dropped.load()});
    }
    return out;
}

}  // namespace liminal::detail
