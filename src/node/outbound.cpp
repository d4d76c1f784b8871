#include "node/outbound.hpp"

#include "node/channels.hpp"

namespace liminal::detail {

void Outbound::pack(const OutgoingBatch& batch) {
    for (const auto& item : batch.items) {
        if (item.route == nullptr)
            pack_send(item, batch.message(item));
        else
            pack_publish(item, batch.message(item));
    }
    // Messages that reach no link, counted once per batch (one ledger lock).
    settle(counters_, counters_.in_flight_peers, counters_.dropped_unknown_node, unknown_);
    settle(counters_, counters_.in_flight_peers, counters_.dropped_node_down, down_);
    settle(counters_, counters_.in_flight_peers, counters_.dropped_stale_creation, stale_);
    unknown_ = down_ = stale_ = 0;
    resolved_route_ = nullptr;
    resolved_links_.clear();
}

void Outbound::pack_send(const Outgoing& item, std::string_view message) {
    // Node::send checked the route, which may have changed since.
    const Peer* peer = peers_.find(item.node);
    Link* link = peer == nullptr ? nullptr : peer->up_link();
    if (peer == nullptr)
        ++unknown_;
    else if (link == nullptr)
        ++down_;
    else if (peer->creation != item.creation)
        ++stale_;
    else
        link->pack(message, false);  // the link counts where it ends
}

void Outbound::pack_publish(const Outgoing& item, std::string_view message) {
    // Once per node with subscribers.
    if (resolved_route_ != item.route) {
        resolved_route_ = item.route;
        resolved_links_.clear();
        for (const auto& node : item.route->remote) {
            Link* link = peers_.up_link(node.name);
            resolved_links_.push_back(link != nullptr && link->peer_creation() == node.creation ? link : nullptr);
        }
    }
    std::size_t sent = 0, refused = 0;
    for (Link* link : resolved_links_) {
        if (link == nullptr) continue;
        if (link->pack(message, true))
            ++sent;
        else
            ++refused;  // counted by the link, under the node and the peer
    }
    const std::size_t down = resolved_links_.size() - sent - refused;
    down_ += down;
    if (item.route->counters != nullptr) bump(item.route->counters->nodes_dropped, down + refused);
}

}  // namespace liminal::detail
