// The actor's construction, its links' lifecycle, peer events and the clean
// stop. Runs on the I/O thread (construction: before it starts).

#include "node/actor.hpp"

#include <liminal/error.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace liminal::detail {
namespace {

void bind_or_throw(zmq::socket_t& socket, const std::string& endpoint, const char* what) {
    try {
        socket.bind(endpoint);
    } catch (const zmq::error_t& error) {
        throw StartFailed(std::string("liminal: cannot bind the ") + what + " to " + endpoint + ": " + error.what());
    }
}

}  // namespace

Actor::Actor(NodeCore& core)
    : core_(core), log_(*core.log), bad_input_(*core.log), identity_(routing_id(core.options.name, core.creation)),
      context_(1, 4096), zap_(context_, core.options.security, core.keys->curve_public, core.trusted),
      router_(context_, zmq::socket_type::router), pub_(context_, zmq::socket_type::xpub),
      admin_(context_, zmq::socket_type::router),
      router_monitor_(context_, zmq::socket_type::pair), pub_monitor_(context_, zmq::socket_type::pair),
      admin_monitor_(context_, zmq::socket_type::pair),
      admin_service_(core),
      next_digest_(Clock::now() + core.options.digest_interval), drop_state_(core.testing.seed) {
    const Options& options = core_.options;
    trusted_ = core_.trusted;
    configure_peer_socket(router_, options);
    router_.set(zmq::sockopt::router_mandatory, 1);
    // A second connection with a known routing id takes over (ZMQ-NOTES §3).
    router_.set(zmq::sockopt::router_handover, 1);
    configure_peer_socket(pub_, options);
    // An XPUB, to see each subscriber connect (with its User-Id and
    // descriptor: revoke() closes a revoked node's); verbose, so that every
    // subscription comes up, not only a topic's first.
    pub_.set(zmq::sockopt::xpub_verbose, 1);
    secure_server(router_, options.security, core_.curve, ZapHandler::peer_domain);
    secure_server(pub_, options.security, core_.curve, ZapHandler::peer_domain);
    // Disconnections too: a session, and a subscriber's descriptor, end with their connection.
    start_monitor(router_, router_monitor_, "inproc://liminal-router-monitor",
                  handshake_failed_events | ZMQ_EVENT_DISCONNECTED);
    start_monitor(pub_, pub_monitor_, "inproc://liminal-pub-monitor", handshake_failed_events | ZMQ_EVENT_DISCONNECTED);

    bind_or_throw(router_, options.listen, "ROUTER");
    bind_or_throw(pub_, options.gossip, "PUB");
    core_.router_endpoint = advertised_endpoint(router_, options.advertise_host);
    core_.pub_endpoint = advertised_endpoint(pub_, options.advertise_host);
    if (!options.admin.empty()) {
        admin_.set(zmq::sockopt::linger, 0);
        admin_.set(zmq::sockopt::router_mandatory, 1);
        // Encrypted in every mode, with the cookie's keys.
        secure_server(admin_, Security::cluster_secret, {core_.keys->curve_public, core_.keys->curve_secret},
                      ZapHandler::admin_domain);
        start_monitor(admin_, admin_monitor_, "inproc://liminal-admin-monitor", handshake_failed_events);
        if (options.admin.rfind("tcp://[", 0) == 0) admin_.set(zmq::sockopt::ipv6, 1);  // [::1]
        // Above the counted limit, so that a too-large request still gets an answer.
        admin_.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(AdminService::max_request_bytes) * 4);
        bind_or_throw(admin_, options.admin, "admin endpoint");
        core_.admin_endpoint = admin_.get(zmq::sockopt::last_endpoint);
    }
    if (options.faults) {
        admin_service_.on_fault([this](const nlohmann::json& args) { return fault(args); });
        log_.warn("fault injection is on (Options::faults): the admin endpoint can partition this node from its "
                  "peers; for tests only");
    }

    for (const auto& seed : options.seeds) {
        // NAME=ENDPOINT (node keys: the name says which key to expect), or ENDPOINT.
        const auto equals = seed.find('=');
        const std::string name = equals == std::string::npos ? std::string() : seed.substr(0, equals);
        const std::string endpoint = equals == std::string::npos ? seed : seed.substr(equals + 1);
        if (endpoint == core_.router_endpoint || endpoint == options.listen) {
            log_.info("seed {} is this node's own endpoint; ignored", endpoint);
            continue;
        }
        if (!links_.contains(endpoint)) open_link(endpoint, name, true);
    }
}

Actor::~Actor() = default;

void Actor::run() {
    log_.info("node up: creation={} router={} pub={}", core_.creation, core_.router_endpoint, core_.pub_endpoint);
    core_.commands.set_consumer();
    io_ = std::unique_lock(core_.commands.io_lock());
    core_.commands.set_flusher([this] { return send_queued_here(); });
    Leadership& leadership = core_.commands.leadership();
    leadership.open([this](Clock::time_point deadline, const std::function<bool()>& done) {
        return lead(deadline, done);
    });
    while (!stop_requested_) {
        poll_once(next_timeout());
        if (!stop_requested_ && leadership.wanted()) leadership.park([this] { io_.unlock(); }, [this] { io_.lock(); });
    }
    // From here on everything goes through this thread: BYE must be the last
    // a link sends.
    leadership.close();
    core_.commands.set_flusher(nullptr);
    shutdown();
    io_.unlock();
}

