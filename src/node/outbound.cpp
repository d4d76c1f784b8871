// What the API threads queued, on the I/O thread: pre-encoded SEND and
// PUBLISH messages go into their peers' next frames (one frame per peer per
// batch), then the batch's typed commands are carried out in order.

#include "node/actor.hpp"

#include <spdlog/spdlog.h>

namespace liminal::detail {

void Actor::on_commands(bool doorbell) {
    core_.commands.drain(outgoing_, doorbell);
    for (const auto& item : outgoing_.items) queue_outgoing(item, outgoing_.message(item));
    bump(core_.counters.publish_frames_out, batch_publishes_out_);  // once per batch: an atomic add
    batch_publishes_out_ = 0;
    outgoing_.routes.clear();  // nothing may point at the batch's routes after this
    resolved_route_ = nullptr;
    resolved_links_.clear();
    // Everything queued for a peer in this batch leaves as one frame.
    for (auto& [endpoint, link] : links_) link->flush();
    for (const auto& command : outgoing_.commands) std::visit([this](const auto& c) { on_command(c); }, command);
}

void Actor::on_command(const command::Stop&) { stop_requested_ = true; }

void Actor::on_command(const command::Gossip&) { gossip(false); }

void Actor::on_command(const command::PublishDigest&) { gossip(true); }

void Actor::queue_outgoing(const Outgoing& item, std::string_view message) {
    if (!item.route) {
        // A directed send: Node::send checked the route, which may have changed since.
        const Peer* peer = peers_.find(item.node);
        Link* link = peer == nullptr ? nullptr : peer->up_link();
        if (peer == nullptr)
            bump(core_.counters.dropped_unknown_node);
        else if (link == nullptr)
            bump(core_.counters.dropped_node_down);
        else if (peer->creation != item.creation)
            bump(core_.counters.dropped_stale_creation);
        else
            link->pack(message);
        return;
    }
    // A publish: once per node with subscribers. Consecutive publishes to one
    // channel share the route, so its links are looked up once per batch.
    if (resolved_route_ != item.route) {
        resolved_route_ = item.route;
        resolved_links_.clear();
        for (const auto& node : item.route->remote) {
            Link* link = peers_.up_link(node.name);
            resolved_links_.push_back(link != nullptr && link->peer_creation() == node.creation ? link : nullptr);
        }
    }
    std::size_t sent = 0;
    for (Link* link : resolved_links_) {
        if (link == nullptr) continue;
        link->pack(message);
        ++sent;
    }
    batch_publishes_out_ += sent;
    if (sent < resolved_links_.size()) bump(core_.counters.dropped_node_down, resolved_links_.size() - sent);
}

}  // namespace liminal::detail
