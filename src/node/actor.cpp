#include "node/actor.hpp"

#include <liminal/node.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace liminal::detail {
namespace {

constexpr int max_reads_per_socket = 1024;       // fairness between sockets per iteration
void bind_or_throw(zmq::socket_t& socket, const std::string& endpoint, const char* what) {
    try {
        socket.bind(endpoint);
    } catch (const zmq::error_t& error) {
        throw StartFailed(std::string("liminal: cannot bind the ") + what + " to " + endpoint + ": " + error.what());
    }
}

// A non-blocking receive that found nothing has processed the socket's
// pending commands, as reading ZMQ_EVENTS would: the socket's descriptor
// will signal anything new. Call it only when that receive was the last
// operation on the socket.
void drained(Watch& watch) { watch.touched = false; }

// Reads and discards the remaining parts of a multipart message.
std::size_t drain_parts(zmq::socket_t& socket, zmq::message_t& last) {
    std::size_t extra = 0;
    while (last.more()) {
        if (!socket.recv(last, zmq::recv_flags::dontwait)) break;
        ++extra;
    }
    return extra;
}

}  // namespace

Actor::Actor(NodeCore& core)
    : core_(core), log_(*core.log), identity_(routing_id(core.options.name, core.creation)),
      context_(1, 4096), router_(context_, zmq::socket_type::router), pub_(context_, zmq::socket_type::pub),
      sub_(context_, zmq::socket_type::sub), admin_(context_, zmq::socket_type::router), admin_service_(core),
      next_digest_(Clock::now() + core.options.digest_interval),
      drop_state_(core.options.testing.seed) {
    const Options& options = core_.options;
    configure_peer_socket(router_, options);
    router_.set(zmq::sockopt::router_mandatory, 1);
    // A second connection with a known routing id takes over (ZMQ-NOTES §3).
    router_.set(zmq::sockopt::router_handover, 1);
    configure_peer_socket(pub_, options);
    configure_peer_socket(sub_, options);
    sub_.set(zmq::sockopt::subscribe, "");

    bind_or_throw(router_, options.listen, "ROUTER");
    bind_or_throw(pub_, options.gossip, "PUB");
    core_.router_endpoint = advertised_endpoint(router_, options.advertise_host);
    core_.pub_endpoint = advertised_endpoint(pub_, options.advertise_host);
    if (!options.admin.empty()) {
        admin_.set(zmq::sockopt::linger, 0);
        // Above the counted limit, so that a too-large request still gets an answer.
        admin_.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(AdminService::max_request_bytes) * 4);
        bind_or_throw(admin_, options.admin, "admin endpoint");
        core_.admin_endpoint = admin_.get(zmq::sockopt::last_endpoint);
    }

    for (const auto& seed : options.seeds) {
        if (seed == core_.router_endpoint || seed == options.listen) {
            log_.info("seed {} is this node's own endpoint; ignored", seed);
            continue;
        }
        if (!links_.contains(seed)) open_link(seed, true);
    }
}

Actor::~Actor() = default;

void Actor::run() {
    log_.info("node up: creation={} router={} pub={}", core_.creation, core_.router_endpoint, core_.pub_endpoint);
    core_.commands.set_consumer();
    while (!stop_requested_) poll_once(next_timeout());
    shutdown();
}

std::chrono::milliseconds Actor::next_timeout() const {
    // Heartbeats run inside libzmq. The wake-up publishes the periodic digest,
    // expires half-done handshakes and closes rejected links.
    for (const auto& [endpoint, link] : links_) {
        if (link->close_at) return std::chrono::milliseconds(100);
    }
    const auto until_digest = std::chrono::duration_cast<std::chrono::milliseconds>(next_digest_ - Clock::now());
    return std::clamp(until_digest + std::chrono::milliseconds(1), std::chrono::milliseconds(0),
                      std::chrono::milliseconds(1000));
}

