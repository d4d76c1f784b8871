// Partial partitions: a peer that is down for this node while other peers
// still see it up. Every DIGEST carries the peers its origin sees up (its
// reach, protocol 4); a node compares them with its own view of each peer.
//
// A peer P that went down for us at time t is reported partially
// partitioned when an up peer O's reach, received after t + grace, still
// lists P. A P that really died is seen down by its peers within about a
// heartbeat interval of each other (at once when its connections reset, else
// when each one's heartbeat times out), so a grace of two heartbeat
// intervals, at most a heartbeat timeout, keeps a death from being reported,
// while a real cut is reported within about two heartbeat timeouts of
// happening: one (and up to an interval) to see P down, the grace, and the
// next digest. The report ends when P is up again or no up peer lists it.
// Runs on the I/O thread.

#include "node/actor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace liminal::detail {

std::vector<std::string> Actor::reach() const {
    std::vector<std::string> names;
    for (const auto& [name, peer] : peers_) {
        if (peer.state == PeerState::up) names.push_back(name);
    }
    return names;  // the table is ordered by name
}

void Actor::on_reach(const std::string& from, std::vector<std::string>& reach) {
    Peer* peer = peers_.find(from);
    if (peer == nullptr || peer->state != PeerState::up) return;
    // Only names this node knows are kept: a peer's list costs no more than our own table.
    std::erase_if(reach, [&](const std::string& name) { return peers_.find(name) == nullptr; });
    std::sort(reach.begin(), reach.end());
    peer->reach = std::move(reach);
    peer->reach_at = Clock::now();
    check_reach();
}

void Actor::check_reach() {
    const auto grace = std::min<Clock::duration>(core_.options.heartbeat_timeout, 2 * core_.options.heartbeat_interval);
    std::vector<std::string> began;
    for (auto& [name, peer] : peers_) {
        std::vector<std::string> witnesses;
        if (peer.state != PeerState::up && !peer.departed) {
            for (const auto& [other, witness] : peers_) {
                if (witness.state == PeerState::up && witness.reach_at - peer.not_up_since >= grace &&
                    std::binary_search(witness.reach.begin(), witness.reach.end(), name))
                    witnesses.push_back(other);
            }
        }
        if (witnesses == peer.seen_up_by) continue;
        if (peer.seen_up_by.empty()) {
            began.push_back(name);
        } else if (witnesses.empty()) {
            log_.info("partial partition over: {} is {}", name,
                      peer.state == PeerState::up ? "up again" : "seen up by no up peer");
        }
        peer.seen_up_by = std::move(witnesses);
        peers_.publish(name, core_.directory);
    }
    for (const auto& name : began) {
        const Peer& peer = *peers_.find(name);
        std::string witnesses;
        for (const auto& witness : peer.seen_up_by) witnesses += (witnesses.empty() ? "" : ", ") + witness;
        // A node whose key this node no longer trusts, while others still do,
        // is cut off on purpose here: the report says so.
        const bool untrusted = core_.options.security == Security::node_keys && key_of(trusted_, name).empty();
        emit(PeerEvent{PeerEventKind::partial_partition, name, peer.creation, peer.router, DownReason::none,
                       witnesses + (peer.seen_up_by.size() == 1 ? " sees it up" : " see it up") +
                           (untrusted ? "; its key is not trusted here" : "")});
    }
}

}  // namespace liminal::detail
