// The I/O thread's outbound path: what the API threads queued goes into
// per-peer frames (one per peer per batch), and frames a peer's DEALER will
// not take yet wait in the link's queue until it is writable.

#include "node/actor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace liminal::detail {
namespace {

constexpr std::size_t max_pack_bytes = 256 * 1024;

std::size_t pack_limit(const Options& options) { return std::min(max_pack_bytes, options.limits.max_frame_bytes); }

}  // namespace

void Actor::on_commands(bool doorbell) {
    core_.commands.drain(outgoing_, doorbell);
    for (const auto& item : outgoing_.items) queue_outgoing(item, outgoing_.message(item));
    bump(core_.counters.publish_frames_out, batch_publishes_out_);  // once per batch: an atomic add
    batch_publishes_out_ = 0;
    outgoing_.routes.clear();  // nothing may point at the batch's routes after this
    resolved_route_ = nullptr;
    resolved_links_.clear();
    // Everything queued for a peer in this batch leaves as one frame.
    for (auto& [endpoint, link] : links_) flush(*link);
    for (const auto& command : outgoing_.commands) std::visit([this](const auto& c) { on_command(c); }, command);
}

void Actor::on_command(const command::Stop&) { stop_requested_ = true; }

void Actor::on_command(const command::Gossip&) { gossip(false); }

void Actor::on_command(const command::PublishDigest&) { gossip(true); }

void Actor::queue_outgoing(const Outgoing& item, std::string_view message) {
    if (!item.route) {
        // A directed send: Node::send checked the route, which may have changed since.
        const auto peer = peers_.find(item.node);
        if (peer == peers_.end()) {
            bump(core_.counters.dropped_unknown_node);
        } else if (peer->second.state != PeerState::up || peer->second.link == nullptr ||
                   peer->second.link->state != Link::State::up) {
            bump(core_.counters.dropped_node_down);
        } else if (peer->second.creation != item.creation) {
            bump(core_.counters.dropped_stale_creation);
        } else {
            queue_encoded(*peer->second.link, message);
        }
        return;
    }
    // A publish: once per node with subscribers. Consecutive publishes to one
    // channel share the route, so its links are looked up once per batch.
    if (resolved_route_ != item.route) {
        resolved_route_ = item.route;
        resolved_links_.clear();
        for (const auto& node : item.route->remote) {
            Link* link = up_link(node.name);
            resolved_links_.push_back(link != nullptr && link->peer_creation == node.creation ? link : nullptr);
        }
    }
    std::size_t sent = 0;
    for (Link* link : resolved_links_) {
        if (link == nullptr) continue;
        queue_encoded(*link, message);
        ++sent;
    }
    batch_publishes_out_ += sent;
    if (sent < resolved_links_.size()) bump(core_.counters.dropped_node_down, resolved_links_.size() - sent);
}

void Actor::queue_encoded(Link& link, std::string_view message) {
    if (link.packing.size() + message.size() > pack_limit(core_.options)) flush(link);
    link.packing.add_encoded(message);
    ++link.packing_sends;
}

void Actor::flush(Link& link) {
    if (link.packing.empty()) return;
    const std::size_t sends = link.packing_sends;
    link.packing_sends = 0;
    send_frame(link, link.packing.take(), sends);
}

void Actor::send_frame(Link& link, std::string bytes, std::size_t messages) {
    if (link.bye_sent) return;  // stopping: the peer has forgotten this connection
    const std::size_t size = bytes.size();
    zmq::message_t message = to_message(std::move(bytes));
    if (link.pending.empty()) {
        link.dealer_watch.touched = true;
        if (link.dealer.send(message, zmq::send_flags::dontwait)) {
            bump(core_.counters.frames_out);
            bump(core_.counters.bytes_out, size);
            bump(core_.counters.sends_remote, messages);
            if (const auto peer = peers_.find(link.peer_name); peer != peers_.end()) {
                bump(peer->second.counters->messages_out, messages);
                bump(peer->second.counters->bytes_out, size);
            }
            return;
        }
    }
    if (link.pending_bytes + size > core_.options.limits.peer_queue_bytes) {
        bump(core_.counters.dropped_backpressure, messages);
        log_bad_input("backpressure", fmt::format("peer {} is not keeping up; dropped {} messages", link.endpoint,
                                                  messages));
        return;
    }
    link.pending_bytes += size;
    link.pending.push_back(PendingFrame{std::move(message), messages});
}

void Actor::drop_pending(Link& link, std::atomic<std::uint64_t>& counter) {
    std::size_t dropped = link.packing_sends;
    for (const auto& frame : link.pending) dropped += frame.messages;
    if (dropped > 0) bump(counter, dropped);
    link.pending.clear();
    link.pending_bytes = 0;
    link.packing.clear();
    link.packing_sends = 0;
}

void Actor::reply(const std::string& identity, const wire::WireMessage& message) {
    const std::string frame = wire::encode_frame(message);
    router_watch_.touched = true;
    try {
        // ROUTER_MANDATORY: a vanished or congested peer gives an error, never a block.
        if (!router_.send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return;
        router_.send(zmq::buffer(frame), zmq::send_flags::dontwait);
        bump(core_.counters.frames_out);
        bump(core_.counters.bytes_out, frame.size());
    } catch (const zmq::error_t& error) {
        log_.debug("reply to a departed connection dropped: {}", error.what());
    }
}

void Actor::on_link_writable(Link& link) {
    while (!link.pending.empty()) {
        PendingFrame& front = link.pending.front();
        const std::size_t size = front.message.size();
        if (!link.dealer.send(front.message, zmq::send_flags::dontwait)) return;
        link.pending_bytes -= size;
        bump(core_.counters.frames_out);
        bump(core_.counters.bytes_out, size);
        bump(core_.counters.sends_remote, front.messages);
        if (const auto peer = peers_.find(link.peer_name); peer != peers_.end()) {
            bump(peer->second.counters->messages_out, front.messages);
            bump(peer->second.counters->bytes_out, size);
        }
        link.pending.pop_front();
    }
}

}  // namespace liminal::detail