bool Actor::poll_once(std::chrono::milliseconds timeout) {
    polled_.clear();
    polled_links_.clear();
    polled_.push_back({&router_, &router_watch_, ZMQ_POLLIN, 0});
    polled_.push_back({&sub_, &sub_watch_, ZMQ_POLLIN, 0});
    if (!core_.admin_endpoint.empty()) polled_.push_back({&admin_, &admin_watch_, ZMQ_POLLIN, 0});
    const std::size_t fixed = polled_.size();
    for (auto& [endpoint, link] : links_) {
        const short want = ZMQ_POLLIN | (link->pending.empty() ? 0 : ZMQ_POLLOUT);
        polled_.push_back({&link->dealer, &link->dealer_watch, want, 0});
        polled_.push_back({&link->monitor, &link->monitor_watch, ZMQ_POLLIN, 0});
        polled_links_.push_back(link.get());
    }
    // A touched socket may be ready without its descriptor saying so: ask it
    // first, and sleep only if none is.
    bool ready = false;
    for (auto& p : polled_) {
        p.ready = 0;
        if (!p.watch->touched) continue;
        p.watch->touched = false;
        p.ready = static_cast<short>(p.socket->get(zmq::sockopt::events) & p.want);
        ready = ready || p.ready != 0;
    }
    pollfds_.clear();
    pollfds_.push_back({core_.commands.fd(), POLLIN, 0});
    for (const auto& p : polled_) pollfds_.push_back({p.watch->fd, POLLIN, 0});
    if (::poll(pollfds_.data(), pollfds_.size(), ready ? 0 : static_cast<int>(timeout.count())) < 0) {
        for (auto& fd : pollfds_) fd.revents = 0;  // EINTR: nothing signalled
    }
    ready = ready || (pollfds_[0].revents & POLLIN) != 0;
    for (std::size_t i = 0; i < polled_.size(); ++i) {
        if (pollfds_[i + 1].revents == 0) continue;
        Polled& p = polled_[i];
        p.ready = static_cast<short>(p.ready | (p.socket->get(zmq::sockopt::events) & p.want));
        ready = ready || p.ready != 0;
    }
    // Every handler below sends or receives on its socket: touched.
    const auto handle = [](Polled& p, short event, auto&& handler) {
        if (!(p.ready & event)) return;
        p.watch->touched = true;
        handler();
    };

    if (pollfds_[0].revents & POLLIN) on_commands(true);
    handle(polled_[0], ZMQ_POLLIN, [&] {
        on_router();
        // A callback that answered from this thread queued its reply: send
        // it now rather than after another round through poll.
        if (core_.commands.pending()) on_commands(false);
    });
    handle(polled_[1], ZMQ_POLLIN, [&] { on_sub(); });
    if (fixed == 3) handle(polled_[2], ZMQ_POLLIN, [&] { on_admin(); });
    for (std::size_t i = 0; i < polled_links_.size(); ++i) {
        Link& link = *polled_links_[i];
        Polled& dealer = polled_[fixed + 2 * i];
        Polled& monitor = polled_[fixed + 2 * i + 1];
        // Monitor first: a HANDSHAKE_SUCCEEDED must send HELLO before anything is read.
        if (!link.closing) handle(monitor, ZMQ_POLLIN, [&] { on_link_monitor(link); });
        if (!link.closing) handle(dealer, ZMQ_POLLIN, [&] { on_link_input(link); });
        if (!link.closing) handle(dealer, ZMQ_POLLOUT, [&] { on_link_writable(link); });
    }
    const auto now = Clock::now();
    if (now >= next_digest_) gossip(true);
    // Housekeeping scans every peer and session: not on every busy iteration.
    if (now - last_sweep_ >= std::chrono::milliseconds(100)) {
        last_sweep_ = now;
        sweep();
    }
    // Whatever this thread queued itself (callbacks, peer events) rang no doorbell.
    if (core_.commands.pending()) {
        on_commands(false);
        ready = true;
    }
    graveyard_.clear();
    return ready;
}

void Actor::sweep() {
    constexpr auto handshake_timeout = std::chrono::seconds(10);
    constexpr auto departed_retention = std::chrono::seconds(60);
    const auto now = Clock::now();
    for (auto it = peers_.begin(); it != peers_.end();) {
        const Peer& peer = it->second;
        if (peer.departed && peer.state == PeerState::down && now - *peer.departed > departed_retention) {
            core_.directory.erase(it->first);
            it = peers_.erase(it);
        } else {
            ++it;
        }
    }
    std::vector<Link*> expired;
    for (auto& [endpoint, link] : links_) {
        if (link->close_at && *link->close_at <= now) expired.push_back(link.get());
    }
    for (Link* link : expired) close_link(*link);
    std::erase_if(sessions_, [&](const auto& entry) {
        return !entry.second.authenticated && now - entry.second.started > handshake_timeout;
    });
}

void Actor::on_router() {
    for (int i = 0; i < max_reads_per_socket; ++i) {
        zmq::message_t identity;
        if (!router_.recv(identity, zmq::recv_flags::dontwait)) return drained(router_watch_);
        if (!identity.more()) {
            bump(core_.counters.malformed_frames);
            log_bad_input("malformed", "a ROUTER message without a body");
            continue;
        }
        zmq::message_t body;
        if (!router_.recv(body, zmq::recv_flags::dontwait)) return;
        if (drain_parts(router_, body) > 0) {
            bump(core_.counters.malformed_frames);
            log_bad_input("malformed", "a multipart message on the ROUTER");
            continue;
        }
        on_router_frame(identity.to_string(), std::move(body));
    }
}

