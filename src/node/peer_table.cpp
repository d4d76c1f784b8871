#include "node/peer_table.hpp"

namespace liminal::detail {

Subscription::Subscription(zmq::context_t& context, const Options& options, const CurveKeypair& own,
                           const std::string& server_key, std::string peer_name, std::string pub)
    : peer(std::move(peer_name)), endpoint(std::move(pub)), socket(context, zmq::socket_type::sub) {
    configure_peer_socket(socket, options);
    // As a link's DEALER: a SYN that is black-holed (a silent split) is
    // given up and tried again, never left to the kernel's backoff of up to
    // two minutes, so gossip resumes soon after the network heals.
    socket.set(zmq::sockopt::reconnect_ivl, 100);
    socket.set(zmq::sockopt::reconnect_ivl_max, 5000);
    socket.set(zmq::sockopt::connect_timeout, 2000);
    secure_client(socket, options.security, own, server_key);
    socket.set(zmq::sockopt::subscribe, "");
    socket.connect(connect_endpoint(endpoint, options.source_address));
}

Peer* PeerTable::find(const std::string& name) {
    const auto it = peers_.find(name);
    return it == peers_.end() ? nullptr : &it->second;
}

const Peer* PeerTable::find(const std::string& name) const {
    const auto it = peers_.find(name);
    return it == peers_.end() ? nullptr : &it->second;
}

Link* PeerTable::up_link(const std::string& name) const {
    const Peer* peer = find(name);
    return peer == nullptr ? nullptr : peer->up_link();
}

std::vector<wire::PeerAddress> PeerTable::known() const {
    std::vector<wire::PeerAddress> out;
    for (const auto& [name, peer] : peers_) {
        if (peer.state == PeerState::up) out.push_back({name, peer.creation, peer.router, peer.pub});
    }
    if (out.size() > wire::max_peers_in_hello) out.resize(wire::max_peers_in_hello);
    return out;
}

void PeerTable::publish(const std::string& name, PeerDirectory& directory) const {
    const Peer& peer = peers_.at(name);
    PeerInfo info;
    info.name = name;
    info.creation = peer.creation;
    info.router_endpoint = peer.router;
    info.pub_endpoint = peer.pub;
    info.state = peer.state;
    info.since = peer.since;
    info.seen_up_by = peer.seen_up_by;
    directory.set(info, peer.counters);
}

void PeerTable::forget(const std::string& name, PeerDirectory& directory) {
    directory.erase(name);
    peers_.erase(name);
}

void PeerTable::forget_departed(Peer::Clock::time_point now, Peer::Clock::duration retention,
                                PeerDirectory& directory) {
    for (auto it = peers_.begin(); it != peers_.end();) {
        const Peer& peer = it->second;
        if (peer.departed && peer.state != PeerState::up && peer.link == nullptr && now - *peer.departed > retention) {
            directory.erase(it->first);
            it = peers_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace liminal::detail
