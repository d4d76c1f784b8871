// Membership gossip and channel delivery on the I/O thread: own deltas and
// digests out over PUB, peers' deltas and digests in over SUB, backfill and
// resync snapshots, digest acknowledgements and PUBLISH over DEALER/ROUTER.
// The membership state machine (src/membership) decides; this file carries
// out its effects.

#include "node/actor.hpp"

#include <spdlog/spdlog.h>

namespace liminal::detail {
namespace {

constexpr std::size_t snapshot_part_bytes = 128 * 1024;      // target size of one SNAPSHOT part
constexpr std::size_t max_snapshot_ids = 50'000'000;          // a snapshot larger than this is refused
constexpr auto resync_backoff = std::chrono::milliseconds(250);  // between two resync requests to one origin

}  // namespace

Link* Actor::up_link(const std::string& name) {
    const auto peer = peers_.find(name);
    if (peer == peers_.end() || peer->second.state != PeerState::up || peer->second.link == nullptr ||
        peer->second.link->state != Link::State::up)
        return nullptr;
    return peer->second.link;
}

void Actor::gossip(bool with_digest) {
    std::vector<membership::OwnDelta> deltas;
    wire::Digest digest{core_.options.name, core_.creation, 0, 0};
    {
        // One lock for both: the digest never runs ahead of the deltas
        // published before it.
        std::unique_lock lock(core_.membership->mutex);
        deltas.swap(core_.membership->outbox);
        digest.seq = core_.membership->state.seq();
        digest.hash = core_.membership->state.local_hash();
    }
    wire::FrameWriter frame;
    const auto send = [&] {
        if (frame.empty()) return;
        const std::string bytes = frame.take();
        // PUB never blocks: at its high-water mark it drops, and the digest
        // lets every receiver notice the gap.
        pub_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
        bump(core_.counters.frames_out);
        bump(core_.counters.bytes_out, bytes.size());
    };
    for (auto& delta : deltas) {
        frame.add(wire::Delta{delta.join, core_.options.name, core_.creation, delta.seq, std::move(delta.scope),
                              std::move(delta.group), std::move(delta.ids)});
        bump(core_.counters.deltas_out);
        if (frame.size() >= 64 * 1024) send();
    }
    if (with_digest) {
        frame.add(digest);
        bump(core_.counters.digests_out);
        next_digest_ = Clock::now() + core_.options.digest_interval;
    }
    send();
}

void Actor::on_gossip_frame(zmq::message_t& frame) {
    const double drop_rate = core_.options.testing.gossip_drop_rate;
    if (drop_rate > 0) {
        drop_state_ = drop_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        if (static_cast<double>(drop_state_ >> 11) / 9007199254740992.0 < drop_rate) {
            bump(core_.counters.gossip_dropped_by_test);
            return;
        }
    }
    if (frame.size() > core_.options.limits.max_frame_bytes) {
        bump(core_.counters.oversized_frames);
        log_bad_input("oversized", "an oversized gossip frame");
        return;
    }
    const std::string_view bytes(static_cast<const char*>(frame.data()), frame.size());
    if (const auto error = wire::decode_frame(bytes, decoded_); error != wire::DecodeError::none) {
        bump(core_.counters.malformed_frames);
        log_bad_input("malformed", fmt::format("an undecodable gossip frame ({})", wire::to_string(error)));
        return;
    }
    for (const auto& message : decoded_) {
        if (!std::holds_alternative<wire::Delta>(message) && !std::holds_alternative<wire::Digest>(message)) {
            bump(core_.counters.malformed_frames);
            log_bad_input("malformed", "a non-gossip message on a PUB connection");
            return;
        }
    }
    membership::Effects fx;
    {
        Membership::Write lock(*core_.membership);
        auto& state = core_.membership->state;
        for (auto& message : decoded_) {
            if (auto* delta = std::get_if<wire::Delta>(&message)) {
                bump(core_.counters.deltas_in);
                state.on_delta(membership::RemoteDelta{delta->join, std::move(delta->origin), delta->creation,
                                                       delta->seq, std::move(delta->scope), std::move(delta->group),
                                                       std::move(delta->ids)},
                               fx);
            } else {
                const auto& digest = std::get<wire::Digest>(message);
                bump(core_.counters.digests_in);
                state.on_digest(digest.origin, digest.creation, digest.seq, digest.hash, fx);
            }
        }
        record_effects(*core_.membership, fx);
    }
    carry_out(fx);
}

void Actor::carry_out(membership::Effects& fx) {
    const auto now = Clock::now();
    for (const auto& origin : fx.resyncs) {
        bump(core_.counters.gaps);
        const auto peer = peers_.find(origin);
        Link* link = up_link(origin);
        if (peer == peers_.end() || link == nullptr || now - peer->second.last_resync < resync_backoff) continue;
        peer->second.last_resync = now;
        bump(core_.counters.resyncs_requested);
        log_.debug("asking {} for a snapshot (gap or digest ahead)", origin);
        send_frame(*link, wire::encode_frame(wire::Resync{}), 0);
    }
    for (const auto& [origin, seq] : fx.acks) {
        Link* link = up_link(origin);
        if (link == nullptr) continue;
        send_frame(*link, wire::encode_frame(wire::DigestAck{peers_.at(origin).creation, seq}), 0);
    }
}

void Actor::send_snapshot(Link& link) {
    membership::Snapshot snapshot;
    {
        std::shared_lock lock(core_.membership->mutex);
        snapshot = core_.membership->state.local_snapshot();
    }
    wire::Snapshot part{snapshot.seq, 0, false, {}};
    std::size_t part_bytes = 0;
    const auto flush_part = [&](bool last) {
        part.last = last;
        send_frame(link, wire::encode_frame(part), 0);
        part.groups.clear();
        part_bytes = 0;
        ++part.part;
    };
    for (auto& group : snapshot.groups) {
        // A group larger than a part is split; the receiver merges the pieces.
        std::size_t start = 0;
        do {
            const std::size_t room =
                std::max<std::size_t>((snapshot_part_bytes - std::min(part_bytes, snapshot_part_bytes)) / 9, 1);
            const std::size_t take = std::min(group.ids.size() - start, room);
            const auto first = group.ids.begin() + static_cast<std::ptrdiff_t>(start);
            wire::GroupMembers piece{group.scope, group.group, {first, first + static_cast<std::ptrdiff_t>(take)}};
            part_bytes += piece.scope.size() + piece.group.size() + 9 * take + 16;
            part.groups.push_back(std::move(piece));
            start += take;
            if (part_bytes >= snapshot_part_bytes) flush_part(false);
        } while (start < group.ids.size());
    }
    flush_part(true);
}

void Actor::on_resync(const Session& session) {
    Link* link = up_link(session.hello.name);
    if (link == nullptr) return;  // it will get a backfill when our link to it comes up
    bump(core_.counters.resyncs_served);
    send_snapshot(*link);
}

void Actor::on_snapshot_part(Session& session, wire::Snapshot& part) {
    if (part.part == 0) {
        session.snapshot_groups.clear();
        session.snapshot_ids = 0;
        session.snapshot_seq = part.seq;
        session.snapshot_next_part = 0;
    }
    if (part.part != session.snapshot_next_part || part.seq != session.snapshot_seq) {
        // A part went missing (the connection was replaced mid-burst): ask
        // for a complete snapshot.
        session.snapshot_groups.clear();
        session.snapshot_next_part = ~0ULL;
        log_bad_input("snapshot", fmt::format("an out-of-order snapshot part from {}", session.hello.name));
        membership::Effects fx;
        fx.resyncs.push_back(session.hello.name);
        carry_out(fx);
        return;
    }
    ++session.snapshot_next_part;
    for (auto& group : part.groups) {
        session.snapshot_ids += group.ids.size();
        session.snapshot_groups.push_back(
            membership::GroupIds{std::move(group.scope), std::move(group.group), std::move(group.ids)});
    }
    if (session.snapshot_ids > max_snapshot_ids) {
        session.snapshot_groups.clear();
        session.snapshot_next_part = ~0ULL;
        log_bad_input("snapshot", fmt::format("a snapshot from {} over {} memberships", session.hello.name,
                                              max_snapshot_ids));
        return;
    }
    if (!part.last) return;
    membership::Effects fx;
    {
        Membership::Write lock(*core_.membership);
        fx.record_changes = core_.membership->monitors->listening();
        core_.membership->state.on_snapshot(session.hello.name, session.hello.creation,
                                            membership::Snapshot{session.snapshot_seq,
                                                                 std::move(session.snapshot_groups)},
                                            fx);
        record_effects(*core_.membership, fx);
    }
    session.snapshot_groups.clear();
    session.snapshot_next_part = 0;
    bump(core_.counters.snapshots_applied);
    carry_out(fx);
}

void Actor::on_digest_ack(const Session& session, const wire::DigestAck& ack) {
    if (ack.creation != core_.creation) return;  // about an earlier incarnation of this node
    core_.acks.record(session.hello.name, ack.seq);
}

void Actor::on_publish(const Session& session, wire::Publish& publish, const std::shared_ptr<ReceivedFrame>& frame) {
    ++frame_publishes_;
    // A frame usually carries many publishes to one channel: its route and
    // mailboxes are looked up once per frame (end_frame forgets them).
    if (publish_route_ == nullptr || publish_route_->channel != publish.channel ||
        publish_route_->version != core_.membership->version.load(std::memory_order_acquire)) {
        count_route_received();
        publish_route_ = channel_route(core_, publish.channel, false);
        publish_mailboxes_.clear();
        for (const auto id : publish_route_->local) {
            if (auto mailbox = core_.processes->find(id)) publish_mailboxes_.push_back(std::move(mailbox));
        }
    }
    const ChannelRoute& route = *publish_route_;
    if (route.local.empty()) return;  // the last subscriber left while this was on its way
    ++route_received_;
    const Pid* from = frame_sender(*frame, session, publish.from_id);
    const bool room = from != nullptr && frame->envelopes.size() < frame->envelopes.capacity() &&
                      (publish.headers.empty() || frame->headers.size() < frame->headers.capacity());
    if (!room) {
        // No room reserved (a miscount): the messages own copies instead.
        auto envelope = std::make_shared<const Envelope>(
            Envelope{publish.id, route.channel, publish.sequence, publish.timestamp_us, std::move(publish.parents)});
        for (const auto& mailbox : publish_mailboxes_) {
            deliveries_.add(mailbox,
                            Message(Pid{session.hello.name, session.hello.creation, publish.from_id}, publish.headers,
                                    frame, publish.payload, envelope),
                            route.counters);
        }
        return;
    }
    frame->envelopes.push_back(
        Envelope{publish.id, route.channel, publish.sequence, publish.timestamp_us, std::move(publish.parents)});
    const Envelope* envelope = &frame->envelopes.back();
    const Headers* headers = nullptr;
    if (!publish.headers.empty()) {
        frame->headers.push_back(std::move(publish.headers));
        headers = &frame->headers.back();
    }
    for (const auto& mailbox : publish_mailboxes_)
        deliveries_.add(mailbox, Message(frame, from, headers, publish.payload, envelope), route.counters);
}

const Pid* Actor::frame_sender(ReceivedFrame& frame, const Session& session, std::uint64_t id) {
    if (!frame.senders.empty()) {
        const Pid& last = frame.senders.back();
        if (last.id == id && last.creation == session.hello.creation && last.node == session.hello.name) return &last;
    }
    if (frame.senders.size() == frame.senders.capacity()) return nullptr;
    frame.senders.push_back(Pid{session.hello.name, session.hello.creation, id});
    return &frame.senders.back();
}

void Actor::count_route_received() {
    if (publish_route_ != nullptr && publish_route_->counters != nullptr)
        bump(publish_route_->counters->received, route_received_);
    route_received_ = 0;
}

void Actor::end_frame() {
    // Counted once per frame (each count is an atomic add); publish_frames_in
    // last, so whoever sees it has seen the rest.
    count_route_received();
    if (frame_publishes_ != 0) core_.counters.publish_frames_in.fetch_add(frame_publishes_, std::memory_order_release);
    frame_publishes_ = 0;
    publish_route_.reset();
    publish_mailboxes_.clear();
}

void Actor::membership_peer_up(const std::string& name, std::uint64_t creation, bool again) {
    membership::Effects fx;
    {
        Membership::Write lock(*core_.membership);
        fx.record_changes = core_.membership->monitors->listening();
        core_.membership->state.on_peer_up(name, creation, fx);
        record_effects(*core_.membership, fx);
    }
    Link* link = up_link(name);
    if (link == nullptr) return;
    // Backfill: the newcomer gets our whole membership at once.
    bump(core_.counters.backfills_sent);
    send_snapshot(*link);
    // A link that comes back may be the only one of the two that dropped: the
    // peer will not backfill us again, so ask.
    if (again) {
        bump(core_.counters.resyncs_requested);
        peers_.at(name).last_resync = Clock::now();
        send_frame(*link, wire::encode_frame(wire::Resync{}), 0);
    }
    carry_out(fx);
}

void Actor::membership_peer_down(const std::string& name) {
    membership::Effects fx;
    {
        Membership::Write lock(*core_.membership);
        fx.record_changes = core_.membership->monitors->listening();
        core_.membership->state.on_peer_down(name, fx);
        record_effects(*core_.membership, fx);
    }
    core_.acks.forget(name);
    if (fx.purged > 0) {
        bump(core_.counters.purges);
        bump(core_.counters.members_purged, fx.purged);
        log_.info("purged {} memberships of {}", fx.purged, name);
    }
}

}  // namespace liminal::detail
