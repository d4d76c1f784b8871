// Membership on the I/O thread: own deltas and digests out over PUB, peers'
// deltas and digests in over SUB, backfill and resync snapshots and digest
// acknowledgements over DEALER/ROUTER. The membership state machine
// (src/membership) decides; this file carries out its effects.

#include "node/actor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace liminal::detail {
namespace {

// A whole membership built or taken apart leaves many small blocks free in
// the middle of the heap (the decoded groups' id arrays), which glibc keeps
// for itself; after a large one they go back to the system at once, so what
// a view costs is what it holds (about 100 bytes a single-member group).
constexpr std::size_t large_snapshot_groups = 10'000;

void release_free_memory() {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

constexpr std::size_t snapshot_part_bytes = 128 * 1024;          // target size of one SNAPSHOT part
constexpr std::size_t gossip_frame_bytes = 64 * 1024;            // deltas per PUB frame, about
constexpr auto resync_backoff = std::chrono::milliseconds(250);  // between two resync requests to one origin

}  // namespace

void Actor::gossip(bool with_digest) {
    std::vector<membership::OwnDelta> deltas;
    wire::Digest digest{core_.options.name, core_.creation, 0, 0, with_digest ? reach() : std::vector<std::string>{}};
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
        pub_watch_.touched = true;
        bump(core_.counters.frames_out);
        bump(core_.counters.bytes_out, bytes.size());
    };
    for (auto& delta : deltas) {
        frame.add(wire::Delta{delta.join, core_.options.name, core_.creation, delta.seq, std::move(delta.scope),
                              std::move(delta.group), std::move(delta.ids)});
        bump(core_.counters.deltas_out);
        if (frame.size() >= gossip_frame_bytes) send();
    }
    if (with_digest) {
        frame.add(digest);
        bump(core_.counters.digests_out);
        next_digest_ = Clock::now() + core_.options.digest_interval;
    }
    send();
}

bool Actor::dropped_by_test() {
    const double drop_rate = core_.testing.gossip_drop_rate;
    if (drop_rate <= 0) return false;
    drop_state_ = drop_state_ * 6364136223846793005ULL + 1442695040888963407ULL;  // a 64-bit LCG
    if (static_cast<double>(drop_state_ >> 11) / 9007199254740992.0 >= drop_rate) return false;
    bump(core_.counters.gossip_dropped_by_test);
    return true;
}

void Actor::on_gossip_frame(zmq::message_t& frame, const std::string& from) {
    if (dropped_by_test()) return;
    if (frame.size() > core_.options.limits.max_frame_bytes) {
        bump(core_.counters.oversized_frames);
        bad_input_.dropped("oversized", "an oversized gossip frame");
        return;
    }
    const std::string_view bytes(static_cast<const char*>(frame.data()), frame.size());
    if (const auto error = wire::decode_frame(bytes, decoded_); error != wire::DecodeError::none) {
        bump(core_.counters.malformed_frames);
        bad_input_.dropped("malformed", fmt::format("an undecodable gossip frame ({})", wire::to_string(error)));
        return;
    }
    for (const auto& message : decoded_) {
        if (std::visit([](const auto& m) { return m.path != wire::Path::gossip; }, message)) {
            bump(core_.counters.malformed_frames);
            bad_input_.dropped("malformed", "a non-gossip message on a PUB connection");
            return;
        }
    }
    // A peer speaks only for itself: a frame that names any other origin is dropped whole.
    for (const auto& message : decoded_) {
        const auto& origin = std::visit(
            [&](const auto& m) -> const std::string& {
                if constexpr (std::decay_t<decltype(m)>::path == wire::Path::gossip)
                    return m.origin;
                else
                    return from;  // not reached: checked above
            },
            message);
        if (origin != from) {
            bump(core_.counters.forged_gossip);
            bad_input_.dropped("forged", fmt::format("gossip from {} that speaks for {}", from, origin));
            return;
        }
    }
    membership::Effects fx;
    {
        Membership::Write lock(*core_.membership);
        for (auto& message : decoded_) {
            std::visit(
                [&](auto& m) {
                    if constexpr (std::decay_t<decltype(m)>::path == wire::Path::gossip) on_gossip(m, fx);
                },
                message);
        }
        record_effects(*core_.membership, fx);
    }
    carry_out(fx);
    for (auto& message : decoded_) {
        if (auto* digest = std::get_if<wire::Digest>(&message)) on_reach(from, digest->reach);
    }
}

// Runs with the membership lock held exclusively.
void Actor::on_gossip(wire::Delta& delta, membership::Effects& fx) {
    bump(core_.counters.deltas_in);
    core_.membership->state.on_delta(membership::RemoteDelta{delta.join, std::move(delta.origin), delta.creation,
                                                             delta.seq, std::move(delta.scope),
                                                             std::move(delta.group), std::move(delta.ids)},
                                     fx);
}

