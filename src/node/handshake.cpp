// The HELLO -> WELCOME -> AUTH handshake, BYE, and the peer lifecycle that
// follows from them (docs/PROTOCOL.md). Runs on the I/O thread.

#include "node/actor.hpp"
#include "wire/proof.hpp"

#include <liminal/pid.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace liminal::detail {
namespace {

constexpr std::size_t max_sessions = 4096;  // inbound connections, handshaking or authenticated

bool valid_identity(const std::string& name, std::uint64_t creation) {
    return is_valid_node_name(name) && creation != 0;
}

}  // namespace

std::vector<wire::PeerAddress> Actor::known_peers() const {
    std::vector<wire::PeerAddress> out;
    for (const auto& [name, peer] : peers_) {
        if (peer.state == PeerState::up) out.push_back({name, peer.creation, peer.router, peer.pub});
    }
    if (out.size() > wire::max_peers_in_hello) out.resize(wire::max_peers_in_hello);
    return out;
}

void Actor::send_hello(Link& link) {
    wire::Hello hello{wire::protocol_version, core_.options.name, core_.creation, core_.router_endpoint,
                      core_.pub_endpoint,     known_peers(),      wire::make_nonce()};
    std::string frame = wire::encode_frame(hello);
    link.nonce = hello.nonce;
    link.hello_bytes = frame.substr(1);
    link.state = Link::State::hello_sent;
    // A reconnect runs the handshake again; anything packed before belongs to the old connection.
    drop_pending(link, core_.counters.dropped_node_down);
    send_frame(link, std::move(frame), 0);
}

void Actor::on_hello(const std::string& identity, wire::Hello& hello, std::string_view hello_bytes) {
    if (hello.protocol != wire::protocol_version) {
        reject(hello.name, fmt::format("HELLO speaks protocol {} (this node speaks {})", hello.protocol,
                                       wire::protocol_version));
        return;
    }
    if (!valid_identity(hello.name, hello.creation)) {
        reject("", "HELLO with an invalid node name or creation");
        return;
    }
    if (sessions_.size() >= max_sessions && !sessions_.contains(identity)) {
        reject(hello.name, "too many inbound connections");
        return;
    }
    Session& session = sessions_[identity];
    session = Session{};
    session.hello = std::move(hello);
    session.hello_bytes = std::string(hello_bytes);
    session.server_nonce = wire::make_nonce();
    session.started = Clock::now();
    const auto proof = wire::make_proof(core_.options.cookie, wire::ProofRole::server, session.hello.nonce,
                                        session.server_nonce, session.hello_bytes);
    reply(identity, wire::Welcome{core_.options.name, core_.creation, core_.router_endpoint, core_.pub_endpoint,
                                  known_peers(), session.server_nonce, proof});
}

void Actor::on_auth(const std::string& identity, const wire::Auth& auth) {
    const auto it = sessions_.find(identity);
    if (it == sessions_.end() || it->second.authenticated) {
        bump(core_.counters.unauthenticated_frames);
        log_bad_input("unauthenticated", "an AUTH without a HELLO before it");
        return;
    }
    Session& session = it->second;
    if (!wire::check_proof(core_.options.cookie, wire::ProofRole::client, session.hello.nonce, session.server_nonce,
                           session.hello_bytes, auth.proof)) {
        reject(session.hello.name, "AUTH failed the cookie proof (wrong cookie?)");
        sessions_.erase(it);
        return;
    }
    if (session.hello.name == core_.options.name) {
        log_.error("another node (creation {}) claims this node's name; ignoring it", session.hello.creation);
        sessions_.erase(it);
        return;
    }
    session.authenticated = true;
    const wire::Hello hello = session.hello;
    // One live inbound session per name: connections of older incarnations go.
    std::erase_if(sessions_, [&](const auto& entry) {
        return entry.first != identity && entry.second.hello.name == hello.name &&
               entry.second.hello.creation < hello.creation;
    });
    learn({hello.name, hello.creation, hello.router, hello.pub});
    for (const auto& address : hello.peers) learn(address);
}