void Actor::on_router_frame(const std::string& identity, zmq::message_t&& frame) {
    bump(core_.counters.frames_in);
    bump(core_.counters.bytes_in, frame.size());
    if (frame.size() > core_.options.limits.max_frame_bytes) {
        bump(core_.counters.oversized_frames);
        log_bad_input("oversized", fmt::format("a {}-byte frame (limit {})", frame.size(),
                                               core_.options.limits.max_frame_bytes));
        return;
    }
    // Payloads are delivered as views into this frame: share it.
    auto owner = std::make_shared<ReceivedFrame>(std::move(frame));
    const std::string_view bytes(static_cast<const char*>(owner->message.data()), owner->message.size());
    if (const auto error = wire::decode_frame(bytes, decoded_); error != wire::DecodeError::none) {
        bump(core_.counters.malformed_frames);
        log_bad_input("malformed", fmt::format("an undecodable frame on the ROUTER ({})", wire::to_string(error)));
        return;
    }
    // The handshake messages travel alone in their frame.
    if (decoded_.size() == 1 && std::holds_alternative<wire::Hello>(decoded_[0])) {
        on_hello(identity, std::get<wire::Hello>(decoded_[0]), bytes.substr(1));
        return;
    }
    if (decoded_.size() == 1 && std::holds_alternative<wire::Auth>(decoded_[0])) {
        on_auth(identity, std::get<wire::Auth>(decoded_[0]));
        return;
    }
    const auto it = sessions_.find(identity);
    if (it == sessions_.end() || !it->second.authenticated) {
        bump(core_.counters.unauthenticated_frames);
        log_bad_input("unauthenticated", "a frame from a connection that has not completed HELLO");
        return;
    }
    if (!check_session_frame(identity, it->second)) return;
    const wire::Hello who = it->second.hello;  // on_bye erases the session
    const auto peer = peers_.find(who.name);
    PeerCounters* counters = peer == peers_.end() ? nullptr : peer->second.counters.get();
    owner->reserve_for(decoded_);
    if (counters) bump(counters->bytes_in, bytes.size());
    for (auto& message : decoded_) {
        if (auto* send = std::get_if<wire::Send>(&message)) {
            if (counters) bump(counters->messages_in);
            on_send(it->second, *send, owner);
        } else if (auto* publish = std::get_if<wire::Publish>(&message)) {
            if (counters) bump(counters->messages_in);
            on_publish(it->second, *publish, owner);
        } else if (const auto* peers = std::get_if<wire::Peers>(&message)) {
            for (const auto& address : peers->peers) learn(address);
        } else if (std::holds_alternative<wire::Resync>(message)) {
            on_resync(it->second);
        } else if (auto* snapshot = std::get_if<wire::Snapshot>(&message)) {
            on_snapshot_part(it->second, *snapshot);
        } else if (const auto* ack = std::get_if<wire::DigestAck>(&message)) {
            on_digest_ack(it->second, *ack);
        } else {
            deliveries_.flush(core_.counters);
            end_frame();
            on_bye(identity, who);
            return;  // nothing after BYE is applied
        }
    }
    deliveries_.flush(core_.counters);
    end_frame();
}

// Validates an authenticated peer's frame as a whole before any of it is
// applied: only data messages (SEND, PUBLISH, PEERS, RESYNC, SNAPSHOT,
// DIGEST_ACK, BYE) may come this way, and only from the peer's
// current incarnation.
bool Actor::check_session_frame(const std::string& identity, const Session& session) {
    for (const auto& message : decoded_) {
        if (std::holds_alternative<wire::Hello>(message) || std::holds_alternative<wire::Welcome>(message) ||
            std::holds_alternative<wire::Auth>(message) || std::holds_alternative<wire::ByeAck>(message) ||
            std::holds_alternative<wire::Delta>(message) || std::holds_alternative<wire::Digest>(message)) {
            bump(core_.counters.malformed_frames);
            log_bad_input("malformed", "a handshake or gossip message inside a data frame");
            return false;
        }
    }
    const auto peer = peers_.find(session.hello.name);
    if (peer != peers_.end() && peer->second.creation > session.hello.creation) {
        bump(core_.counters.dropped_stale_creation);
        log_bad_input("stale", fmt::format("a frame from {} creation {}, which has restarted", session.hello.name,
                                           session.hello.creation));
        sessions_.erase(identity);
        return false;
    }
    return true;
}