bool Actor::lead(Clock::time_point deadline, const std::function<bool()>& done) noexcept {
    io_.lock();
    const auto io_thread = core_.commands.consumer();
    core_.commands.set_consumer();
    leader_done_ = &done;
    while (!stop_requested_ && !done()) {
        const auto now = Clock::now();
        if (now >= deadline) break;
        poll_once(std::min(std::chrono::ceil<std::chrono::milliseconds>(deadline - now), next_timeout()));
    }
    leader_done_ = nullptr;
    core_.commands.set_consumer(io_thread);
    const bool running = !stop_requested_;
    io_.unlock();
    return running;
}

std::string Actor::server_key(const std::string& name) const {
    if (core_.options.security != Security::node_keys) return core_.keys->curve_public;
    return key_of(trusted_, name);
}

Link* Actor::open_link(const std::string& endpoint, const std::string& name, bool seed) {
    if (const auto it = links_.find(endpoint); it != links_.end()) {
        if (!it->second->closing()) return it->second.get();
        graveyard_.push_back(std::move(it->second));
        links_.erase(it);
    }
    const std::string key = server_key(name);
    if (key.empty()) {
        log_.warn("no trusted key for {} ({}): not connecting", name.empty() ? "(unnamed)" : name, endpoint);
        return nullptr;
    }
    auto link = std::make_unique<Link>(context_, core_.options, core_.curve, key, endpoint, name, identity_,
                                       ++link_serial_, seed, core_.counters, core_.backpressure, bad_input_);
    Link* ref = link.get();
    links_.emplace(endpoint, std::move(link));
    core_.directory.set_connecting(endpoint, true);
    log_.debug("connecting to {}", endpoint);
    return ref;
}

void Actor::close_link(Link& link) {
    if (link.closing()) return;
    link.mark_closing();
    link.drop_pending(core_.counters.dropped_node_down);
    core_.directory.set_connecting(link.endpoint(), false);
    if (Peer* peer = peers_.find(link.peer_name()); peer != nullptr && peer->link == &link) peer->link = nullptr;
    const auto it = links_.find(link.endpoint());
    graveyard_.push_back(std::move(it->second));
    links_.erase(it);
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
    case PeerEventKind::slow_consumer:
        log_.warn("slow consumer: {} ({})", event.name, event.detail);
        break;
    case PeerEventKind::partial_partition:
        bump(core_.counters.partial_partitions);
        log_.warn("partial partition: cannot reach {}, yet {}", event.name, event.detail);
        break;
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

void Actor::shutdown() {
    // Sends accepted before stop() go out ahead of BYE.
    on_commands(true);
    for (auto& [endpoint, link] : links_) {
        if (link->up())
            link->send_bye(wire::Bye{core_.options.name, core_.creation});
        else
            link->flush(true);
    }
    // A node linked to us that we are not linked to (its link came up
    // first, or ours never will) hears no BYE of ours: it is told on its own
    // connection, and closes it (what we wait for, as for a BYE_ACK).
    // Links and sessions that come up from here on are told as they do
    // (peer_up, on_handshake), so handshakes under way are waited for too:
    // a node whose AUTH is on its way has our WELCOME, and its link is up.
    for (const auto& [identity, name] : sessions_.authenticated()) tell_leaving(identity, name);
    const auto awaiting = [&] {
        return static_cast<std::size_t>(std::count_if(links_.begin(), links_.end(), [](const auto& entry) {
                   return entry.second->awaiting_bye_ack();
               })) +
               static_cast<std::size_t>(std::count_if(
                   told_leaving_.begin(), told_leaving_.end(),
                   [&](const std::string& identity) { return sessions_.connected(identity); })) +
               sessions_.handshaking();
    };
    const auto deadline = Clock::now() + core_.options.bye_grace;
    // Keep serving (a peer stopping at the same time wants our BYE_ACK too)
    // until every peer acknowledged our BYE or closed on our LEAVING, or the grace runs out.
    while (awaiting() > 0 && Clock::now() < deadline) poll_once(std::chrono::milliseconds(10));
    if (const auto late = awaiting(); late > 0) log_.info("stopping: {} peers did not acknowledge BYE in time", late);
    for (auto& [endpoint, link] : links_) link->drop_pending(core_.counters.dropped_node_down);
    links_.clear();
    graveyard_.clear();
    zmq_socket_monitor(router_.handle(), nullptr, 0);
    zmq_socket_monitor(pub_.handle(), nullptr, 0);
    if (!core_.admin_endpoint.empty()) zmq_socket_monitor(admin_.handle(), nullptr, 0);
    router_monitor_.close();
    pub_monitor_.close();
    admin_monitor_.close();
    router_.close();
    pub_.close();
    for (auto& [name, peer] : peers_) peer.sub.reset();
    closed_subs_.clear();
    admin_.close();
    zap_.socket().close();
    context_.close();
    core_.processes->close_all();
    core_.events.close();
    log_.info("node stopped");
}

}  // namespace liminal::detail