void Actor::learn(const wire::PeerAddress& address) {
    if (address.name == core_.options.name || !valid_identity(address.name, address.creation)) return;
    if (address.router.rfind("tcp://", 0) != 0) return;
    if (std::find(ignored_endpoints_.begin(), ignored_endpoints_.end(), address.router) != ignored_endpoints_.end())
        return;
    if (links_.contains(address.router)) return;
    const auto peer = peers_.find(address.name);
    // Already linked to this incarnation or a newer one (maybe via another spelling).
    if (peer != peers_.end() && peer->second.link != nullptr && peer->second.creation >= address.creation) return;
    open_link(address.router, false);
}

void Actor::on_welcome(Link& link, const wire::Welcome& welcome) {
    if (link.state != Link::State::hello_sent) {
        bump(core_.counters.malformed_frames);
        log_bad_input("malformed", fmt::format("a WELCOME from {} that was not asked for", link.endpoint));
        return;
    }
    const auto proof = wire::make_proof(core_.options.cookie, wire::ProofRole::client, link.nonce, welcome.nonce,
                                        link.hello_bytes);
    if (!wire::check_proof(core_.options.cookie, wire::ProofRole::server, link.nonce, welcome.nonce,
                           link.hello_bytes, welcome.proof)) {
        reject(link.endpoint, "WELCOME failed the cookie proof (wrong cookie?)");
        // Answer anyway, so that the other side checks our proof and reports
        // the mismatch too; then close without reconnecting.
        send_frame(link, wire::encode_frame(wire::Auth{proof}), 0);
        link.state = Link::State::connecting;
        link.close_at = Clock::now() + std::chrono::seconds(1);
        return;
    }
    if (!valid_identity(welcome.name, welcome.creation)) {
        reject(link.endpoint, "WELCOME with an invalid node name or creation");
        close_link(link);
        return;
    }
    if (welcome.name == core_.options.name) {
        if (welcome.creation == core_.creation) {
            log_.info("{} is this node's own endpoint; ignored", link.endpoint);
            ignored_endpoints_.push_back(link.endpoint);
        } else {
            log_.error("{} is another node with this node's name (creation {}); ignored", link.endpoint,
                       welcome.creation);
        }
        close_link(link);
        return;
    }
    const auto existing = peers_.find(welcome.name);
    if (existing != peers_.end()) {
        const Peer& peer = existing->second;
        const bool duplicate = peer.link != nullptr && peer.link != &link && peer.creation == welcome.creation &&
                               peer.link->state == Link::State::up;
        if (duplicate || welcome.creation < peer.creation) {
            log_.debug("{} leads to {} creation {}, already linked; closing it", link.endpoint, welcome.name,
                       welcome.creation);
            close_link(link);
            return;
        }
    }
    send_frame(link, wire::encode_frame(wire::Auth{proof}), 0);
    // Links to the peers it names open before it counts as up, so that an
    // observer never sees "seed up, nothing else connecting" too early.
    for (const auto& address : welcome.peers) learn(address);
    peer_up(link, welcome);
}

void Actor::peer_up(Link& link, const wire::Welcome& welcome) {
    Peer& peer = peers_[welcome.name];
    if (peer.creation != 0 && peer.creation != welcome.creation) {
        peer_down(welcome.name, DownReason::restarted,
                  fmt::format("restarted as creation {}", welcome.creation));
        std::erase_if(sessions_, [&](const auto& entry) {
            return entry.second.hello.name == welcome.name && entry.second.hello.creation < welcome.creation;
        });
    }
    if (peer.link != nullptr && peer.link != &link) close_link(*peer.link);
    const bool again = peer.creation == welcome.creation;  // the same incarnation, back after a drop
    link.state = Link::State::up;
    link.peer_name = welcome.name;
    link.peer_creation = welcome.creation;
    peer.creation = welcome.creation;
    peer.router = welcome.router;
    peer.pub = welcome.pub;
    peer.link = &link;
    peer.state = PeerState::up;
    peer.departed.reset();
    peer.since = std::chrono::system_clock::now();
    core_.directory.set_connecting(link.endpoint, false);

    const auto sub = sub_connected_.find(welcome.name);
    if (sub != sub_connected_.end() && sub->second != welcome.pub) {
        sub_.disconnect(sub->second);
        sub_connected_.erase(sub);
    }
    if (!sub_connected_.contains(welcome.name)) {
        sub_.connect(welcome.pub);
        sub_connected_[welcome.name] = welcome.pub;
    }
    publish_directory(welcome.name);
    announce(welcome.name);
    emit(PeerEvent{PeerEventKind::up, welcome.name, welcome.creation, welcome.router, DownReason::none,
                   "HELLO completed via " + link.endpoint});
    membership_peer_up(welcome.name, welcome.creation, again);
}