void Actor::on_send(const Session& session, wire::Send& send, const std::shared_ptr<ReceivedFrame>& frame) {
    auto& counters = core_.counters;
    if (send.to_creation != core_.creation) {
        bump(counters.dropped_stale_creation);
        return;
    }
    const auto mailbox = core_.processes->find(send.to_id);
    if (!mailbox) {
        bump(counters.dropped_no_such_process);
        return;
    }
    const Pid* from = frame_sender(*frame, session, send.from_id);
    const bool room = from != nullptr && (send.headers.empty() || frame->headers.size() < frame->headers.capacity());
    if (!room) {
        // No room reserved (a miscount): the message owns copies instead.
        deliveries_.add(mailbox,
                        Message(Pid{session.hello.name, session.hello.creation, send.from_id}, std::move(send.headers),
                                frame, send.payload),
                        nullptr);
        return;
    }
    const Headers* headers = nullptr;
    if (!send.headers.empty()) {
        frame->headers.push_back(std::move(send.headers));
        headers = &frame->headers.back();
    }
    deliveries_.add(mailbox, Message(frame, from, headers, send.payload, nullptr), nullptr);
}

void ReceivedFrame::reserve_for(const std::vector<wire::WireMessage>& decoded) {
    std::size_t data = 0, publishes = 0, with_headers = 0;
    for (const auto& m : decoded) {
        if (const auto* send = std::get_if<wire::Send>(&m)) {
            ++data;
            with_headers += send->headers.empty() ? 0 : 1;
        } else if (const auto* publish = std::get_if<wire::Publish>(&m)) {
            ++data;
            ++publishes;
            with_headers += publish->headers.empty() ? 0 : 1;
        }
    }
    senders.reserve(data);
    headers.reserve(with_headers);
    envelopes.reserve(publishes);
}

void Actor::on_sub() {
    // Gossip from every peer's PUB, fair-queued by libzmq.
    for (int i = 0; i < max_reads_per_socket; ++i) {
        zmq::message_t frame;
        if (!sub_.recv(frame, zmq::recv_flags::dontwait)) return drained(sub_watch_);
        bump(core_.counters.frames_in);
        bump(core_.counters.bytes_in, frame.size());
        if (frame.more()) {
            drain_parts(sub_, frame);
            bump(core_.counters.malformed_frames);
            log_bad_input("malformed", "a multipart gossip message");
            continue;
        }
        on_gossip_frame(frame);
    }
}