// Runs with the membership lock held exclusively.
void Actor::on_gossip(const wire::Digest& digest, membership::Effects& fx) {
    bump(core_.counters.digests_in);
    core_.membership->state.on_digest(digest.origin, digest.creation, digest.seq, digest.hash, fx);
}

void Actor::carry_out(membership::Effects& fx) {
    const auto now = Clock::now();
    for (const auto& origin : fx.resyncs) {
        bump(core_.counters.gaps);
        Peer* peer = peers_.find(origin);
        Link* link = peer == nullptr ? nullptr : peer->up_link();
        if (link == nullptr) continue;
        if (now - peer->last_resync < resync_backoff) {
            // Not dropped: a gap found just after a resync (a SUB that
            // subscribed after the link came up, say) would otherwise wait
            // for the next periodic digest.
            peer->resync_due = true;
            resyncs_due_ = true;
            continue;
        }
        peer->last_resync = now;
        peer->resync_due = false;
        bump(core_.counters.resyncs_requested);
        log_.debug("asking {} for a snapshot (gap or digest ahead)", origin);
        link->send(wire::Resync{});
    }
    for (const auto& ack : fx.acks) {
        // Only to the incarnation whose view it is: a backfill from a
        // restarted peer is acknowledged once our link to it is up.
        const Peer* peer = peers_.find(ack.origin);
        if (peer == nullptr || peer->creation != ack.creation) continue;
        if (Link* link = peer->up_link()) link->send(wire::DigestAck{ack.creation, ack.seq});
    }
}

void Actor::send_due_resyncs() {
    if (!resyncs_due_) return;
    const auto now = Clock::now();
    resyncs_due_ = false;
    membership::Effects fx;
    for (auto& [name, peer] : peers_) {
        if (peer.serve_due) {
            if (now - peer.last_served < resync_backoff) {
                resyncs_due_ = true;
            } else if (Link* link = peer.up_link()) {
                serve_snapshot(peer, *link, now);
            } else {
                peer.serve_due = false;  // it gets a backfill when the link is up again
            }
        }
        if (!peer.resync_due) continue;
        if (now - peer.last_resync < resync_backoff) {
            resyncs_due_ = true;
            continue;
        }
        peer.resync_due = false;
        fx.resyncs.push_back(name);
    }
    carry_out(fx);
}

Actor::Clock::duration Actor::until_resyncs_due() const {
    if (!resyncs_due_) return Clock::duration::max();
    Clock::duration soonest = resync_backoff;
    const auto now = Clock::now();
    for (const auto& [name, peer] : peers_) {
        if (peer.resync_due) soonest = std::min(soonest, peer.last_resync + resync_backoff - now);
        if (peer.serve_due) soonest = std::min(soonest, peer.last_served + resync_backoff - now);
    }
    return soonest;
}

