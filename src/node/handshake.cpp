// The HELLO -> WELCOME -> AUTH handshake, PEERS, BYE, and the peer lifecycle
// that follows from them (docs/PROTOCOL.md). Runs on the I/O thread.

#include "node/actor.hpp"
#include "wire/proof.hpp"

#include <liminal/pid.hpp>

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <algorithm>
#include <set>
#include <utility>

namespace liminal::detail {
namespace {

constexpr auto reject_close_delay = std::chrono::seconds(1);  // a rejected link answers, then closes

bool valid_identity(const std::string& name, std::uint64_t creation) {
    return is_valid_node_name(name) && creation != 0;
}

}  // namespace

wire::Answerer Actor::self_as_answerer() const {
    return wire::Answerer{core_.options.name, core_.creation, core_.router_endpoint, core_.pub_endpoint};
}

void Actor::send_hello(Link& link) {
    link.send_hello(wire::Hello{wire::protocol_version, core_.options.name, core_.creation, core_.router_endpoint,
                                core_.pub_endpoint, wire::make_nonce()});
}

void Actor::on_handshake(const std::string& identity, const Connection& connection, wire::Hello& hello,
                         std::string_view hello_bytes) {
    if (const Session* current = sessions_.find(identity, connection.id); current && current->authenticated()) {
        bump(core_.counters.malformed_frames);
        bad_input_.dropped("malformed", fmt::format("a second HELLO from {}, already authenticated", current->name()));
        return;
    }
    if (stop_requested_) return;  // stopping: no new sessions (the peer's link retries, and meets what comes next)
    if (partitioned_.contains(hello.name)) return;  // a fault injected: as if it never arrived
    if (hello.protocol < wire::min_protocol_version) {
        reject(hello.name, fmt::format("HELLO speaks protocol {} (this node speaks {} to {})", hello.protocol,
                                       wire::min_protocol_version, wire::protocol_version));
        return;
    }
    if (!valid_identity(hello.name, hello.creation)) {
        reject("", "HELLO with an invalid node name or creation");
        return;
    }
    // Every DEALER of an incarnation connects under the one routing id its
    // name and creation give (sockets.hpp): a HELLO under any other is not its.
    if (identity != routing_id(hello.name, hello.creation)) {
        reject(hello.name, "HELLO on a connection whose routing id is not its sender's");
        return;
    }
    // With node keys the connection's key says who it is: the HELLO must agree.
    if (core_.options.security == Security::node_keys && ZapHandler::bound_name(connection.id) != hello.name) {
        reject(hello.name, fmt::format("HELLO as {} on a connection whose key is {}'s", hello.name,
                                       ZapHandler::bound_name(connection.id)));
        return;
    }
    const std::string name = hello.name;
    // A session ends when its connection does (on_server_monitor), found by
    // descriptor; this one's may be the number of a connection just closed.
    // libzmq reports a disconnection before it closes the descriptor, so
    // before any later connection can have it: reading the monitor now ends
    // the old session first, never this one.
    on_server_monitor(router_monitor_, router_monitor_watch_, "ROUTER");
    Session* session =
        sessions_.open(identity, connection, std::move(hello), std::string(hello_bytes), wire::make_nonce());
    if (session == nullptr) {
        reject(name, "too many inbound connections");
        return;
    }
    const auto proof = wire::make_proof(core_.keys->proof, wire::ProofRole::server, session->hello().nonce,
                                        session->server_nonce(), session->hello_bytes(), self_as_answerer());
    reply(identity, wire::Welcome{core_.options.name, core_.creation, core_.router_endpoint, core_.pub_endpoint,
                                  session->server_nonce(), proof});
}

void Actor::on_handshake(const std::string& identity, const Connection& connection, wire::Auth& auth,
                         std::string_view) {
    Session* session = sessions_.find(identity, connection.id);
    if (session == nullptr || session->authenticated()) {
        bump(core_.counters.unauthenticated_frames);
        bad_input_.dropped("unauthenticated", "an AUTH without a HELLO before it");
        return;
    }
    if (!wire::check_proof(core_.keys->proof, wire::ProofRole::client, session->hello().nonce,
                           session->server_nonce(), session->hello_bytes(), self_as_answerer(), auth.proof)) {
        reject(session->name(), "AUTH failed the cookie proof (wrong cookie?)");
        sessions_.erase(identity);
        return;
    }
    if (session->name() == core_.options.name) {
        log_.error("another node (creation {}) claims this node's name; ignoring it", session->creation());
        sessions_.erase(identity);
        return;
    }
    session->authenticate();
    const wire::Hello hello = session->hello();
    // One live inbound session per name: connections of older incarnations go.
    sessions_.erase_older(hello.name, hello.creation, identity);
    if (stop_requested_) {
        tell_leaving(identity, hello.name);  // stopping: it is told at once, and linked to no more
        return;
    }
    // The rest of the cluster it learns from our PEERS once our link to it is up (announce).
    learn({hello.name, hello.creation, hello.router, hello.pub});
}

void Actor::tell_leaving(const std::string& identity, const std::string& name) {
    if (peers_.up_link(name) != nullptr) return;
    reply(identity, wire::Leaving{core_.options.name, core_.creation});
    told_leaving_.push_back(identity);
}

void Actor::learn(const wire::PeerAddress& address) {
    if (stop_requested_) return;  // stopping: no new links
    if (partitioned_.contains(address.name)) return;  // a fault injected: healed by reopening it
    if (address.name == core_.options.name || !valid_identity(address.name, address.creation)) return;
    if (address.router.rfind("tcp://", 0) != 0) return;
    if (std::find(ignored_endpoints_.begin(), ignored_endpoints_.end(), address.router) != ignored_endpoints_.end())
        return;
    if (links_.contains(address.router)) return;
    const Peer* peer = peers_.find(address.name);
    // Already linked to this incarnation or a newer one (maybe via another spelling).
    if (peer != nullptr && peer->link != nullptr && peer->creation >= address.creation) return;
    // That incarnation said BYE to us: a peer that tells of it has not heard yet.
    if (peer != nullptr && peer->departed && address.creation <= peer->departed_creation) return;
    open_link(address.router, address.name, false);
}

void Actor::on_reply(Link& link, const wire::Welcome& welcome) {
    if (link.state() != Link::State::hello_sent) {
        bump(core_.counters.malformed_frames);
        bad_input_.dropped("malformed", fmt::format("a WELCOME from {} that was not asked for", link.endpoint()));
        return;
    }
    // The WELCOME's own identity is what the proofs bind: an answer to this
    // HELLO under any other name fails.
    const wire::Answerer answerer{welcome.name, welcome.creation, welcome.router, welcome.pub};
    const auto proof = wire::make_proof(core_.keys->proof, wire::ProofRole::client, link.nonce(), welcome.nonce,
                                        link.hello_bytes(), answerer);
    if (!wire::check_proof(core_.keys->proof, wire::ProofRole::server, link.nonce(), welcome.nonce,
                           link.hello_bytes(), answerer, welcome.proof)) {
        reject(link.endpoint(), "WELCOME failed the cookie proof (wrong cookie?)");
        // Answer anyway, so that the other side checks our proof and reports
        // the mismatch too; then close without reconnecting.
        link.send(wire::Auth{proof});
        link.close_after(reject_close_delay);
        return;
    }
    if (!wanted(link, welcome)) {
        close_link(link);
        return;
    }
    link.send(wire::Auth{proof});
    peer_up(link, welcome);
}

bool Actor::wanted(const Link& link, const wire::Welcome& welcome) {
    if (!valid_identity(welcome.name, welcome.creation)) {
        reject(link.endpoint(), "WELCOME with an invalid node name or creation");
        return false;
    }
    // With node keys the server proved the key of the name we expected: its WELCOME must say that name.
    if (core_.options.security == Security::node_keys && welcome.name != link.expected()) {
        reject(link.endpoint(), fmt::format("WELCOME as {} from the holder of {}'s key", welcome.name,
                                            link.expected()));
        return false;
    }
    if (welcome.name == core_.options.name) {
        if (welcome.creation == core_.creation) {
            log_.info("{} is this node's own endpoint; ignored", link.endpoint());
            ignored_endpoints_.push_back(link.endpoint());
        } else {
            log_.error("{} is another node with this node's name (creation {}); ignored", link.endpoint(),
                       welcome.creation);
        }
        return false;
    }
    const Peer* peer = peers_.find(welcome.name);
    if (peer == nullptr) return true;
    const bool duplicate =
        peer->link != nullptr && peer->link != &link && peer->creation == welcome.creation && peer->link->up();
    if (duplicate || welcome.creation < peer->creation) {
        log_.debug("{} leads to {} creation {}, already linked; closing it", link.endpoint(), welcome.name,
                   welcome.creation);
        return false;
    }
    return true;
}

void Actor::on_reply(Link& link, const wire::ByeAck&) { link.bye_acked(); }

void Actor::on_reply(Link& link, const wire::Leaving&) {
    // Who leaves is the peer whose WELCOME this connection checked, never the
    // message's fields; before that check, nobody the reply can be taken from.
    if (!link.up()) {
        bump(core_.counters.malformed_frames);
        bad_input_.dropped("malformed", fmt::format("a LEAVING from {} before its WELCOME", link.endpoint()));
        return;
    }
    departed(link.peer_name(), link.peer_creation());
}

void Actor::peer_up(Link& link, const wire::Welcome& welcome) {
    Peer& peer = peers_.at(welcome.name);
    if (peer.departed && welcome.creation <= peer.departed_creation) {
        // An answer from an incarnation that has said BYE (it crossed the
        // BYE): it is gone, whatever its socket still says.
        let_go(link);
        return;
    }
    if (stop_requested_) {
        // A link that comes up while we stop (its WELCOME was on the way) is
        // told at once, after its AUTH, and waited for like the others.
        link.came_up(welcome.name, welcome.creation, peer.counters);
        link.send_bye(wire::Bye{core_.options.name, core_.creation});
        return;
    }
    if (peer.creation != 0 && peer.creation != welcome.creation) {
        peer_down(welcome.name, DownReason::restarted,
                  fmt::format("restarted as creation {}", welcome.creation));
        sessions_.erase_older(welcome.name, welcome.creation);
    }
    if (peer.link != nullptr && peer.link != &link) close_link(*peer.link);
    const bool again = peer.creation == welcome.creation;  // the same incarnation, back after a drop
    link.came_up(welcome.name, welcome.creation, peer.counters);
    handshake_wait_.erase(link.endpoint());
    peer.creation = welcome.creation;
    peer.router = welcome.router;
    peer.pub = welcome.pub;
    peer.link = &link;
    peer.state = PeerState::up;
    peer.departed.reset();
    peer.since = std::chrono::system_clock::now();
    core_.directory.set_connecting(link.endpoint(), false);
    connect_sub(welcome.name, peer, welcome.pub);
    peers_.publish(welcome.name, core_.directory);
    announce(welcome.name);
    emit(PeerEvent{PeerEventKind::up, welcome.name, welcome.creation, welcome.router, DownReason::none,
                   "HELLO completed via " + link.endpoint()});
    membership_peer_up(welcome.name, welcome.creation, again);
}

// A fresh SUB each time the link comes up: the old one may be waiting out a
// reconnect backoff from a split that has healed, while gossip sent now
// would be lost. Anything the swap loses is found by the digest the peer
// publishes when the new SUB subscribes (on_pub).
void Actor::connect_sub(const std::string& name, Peer& peer, const std::string& pub) {
    disconnect_sub(peer);
    peer.sub = std::make_unique<Subscription>(context_, core_.options, core_.curve, server_key(name), name, pub);
}

void Actor::disconnect_sub(Peer& peer) {
    if (peer.sub == nullptr) return;
    // The poll set of this iteration may still point at it.
    peer.sub->closed = true;
    closed_subs_.push_back(std::move(peer.sub));
}

// Tells every other up peer about `name`, and `name` about all of them:
// whichever order HELLOs crossed in, every pair of nodes then knows the other.
void Actor::announce(const std::string& name) {
    const Peer& fresh = *peers_.find(name);
    const wire::Peers about_fresh{{{name, fresh.creation, fresh.router, fresh.pub}}};
    for (auto& [other, peer] : peers_) {
        if (other == name || peer.state != PeerState::up || peer.link == nullptr) continue;
        peer.link->send(about_fresh);
    }
    auto everyone = peers_.known();
    std::erase_if(everyone, [&](const wire::PeerAddress& address) { return address.name == name; });
    if (!everyone.empty()) fresh.link->send(wire::Peers{std::move(everyone)});
}

bool Actor::on_data(Inbound&, wire::Peers& peers) {
    for (const auto& address : peers.peers) learn(address);
    return true;
}

void Actor::peer_down(const std::string& name, DownReason reason, const std::string& detail) {
    Peer* peer = peers_.find(name);
    if (peer == nullptr || peer->state != PeerState::up) return;
    peer->state = PeerState::down;
    peer->since = std::chrono::system_clock::now();
    peer->not_up_since = Clock::now();
    peer->reach.clear();  // what it saw while we saw it; not evidence of anything now
    if (peer->link != nullptr) peer->link->went_down();
    peers_.publish(name, core_.directory);
    // Its members go first: whoever sees the event sees them gone.
    membership_peer_down(name, peer->creation);
    emit(PeerEvent{PeerEventKind::down, name, peer->creation, peer->router, reason, detail});
}

bool Actor::on_data(Inbound& in, wire::Bye&) {
    // The session's own identity, not the BYE's fields, says who leaves.
    const wire::Hello who = in.session.hello();
    delivery_.finish();  // what came before the BYE is delivered first
    reply(in.identity, wire::ByeAck{});
    sessions_.erase(in.identity);  // `in.session` is gone from here on
    departed(who.name, who.creation);
    if (const auto link = links_.find(who.router); link != links_.end() && link->second->peer_name().empty()) {
        let_go(*link->second);
    }
    return false;  // nothing after BYE is applied
}

void Actor::departed(const std::string& name, std::uint64_t creation) {
    // The incarnation we saw up, or one we never saw up at all (our link to
    // it was still connecting: it left before that, or a peer told us of it
    // late): either way it is gone for good.
    // Recorded even when we never linked to it, so that a peer's late PEERS
    // about it does not bring it back.
    Peer& peer = peers_.at(name);
    if (peer.creation > creation) return;  // an older incarnation's goodbye: the newer one stays
    peer_down(name, DownReason::bye, "said BYE");
    if (peer.state != PeerState::down) {  // never up: down now, without an event (it never was up)
        peer.state = PeerState::down;
        peer.since = std::chrono::system_clock::now();
        peers_.publish(name, core_.directory);
    }
    peer.departed = Clock::now();
    peer.departed_creation = creation;
    // It is gone for good: stop reconnecting and stop listening to it.
    if (peer.link != nullptr) let_go(*peer.link);
    disconnect_sub(peer);
}

void Actor::let_go(Link& link) {
    if (!link.seed()) return close_link(link);
    // A seed is whatever runs at its endpoint: the next incarnation there is
    // met through a fresh link (the departed one no longer answers HELLO).
    const std::string endpoint = link.endpoint();
    const std::string expected = link.expected();
    close_link(link);
    open_link(endpoint, expected, true);
}

// Node keys, reloaded: a node whose key went away, or changed, is cut off;
// one that is still trusted under a new key is connected to again with it.
void Actor::on_command(const command::TrustKeys& trust) {
    const TrustedKeys before = std::exchange(trusted_, trust.keys);
    zap_.trust(trusted_);
    std::set<std::string> changed;
    for (const auto& [key, name] : before) {
        if (key_of(trusted_, name) != key) changed.insert(name);
    }
    log_.info("trusted keys reloaded: {} keys; {} nodes lose their old key", trusted_.size(), changed.size());
    for (const auto& name : changed) {
        revoke(name);
        const Peer* peer = peers_.find(name);
        if (peer != nullptr && !peer->router.empty() && !key_of(trusted_, name).empty())
            open_link(peer->router, name, false);
    }
}

void Actor::revoke(const std::string& name) { cut_off(name, DownReason::revoked, "its key is no longer trusted"); }

void Actor::cut_off(const std::string& name, DownReason reason, const std::string& detail) {
    // Its connections to our ROUTER: forgotten, and closed under libzmq (which
    // has no call to drop one peer of a bound socket; the descriptor is the
    // connection's, from the message metadata).
    for (const int fd : sessions_.erase_name(name)) {
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
    // And its SUBs on our PUB (seen through their subscriptions, on_pub).
    if (const auto it = subscriber_fds_.find(name); it != subscriber_fds_.end()) {
        if (it->second >= 0) ::shutdown(it->second, SHUT_RDWR);
        subscriber_fds_.erase(it);
    }
    std::vector<Link*> links;
    for (auto& [endpoint, link] : links_) {
        if (link->peer_name() == name || link->expected() == name) links.push_back(link.get());
    }
    peer_down(name, reason, detail);
    for (Link* link : links) close_link(*link);
    if (Peer* peer = peers_.find(name)) disconnect_sub(*peer);
}

void Actor::refused(const std::string& what) {
    bump(core_.counters.refused_connections);
    const std::string why = what + (core_.options.security == Security::node_keys
                                        ? ": a key not in the trusted keys, or a node of another mode?"
                                        : ": another cookie, or a node of another mode?");
    bad_input_.dropped("refused", why);
    // A flood of refusals is one event a second, like the log.
    const auto now = Clock::now();
    if (now - last_refusal_event_ < std::chrono::seconds(1)) return;
    last_refusal_event_ = now;
    emit(PeerEvent{PeerEventKind::rejected, "", 0, "", DownReason::none, why});
}

void Actor::reject(const std::string& who, const std::string& why) {
    bump(core_.counters.rejected_peers);
    bad_input_.dropped("rejected", fmt::format("peer {}: {}", who.empty() ? "(unnamed)" : who, why));
    emit(PeerEvent{PeerEventKind::rejected, "", 0, who, DownReason::none, why});
}

}  // namespace liminal::detail
