#pragma once
// What the I/O thread knows of each peer node, by name: one record joins its
// incarnation, endpoints, state, our link to it, our SUB socket on its PUB
// and its traffic counters. The API threads see a copy of each record
// (PeerDirectory), published whenever it changes. Runs on the I/O thread only.

#include "node/counters.hpp"
#include "node/link.hpp"
#include "node/peer_directory.hpp"
#include "wire/messages.hpp"

#include <liminal/events.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace liminal::detail {

// Our SUB on one peer's PUB. A SUB cannot tell which of its PUBs sent a
// message (ZMQ-NOTES §7), so each peer gets a socket of its own: gossip that
// arrives on it came from that peer, and is applied only for that peer as
// its origin (gossip.cpp).
struct Subscription {
    Subscription(zmq::context_t& context, const Options& options, const CurveKeypair& own,
                 const std::string& server_key, std::string peer, std::string endpoint);
    const std::string peer;      // the peer's name: the only origin its gossip may carry
    const std::string endpoint;  // its PUB
    zmq::socket_t socket;
    Watch watch{socket};
    bool closed = false;         // disconnected this iteration; destroyed at its end
};

struct Peer {
    using Clock = std::chrono::steady_clock;

    std::uint64_t creation = 0;           // the incarnation last seen up (0: never)
    std::string router;                   // its ROUTER endpoint, as it advertises it
    std::string pub;                      // its PUB endpoint
    PeerState state = PeerState::connecting;
    std::chrono::system_clock::time_point since;  // when `state` was entered
    Link* link = nullptr;                 // our link to it, when one exists
    std::unique_ptr<Subscription> sub;    // our SUB on its PUB, once it has been up
    std::shared_ptr<PeerCounters> counters = std::make_shared<PeerCounters>();
    Clock::time_point last_resync{};      // when we last asked it for a snapshot
    bool resync_due = false;              // asked for again within the backoff: sent once it has passed
    Clock::time_point last_served{};      // when we last sent it a snapshot it asked for
    bool serve_due = false;               // it asked again within the backoff: served once it has passed
    std::optional<Clock::time_point> departed;  // said BYE: forgotten a while after
    std::uint64_t departed_creation = 0;  // the incarnation that said it (never linked to again)
    Clock::time_point not_up_since = Clock::now();  // when it last went down (or the record was made)
    std::vector<std::string> reach;       // the peers it said it sees up, sorted (its last DIGEST; reach.cpp)
    Clock::time_point reach_at{};         // when that DIGEST came
    std::vector<std::string> seen_up_by;  // down for us but up for these peers: a partial partition

    // Our link to it, if it is up and so is the link.
    Link* up_link() const { return state == PeerState::up && link != nullptr && link->up() ? link : nullptr; }
};

class PeerTable {
public:
    Peer* find(const std::string& name);
    const Peer* find(const std::string& name) const;
    // The record of `name`, created (connecting, never seen up) if new.
    Peer& at(const std::string& name) { return peers_[name]; }
    Link* up_link(const std::string& name) const;
    // The peers that are up, as HELLO and PEERS list them (at most max_peers_in_hello).
    std::vector<wire::PeerAddress> known() const;
    // Copies the record of `name` into the API threads' view.
    void publish(const std::string& name, PeerDirectory& directory) const;
    // Forgets peers that said BYE longer than `retention` ago (and the API's copy).
    void forget_departed(Peer::Clock::time_point now, Peer::Clock::duration retention, PeerDirectory& directory);
    // Forgets `name` now (and the API's copy).
    void forget(const std::string& name, PeerDirectory& directory);

    auto begin() { return peers_.begin(); }
    auto end() { return peers_.end(); }
    auto begin() const { return peers_.begin(); }
    auto end() const { return peers_.end(); }

private:
    std::map<std::string, Peer> peers_;
};

}  // namespace liminal::detail