// Tells every other up peer about `name`, and `name` about all of them:
// whichever order HELLOs crossed in, every pair of nodes then knows the other.
void Actor::announce(const std::string& name) {
    const Peer& fresh = peers_.at(name);
    const wire::Peers about_fresh{{{name, fresh.creation, fresh.router, fresh.pub}}};
    for (auto& [other, peer] : peers_) {
        if (other == name || peer.state != PeerState::up || peer.link == nullptr) continue;
        send_frame(*peer.link, wire::encode_frame(about_fresh), 0);
    }
    auto everyone = known_peers();
    std::erase_if(everyone, [&](const wire::PeerAddress& address) { return address.name == name; });
    if (!everyone.empty()) send_frame(*fresh.link, wire::encode_frame(wire::Peers{std::move(everyone)}), 0);
}

void Actor::peer_down(const std::string& name, DownReason reason, const std::string& detail) {
    const auto it = peers_.find(name);
    if (it == peers_.end() || it->second.state != PeerState::up) return;
    Peer& peer = it->second;
    peer.state = PeerState::down;
    peer.since = std::chrono::system_clock::now();
    if (peer.link != nullptr) {
        drop_pending(*peer.link, core_.counters.dropped_node_down);
        if (peer.link->state == Link::State::up) peer.link->state = Link::State::connecting;
    }
    publish_directory(name);
    emit(PeerEvent{PeerEventKind::down, name, peer.creation, peer.router, reason, detail});
    membership_peer_down(name);
}

void Actor::on_bye(const std::string& identity, const wire::Hello& who) {
    reply(identity, wire::ByeAck{});
    sessions_.erase(identity);
    const auto it = peers_.find(who.name);
    if (it != peers_.end() && it->second.creation == who.creation) {
        peer_down(who.name, DownReason::bye, "said BYE");
        it->second.departed = Clock::now();
        // It is gone for good: stop reconnecting and stop listening to it.
        if (it->second.link != nullptr) close_link(*it->second.link);
        if (const auto sub = sub_connected_.find(who.name); sub != sub_connected_.end()) {
            sub_.disconnect(sub->second);
            sub_connected_.erase(sub);
        }
    }
    if (const auto link = links_.find(who.router); link != links_.end() && link->second->peer_name.empty()) {
        close_link(*link->second);
    }
}

void Actor::reject(const std::string& who, const std::string& why) {
    bump(core_.counters.rejected_peers);
    log_bad_input("rejected", fmt::format("peer {}: {}", who.empty() ? "(unnamed)" : who, why));
    emit(PeerEvent{PeerEventKind::rejected, "", 0, who, DownReason::none, why});
}

void Actor::publish_directory(const std::string& name) {
    const Peer& peer = peers_.at(name);
    PeerInfo info;
    info.name = name;
    info.creation = peer.creation;
    info.router_endpoint = peer.router;
    info.pub_endpoint = peer.pub;
    info.state = peer.state;
    info.since = peer.since;
    core_.directory.set(info, peer.counters);
}

void Actor::emit(PeerEvent event) {
    switch (event.kind) {
    case PeerEventKind::up:
        bump(core_.counters.peers_up);
        log_.info("peer {} up (creation {}, {})", event.name, event.creation, event.detail);
        break;
    case PeerEventKind::down:
        bump(core_.counters.peers_down);
        log_.info("peer {} down (creation {}, {}: {})", event.name, event.creation, to_string(event.reason),
                  event.detail);
        break;
    case PeerEventKind::rejected:
        break;  // logged, rate limited, by reject()
    }
    if (core_.options.on_peer_event) {
        try {
            core_.options.on_peer_event(event);
        } catch (const std::exception& error) {
            log_.error("on_peer_event threw: {}", error.what());
        }
    }
    if (!core_.events.push(std::move(event))) bump(core_.counters.events_dropped);
}

}  // namespace liminal::detail