void Actor::on_admin() {
    for (int i = 0; i < 64; ++i) {
        // REQ clients: [routing id][empty delimiter][body][proof?]
        std::vector<zmq::message_t> parts;
        zmq::message_t part;
        if (!admin_.recv(part, zmq::recv_flags::dontwait)) return;
        parts.push_back(std::move(part));
        while (parts.back().more() && parts.size() < 8) {
            zmq::message_t next;
            if (!admin_.recv(next, zmq::recv_flags::dontwait)) break;
            parts.push_back(std::move(next));
        }
        if (parts.back().more()) drain_parts(admin_, parts.back());
        if (parts.size() < 3 || parts[1].size() != 0) continue;  // not a REQ client: no way to answer
        std::vector<std::string> frames;
        for (std::size_t p = 2; p < parts.size(); ++p) frames.push_back(parts[p].to_string());
        const std::string reply = admin_service_.handle(frames);
        try {
            admin_.send(parts[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
            admin_.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
            admin_.send(zmq::buffer(reply), zmq::send_flags::dontwait);
        } catch (const zmq::error_t& error) {
            log_.debug("admin reply dropped: {}", error.what());
        }
    }
}

void Actor::on_link_input(Link& link) {
    for (int i = 0; i < max_reads_per_socket && !link.closing; ++i) {
        zmq::message_t frame;
        if (!link.dealer.recv(frame, zmq::recv_flags::dontwait)) {
            // Writability matters only while frames wait: then ZMQ_EVENTS must say.
            if (link.pending.empty()) drained(link.dealer_watch);
            return;
        }
        bump(core_.counters.frames_in);
        bump(core_.counters.bytes_in, frame.size());
        if (drain_parts(link.dealer, frame) > 0 || frame.size() > core_.options.limits.max_frame_bytes) {
            bump(core_.counters.malformed_frames);
            log_bad_input("malformed", "an oversized or multipart reply on a DEALER");
            continue;
        }
        const std::string_view bytes(static_cast<const char*>(frame.data()), frame.size());
        if (const auto error = wire::decode_frame(bytes, decoded_);
            error != wire::DecodeError::none || decoded_.size() != 1) {
            bump(core_.counters.malformed_frames);
            log_bad_input("malformed", fmt::format("an undecodable reply from {}", link.endpoint));
            continue;
        }
        if (const auto* welcome = std::get_if<wire::Welcome>(&decoded_[0])) {
            on_welcome(link, *welcome);
        } else if (std::holds_alternative<wire::ByeAck>(decoded_[0])) {
            link.bye_acked = true;
        } else {
            bump(core_.counters.malformed_frames);
            log_bad_input("malformed", fmt::format("an unexpected reply from {}", link.endpoint));
        }
    }
}

void Actor::on_link_monitor(Link& link) {
    while (!link.closing) {
        const auto event = read_monitor_event(link.monitor);
        if (!event) return drained(link.monitor_watch);
        switch (event->event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            if (!link.close_at) send_hello(link);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            if (link.state == Link::State::up && !link.peer_name.empty()) {
                peer_down(link.peer_name, DownReason::link_lost, "connection to " + link.endpoint + " lost");
            }
            link.state = Link::State::connecting;
            drop_pending(link, core_.counters.dropped_node_down);
            break;
        case ZMQ_EVENT_CONNECT_RETRIED:
            if (link.peer_name.empty() && Clock::now() - link.last_retry_report > std::chrono::seconds(5)) {
                link.last_retry_report = Clock::now();
                log_.warn("{} {} unreachable; retrying in {} ms", link.seed ? "seed" : "peer", link.endpoint,
                          event->value);
            }
            break;
        default:
            log_.debug("link {}: monitor event {} ({})", link.endpoint, event->event, event->value);
            break;
        }
    }
}

Link& Actor::open_link(const std::string& endpoint, bool seed) {
    if (const auto it = links_.find(endpoint); it != links_.end()) {
        if (!it->second->closing) return *it->second;
        graveyard_.push_back(std::move(it->second));
        links_.erase(it);
    }
    auto link = std::make_unique<Link>(context_, core_.options, endpoint, identity_, ++link_serial_, seed);
    Link& ref = *link;
    links_.emplace(endpoint, std::move(link));
    core_.directory.set_connecting(endpoint, true);
    log_.debug("connecting to {}", endpoint);
    return ref;
}

void Actor::close_link(Link& link) {
    if (link.closing) return;
    link.closing = true;
    drop_pending(link, core_.counters.dropped_node_down);
    core_.directory.set_connecting(link.endpoint, false);
    if (const auto peer = peers_.find(link.peer_name); peer != peers_.end() && peer->second.link == &link) {
        peer->second.link = nullptr;
    }
    const auto it = links_.find(link.endpoint);
    graveyard_.push_back(std::move(it->second));
    links_.erase(it);
}

void Actor::shutdown() {
    // Sends accepted before stop() go out ahead of BYE.
    on_commands(true);
    std::size_t awaiting = 0;
    for (auto& [endpoint, link] : links_) {
        flush(*link);
        if (link->state == Link::State::up) {
            send_frame(*link, wire::encode_frame(wire::Bye{core_.options.name, core_.creation}), 0);
            link->bye_sent = true;
            ++awaiting;
        }
    }
    const auto deadline = Clock::now() + core_.options.bye_grace;
    // Keep serving (a peer stopping at the same time wants our BYE_ACK too)
    // until every up peer acknowledged our BYE or the grace runs out.
    while (awaiting > 0 && Clock::now() < deadline) {
        poll_once(std::chrono::milliseconds(10));
        awaiting = static_cast<std::size_t>(std::count_if(links_.begin(), links_.end(), [](const auto& entry) {
            return entry.second->state == Link::State::up && !entry.second->bye_acked;
        }));
    }
    if (awaiting > 0) log_.info("stopping: {} peers did not acknowledge BYE in time", awaiting);
    for (auto& [endpoint, link] : links_) drop_pending(*link, core_.counters.dropped_node_down);
    links_.clear();
    graveyard_.clear();
    router_.close();
    pub_.close();
    sub_.close();
    admin_.close();
    context_.close();
    core_.processes->close_all();
    core_.events.close();
    log_.info("node stopped");
}

void Actor::log_bad_input(const std::string& kind, const std::string& detail) {
    auto& [last, suppressed] = bad_input_log_[kind];
    const auto now = Clock::now();
    if (now - last < std::chrono::seconds(1)) {
        ++suppressed;
        return;
    }
    if (suppressed > 0)
        log_.warn("dropped {} ({} more like it in the last second)", detail, suppressed);
    else
        log_.warn("dropped {}", detail);
    last = now;
    suppressed = 0;
}

}  // namespace liminal::detail
