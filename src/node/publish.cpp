// Node's channel functions: a channel is a group of scope "channels". A
// publish runs on the caller's thread: it checks every wire limit, delivers
// to local subscribers directly and encodes one PUBLISH, once, for the I/O
// thread to send to every node that has subscribers.

#include <liminal/node.hpp>

#include "node/impl.hpp"
#include "node/message_parts.hpp"
#include "wire/codec.hpp"

#include <chrono>

namespace liminal {
namespace {

std::uint64_t now_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

// Delivers to the route's local subscribers, all sharing one block that holds
// the sender, headers, payload and envelope.
void deliver_locally(detail::NodeCore& core, const detail::ChannelRoute& route, const Pid& from,
                     const detail::wire::PublishFields& fields, const Headers& headers, std::string_view payload,
                     const std::vector<MessageId>& parents, PublishResult& result) {
    struct Local {
        Pid from;
        Headers headers;
        std::string payload;
        Envelope envelope;
    };
    const auto block = std::make_shared<const Local>(Local{
        from, headers, std::string(payload), Envelope{fields.id, route.channel, fields.sequence, fields.timestamp_us, parents}});
    const Headers* shared_headers = block->headers.empty() ? nullptr : &block->headers;
    for (const auto local_id : route.local) {
        const auto mailbox = core.processes->find(local_id);
        if (!mailbox) {  // closing right now; its leave is on its way
            detail::refuse(core.counters, core.counters.dropped_no_such_process);
            ++result.local_dropped;
            continue;
        }
        const auto pushed =
            detail::deliver(*mailbox,
                            detail::MessageParts::make(block, &block->from, shared_headers, block->payload,
                                                       &block->envelope),
                            core.counters.delivered_publish, false, !core.commands.on_consumer_thread());
        if (pushed == detail::PushResult::delivered || pushed == detail::PushResult::displaced)
            ++result.local_deliveries;
        else
            ++result.local_dropped;
    }
    detail::bump(route.counters->delivered, result.local_deliveries);
    detail::bump(route.counters->dropped, result.local_dropped);
}

}  // namespace

void Node::subscribe(std::string_view channel, const Pid& pid) { join(channels_scope, channel, pid); }

bool Node::unsubscribe(std::string_view channel, const Pid& pid) { return leave(channels_scope, channel, pid); }

PublishResult Node::publish(std::string_view channel, std::string_view payload, const Headers& headers) {
    return publish(impl().node_pid, channel, payload, headers, {});
}

PublishResult Node::publish(const Pid& from, std::string_view channel, std::string_view payload,
                            const Headers& headers, const std::vector<MessageId>& parents) {
    auto& impl = this->impl();
    auto& core = *impl.core;
    const auto sender = impl.publisher(from);
    // Every limit the receivers' decoders check, checked before the message
    // can enter a frame; the id, sequence and timestamp have fixed sizes.
    detail::wire::PublishFields fields{channel, from.id, {}, 0, 0};
    if (detail::refused_as_too_large(detail::wire::check_publish(fields, headers, payload, parents.size(),
                                                                 core.options.limits.max_frame_bytes),
                                     core.counters, "liminal::Node::publish")) {
        PublishResult refused;
        refused.too_large = true;
        return refused;
    }
    const auto route = detail::channel_route(core, channel, true);
    const auto& limits = core.options.limits;
    const bool block = limits.peer_overflow == OverflowPolicy::block;
    if (block && !route->remote.empty() && core.backpressure.any()) {
        // Wait while any node it goes to has a congested queue; on the I/O
        // thread (a callback there), which alone drains them, say so at once.
        const auto clear = [&] {
            for (const auto& node : route->remote) {
                const auto now = core.directory.route(node.name);
                if (now && now->congested) return false;
            }
            return true;
        };
        const bool room = core.commands.on_consumer_thread()
                              ? clear()
                              : core.backpressure.wait_until(std::chrono::steady_clock::now() + limits.block_timeout, clear);
        if (!room) {
            detail::refuse(core.counters, core.counters.would_block);
            PublishResult refused;
            refused.would_block = true;
            return refused;
        }
    }
    // A refused publish still takes its sequence number: a receiver's gap is
    // then a message counted at the sender (would_block, dropped_*).
    fields.sequence = sender ? sender->next_publish_seq()
                             : core.node_publish_seq.fetch_add(1, std::memory_order_relaxed) + 1;
    fields.id = impl.next_message_id();
    fields.timestamp_us = now_us();
    PublishResult result;
    result.id = fields.id;
    // The remote copies are queued first: under block, a full outbound
    // queue refuses the publish whole, before any local delivery.
    if (!route->remote.empty()) {
        // Encoded once, here; the I/O thread copies the bytes into each node's frame.
        const bool queued = core.commands.push(
            route, {}, 0,
            [&](std::string& out) { detail::wire::append_publish(out, fields, headers, payload, parents); },
            [&] { detail::take_in(core.counters, core.counters.in_flight_peers, route->remote.size()); });
        if (queued) {
            result.nodes = route->remote.size();
            detail::bump(route->counters->nodes_sent, result.nodes);
        } else if (block) {
            detail::refuse(core.counters, core.counters.would_block);
            PublishResult refused;
            refused.would_block = true;
            return refused;
        } else {
            detail::refuse(core.counters, core.counters.dropped_queue_full, route->remote.size());
            detail::bump(route->counters->nodes_dropped, route->remote.size());
            result.queue_full = true;
        }
    }
    detail::bump(core.counters.publishes);
    detail::bump(route->counters->published);
    if (!route->local.empty()) deliver_locally(core, *route, from, fields, headers, payload, parents, result);
    return result;
}

}  // namespace liminal