void Actor::send_snapshot(Link& link) {
    membership::Snapshot snapshot;
    {
        std::shared_lock lock(core_.membership->mutex);
        snapshot = core_.membership->state.local_snapshot();
    }
    const bool large = snapshot.groups.size() >= large_snapshot_groups;
    wire::Snapshot part{snapshot.seq, 0, false, {}};
    std::size_t part_bytes = 0;
    const auto flush_part = [&](bool last) {
        part.last = last;
        link.send(part);
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
    if (large) {
        snapshot = {};
        release_free_memory();
    }
}

bool Actor::on_data(Inbound& in, wire::Resync&) {
    Peer* peer = peers_.find(in.session.name());
    Link* link = peer == nullptr ? nullptr : peer->up_link();
    if (link == nullptr) return true;  // it will get a backfill when our link to it comes up
    // At most one snapshot per backoff to one peer: a snapshot costs this
    // thread time in the size of our membership, a RESYNC costs its sender
    // nothing. Requests within the backoff become one, served when it ends.
    const auto now = Clock::now();
    if (now - peer->last_served < resync_backoff) {
        peer->serve_due = true;
        resyncs_due_ = true;
        return true;
    }
    serve_snapshot(*peer, *link, now);
    return true;
}

void Actor::serve_snapshot(Peer& peer, Link& link, Clock::time_point now) {
    peer.last_served = now;
    peer.serve_due = false;
    bump(core_.counters.resyncs_served);
    send_snapshot(link);
}

bool Actor::on_data(Inbound& in, wire::Snapshot& part) {
    std::vector<membership::GroupIds> groups;
    groups.reserve(part.groups.size());
    for (auto& group : part.groups)
        groups.push_back(membership::GroupIds{std::move(group.scope), std::move(group.group), std::move(group.ids)});
    using Result = membership::SnapshotAssembly::Result;
    switch (in.session.snapshot().add(part.seq, part.part, part.last, groups)) {
    case Result::incomplete: break;
    case Result::complete: apply_snapshot(in.session); break;
    case Result::out_of_order: {
        bad_input_.dropped("snapshot", fmt::format("an out-of-order snapshot part from {}", in.session.name()));
        membership::Effects fx;
        fx.resyncs.push_back(in.session.name());
        carry_out(fx);
        break;
    }
    case Result::too_large:
        bad_input_.dropped("snapshot", fmt::format("a snapshot from {} over {} memberships", in.session.name(),
                                                   in.session.snapshot().max_ids()));
        break;
    }
    return true;
}

void Actor::apply_snapshot(Session& session) {
    auto snapshot = session.snapshot().take();
    const bool large = snapshot.groups.size() >= large_snapshot_groups;
    membership::Effects fx;
    {
        Membership::Write lock(*core_.membership);
        fx.record_changes = core_.membership->monitors->listening();
        core_.membership->state.on_snapshot(session.name(), session.creation(), std::move(snapshot), fx);
        record_effects(*core_.membership, fx);
    }
    if (large) release_free_memory();
    bump(core_.counters.snapshots_applied);
    if (peers_.up_link(session.name()) == nullptr) unlinked_views_.try_emplace(session.name(), Clock::now());
    count_purged(session.name(), fx);  // an older incarnation's view, replaced
    carry_out(fx);
}

bool Actor::on_data(Inbound& in, wire::DigestAck& ack) {
    if (ack.creation != core_.creation) return true;  // about an earlier incarnation of this node
    core_.acks.record(in.session.name(), ack.seq);
    return true;
}

void Actor::membership_peer_up(const std::string& name, std::uint64_t creation, bool again) {
    membership::Effects fx;
    {
        Membership::Write lock(*core_.membership);
        fx.record_changes = core_.membership->monitors->listening();
        core_.membership->state.on_peer_up(name, creation, fx);
        record_effects(*core_.membership, fx);
    }
    count_purged(name, fx);
    Link* link = peers_.up_link(name);
    if (link == nullptr) return;
    unlinked_views_.erase(name);
    // Backfill: the newcomer gets our whole membership at once.
    bump(core_.counters.backfills_sent);
    send_snapshot(*link);
    // A link that comes back may be the only one of the two that dropped: the
    // peer will not backfill us again, so ask. (A backfill dropped as a
    // ghost view is asked for by the peer's next digest.)
    if (again) {
        bump(core_.counters.resyncs_requested);
        peers_.at(name).last_resync = Clock::now();
        link->send(wire::Resync{});
    }
    carry_out(fx);
}

void Actor::membership_peer_down(const std::string& name, std::uint64_t creation) {
    membership::Effects fx;
    bool dropped = false;
    {
        Membership::Write lock(*core_.membership);
        fx.record_changes = core_.membership->monitors->listening();
        dropped = core_.membership->state.on_peer_down(name, creation, fx);
        record_effects(*core_.membership, fx);
    }
    if (dropped) {
        core_.acks.forget(name);
        unlinked_views_.erase(name);
    } else {
        // A later incarnation's view, kept: until our link to it is up.
        unlinked_views_.try_emplace(name, Clock::now());
    }
    count_purged(name, fx);
}

void Actor::drop_unlinked_views(Clock::time_point now) {
    const auto bound = 2 * core_.options.heartbeat_timeout;
    std::vector<std::string> ghosts;
    for (auto it = unlinked_views_.begin(); it != unlinked_views_.end();) {
        if (peers_.up_link(it->first) != nullptr) {
            it = unlinked_views_.erase(it);
            continue;
        }
        if (now - it->second >= bound) ghosts.push_back(it->first);
        ++it;
    }
    for (const auto& name : ghosts) {
        log_.info("dropping the view of {}: our link to it did not come up within {} ms", name,
                  std::chrono::duration_cast<std::chrono::milliseconds>(bound).count());
        membership_peer_down(name, membership::State::any_creation);
        unlinked_views_.erase(name);
    }
}

// A node's own connection to us closed while our link to it is not up: a
// view it sent (a backfill that came first) is nobody's to keep, and is
// dropped now rather than two heartbeat timeouts later. A node killed while
// our link to it was still coming up is purged here as fast as elsewhere.
void Actor::end_disconnected_sessions() {
    for (const auto& hello : sessions_.erase_disconnected()) {
        if (!unlinked_views_.contains(hello.name) || peers_.up_link(hello.name) != nullptr) continue;
        const auto open = sessions_.authenticated();  // it may have connected again already
        if (std::any_of(open.begin(), open.end(), [&](const auto& session) { return session.second == hello.name; }))
            continue;
        log_.info("dropping the view of {}: its connection closed before our link to it came up", hello.name);
        membership_peer_down(hello.name, hello.creation);
    }
}

void Actor::count_purged(const std::string& name, const membership::Effects& fx) {
    if (fx.purged == 0) return;
    bump(core_.counters.purges);
    bump(core_.counters.members_purged, fx.purged);
    log_.info("purged {} memberships of {}", fx.purged, name);
}

}  // namespace liminal::detail
