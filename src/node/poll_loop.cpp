// The I/O thread's poll loop: waits on every socket's descriptor (and the
// command queue's doorbell), reads what is ready and hands each frame or
// event to its handler. It decides nothing itself. Runs on the I/O thread.

#include "node/actor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace liminal::detail {
namespace {

constexpr int max_reads_per_socket = 1024;  // fairness between sockets per iteration
// The node's own sockets, in the order build_poll_set adds them; links and SUBs follow.
enum Slot : std::size_t { router_slot, zap_slot, router_monitor_slot, pub_monitor_slot, pub_slot, admin_slot,
                          admin_monitor_slot };
constexpr auto sweep_interval = std::chrono::milliseconds(100);
constexpr auto departed_retention = std::chrono::seconds(60);
// A HELLO unanswered this long makes its link reconnect; the wait doubles up to the maximum.
constexpr auto first_handshake_wait = std::chrono::seconds(2);
constexpr auto max_handshake_wait = std::chrono::seconds(8);

}  // namespace

std::chrono::milliseconds Actor::next_timeout() const {
    // Heartbeats run inside libzmq. The wake-up publishes the periodic digest,
    // expires half-done handshakes and closes rejected links.
    if (admin_reply_) return std::chrono::milliseconds(2);  // a reply waits for its client to read
    const auto now = Clock::now();
    auto until = std::min(next_digest_ - now, until_resyncs_due());
    for (const auto& [endpoint, link] : links_) {
        if (link->close_at()) return std::chrono::milliseconds(100);
        // Its input waits for the next sweep.
        if (link->input_swept()) until = std::min(until, last_sweep_ + sweep_interval - now);
    }
    return std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until) + std::chrono::milliseconds(1),
                      std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
}

bool Actor::poll_once(std::chrono::milliseconds timeout) {
    build_poll_set();
    bool ready = poll_.wait(timeout, io_);
    dispatch_ready();
    if (admin_reply_) on_admin();

    const auto now = Clock::now();
    if (now >= next_digest_) gossip(true);
    send_due_resyncs();
    // Housekeeping scans every peer and session: not on every busy iteration.
    if (now - last_sweep_ >= sweep_interval) {
        last_sweep_ = now;
        sweep();
    }
    // Whatever this thread queued itself (callbacks, peer events) rang no doorbell.
    if (core_.commands.pending()) {
        on_commands(false);
        ready = true;
    }
    check_slow_links();
    core_.counters.links.store(links_.size(), std::memory_order_relaxed);
    core_.counters.sessions.store(sessions_.size(), std::memory_order_relaxed);
    graveyard_.clear();
    closed_subs_.clear();
    return ready;
}

void Actor::build_poll_set() {
    poll_.reset(core_.commands.fd());
    polled_links_.clear();
    // The node's own sockets first, in Slot order (dispatch_ready); then a dealer and a monitor per link,
    // then a SUB per peer.
    poll_.add(router_, router_watch_, ZMQ_POLLIN);
    poll_.add(zap_.socket(), zap_.watch(), ZMQ_POLLIN);
    poll_.add(router_monitor_, router_monitor_watch_, ZMQ_POLLIN);
    poll_.add(pub_monitor_, pub_monitor_watch_, ZMQ_POLLIN);
    poll_.add(pub_, pub_watch_, ZMQ_POLLIN);
    if (!core_.admin_endpoint.empty()) {
        poll_.add(admin_, admin_watch_, ZMQ_POLLIN);
        poll_.add(admin_monitor_, admin_monitor_watch_, ZMQ_POLLIN);
    }
    for (auto& [endpoint, link] : links_) {
        PolledLink polled{link.get(), poll_.add(link->monitor(), link->monitor_watch(), ZMQ_POLLIN), no_slot};
        const short want = static_cast<short>((link->input_swept() ? 0 : ZMQ_POLLIN) |
                                              (link->waiting() ? ZMQ_POLLOUT : 0));
        if (want != 0) {
            // Its descriptor may have fired for this while nobody asked: ask the socket.
            if ((want & ~link->polled()) != 0) link->dealer_watch().touched = true;
            polled.dealer = poll_.add(link->dealer(), link->dealer_watch(), want);
        }
        link->set_polled(want);
        polled_links_.push_back(polled);
    }
    polled_subs_.clear();
    for (auto& [name, peer] : peers_) {
        if (peer.sub == nullptr) continue;
        const std::size_t slot = poll_.add(peer.sub->socket, peer.sub->watch, ZMQ_POLLIN);
        if (polled_subs_.empty()) first_sub_slot_ = slot;
        polled_subs_.push_back(peer.sub.get());
    }
}

void Actor::dispatch_ready() {
    if (poll_.doorbell_rang()) on_commands(true);
    // Security first: a connection waits for its ZAP answer before it carries anything.
    if (poll_.take(zap_slot, ZMQ_POLLIN)) on_zap();
    if (poll_.take(router_monitor_slot, ZMQ_POLLIN)) on_server_monitor(router_monitor_, router_monitor_watch_, "ROUTER");
    if (poll_.take(pub_monitor_slot, ZMQ_POLLIN)) on_server_monitor(pub_monitor_, pub_monitor_watch_, "PUB");
    if (poll_.take(router_slot, ZMQ_POLLIN)) {
        on_router();
        // What API threads queued while the ROUTER was read goes now, before
        // the other sockets (this thread's own replies left frame by frame).
        if (core_.commands.pending()) on_commands(false);
    }
    if (poll_.take(pub_slot, ZMQ_POLLIN)) on_pub();
    const bool admin = !core_.admin_endpoint.empty();
    if (admin && poll_.take(admin_monitor_slot, ZMQ_POLLIN))
        on_server_monitor(admin_monitor_, admin_monitor_watch_, "admin endpoint");
    if (admin && poll_.take(admin_slot, ZMQ_POLLIN)) on_admin();
    for (const PolledLink& polled : polled_links_) {
        Link& link = *polled.link;
        // Monitor first: a HANDSHAKE_SUCCEEDED must send HELLO before anything is read.
        if (!link.closing() && poll_.take(polled.monitor, ZMQ_POLLIN)) on_link_monitor(link);
        if (polled.dealer == no_slot) continue;
        if (!link.closing() && poll_.take(polled.dealer, ZMQ_POLLIN)) on_link_input(link);
        if (!link.closing() && poll_.take(polled.dealer, ZMQ_POLLOUT)) link.on_writable();
    }
    for (std::size_t i = 0; i < polled_subs_.size(); ++i) {
        if (!polled_subs_[i]->closed && poll_.take(first_sub_slot_ + i, ZMQ_POLLIN)) on_sub(*polled_subs_[i]);
    }
}

void Actor::check_slow_links() {
    for (auto& [endpoint, link] : links_) {
        if (link->closing()) continue;
        const bool cut = link->cut_off();
        if (!link->take_slow_report() && !cut) continue;
        const auto& limits = core_.options.limits;
        const char* what = cut ? "cut off, reconnecting"
                           : limits.peer_overflow == OverflowPolicy::block ? "senders wait for it"
                           : limits.peer_overflow == OverflowPolicy::drop_oldest
                               ? "its oldest waiting messages are dropped"
                               : "new messages for it are dropped";
        emit(PeerEvent{PeerEventKind::slow_consumer, link->peer_name(), link->peer_creation(), link->endpoint(),
                       DownReason::none,
                       fmt::format("its outgoing queue is full ({} bytes): {}", limits.peer_queue_bytes, what)});
        if (!cut) continue;
        peer_down(link->peer_name(), DownReason::slow_consumer, "cut off as a slow consumer");
        link->reconnect();
    }
}

void Actor::sweep() {
    const auto now = Clock::now();
    peers_.forget_departed(now, departed_retention, core_.directory);
    forget_unreachable(now);
    drop_unlinked_views(now);
    check_reach();
    std::vector<Link*> expired;
    for (auto& [endpoint, link] : links_) {
        if (link->close_at() && *link->close_at() <= now) expired.push_back(link.get());
    }
    for (Link* link : expired) close_link(*link);
    // A sending link's DEALER is not polled for input (Link::input_swept):
    // a LEAVING a stopping peer sent unasked, or what a peer should not have
    // sent there, is read here. The poll waits no longer than a sweep
    // period meanwhile (next_timeout).
    std::vector<Link*> swept;
    for (auto& [endpoint, link] : links_) {
        if ((link->polled() & ZMQ_POLLIN) == 0 && !link->closing()) swept.push_back(link.get());
    }
    for (Link* link : swept) {
        // A read processes the socket's pending commands and takes its
        // descriptor's signal: a link whose frames wait for POLLOUT must
        // have ZMQ_EVENTS asked again, or it waits for a signal that is gone.
        link->dealer_watch().touched = true;
        on_link_input(*link);
    }
    for (auto& [endpoint, link] : links_) link->sweep_period_over();
    sessions_.expire(now);
    // An idle ROUTER is not read again, so the sessions of connections that
    // closed while it was idle end here.
    router_watch_.touched = true;  // ZMQ_EVENTS read below: the next poll asks the socket again
    if ((router_.get(zmq::sockopt::events) & ZMQ_POLLIN) == 0) end_disconnected_sessions();
    retry_handshakes();
}

void Actor::retry_handshakes() {
    std::vector<Link*> overdue;
    for (auto& [endpoint, link] : links_) {
        if (link->state() != Link::State::hello_sent || link->closing() || link->close_at()) continue;
        const auto known = handshake_wait_.find(endpoint);
        if (link->handshake_overdue(known == handshake_wait_.end() ? first_handshake_wait : known->second))
            overdue.push_back(link.get());
    }
    for (Link* link : overdue) {
        const std::string endpoint = link->endpoint();
        const std::string expected = link->expected();
        const bool seed = link->seed();
        auto& wait = handshake_wait_.try_emplace(endpoint, first_handshake_wait).first->second;
        log_.warn("{} did not answer HELLO within {} ms; reconnecting", endpoint,
                  std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
        wait = std::min<Clock::duration>(2 * wait, max_handshake_wait);
        const auto since = link->not_up_since();
        close_link(*link);
        if (Link* fresh = open_link(endpoint, expected, seed)) fresh->set_not_up_since(since);
    }
}

void Actor::forget_unreachable(Clock::time_point now) {
    std::vector<Link*> stale;
    for (auto& [endpoint, link] : links_) {
        if (!link->seed() && !link->closing() && link->not_up_for(core_.options.forget_after, now))
            stale.push_back(link.get());
    }
    for (Link* link : stale) {
        const std::string name = link->peer_name().empty() ? link->expected() : link->peer_name();
        log_.info("giving up on {} ({}): not up for {} s", name.empty() ? "(unnamed)" : name, link->endpoint(),
                  std::chrono::duration_cast<std::chrono::seconds>(now - link->not_up_since()).count());
        close_link(*link);
        if (name.empty()) continue;
        Peer* peer = peers_.find(name);
        if (peer != nullptr && (peer->state == PeerState::up || peer->link != nullptr)) continue;  // met another way
        // Whatever we still hold of it goes too: its SUB and record (and the
        // API's copy), and a view it sent while our link never came up.
        if (peer != nullptr) {
            disconnect_sub(*peer);
            peers_.forget(name, core_.directory);
        }
        membership_peer_down(name, membership::State::any_creation);
    }
}

void Actor::on_router() {
    for (int i = 0; i < max_reads_per_socket; ++i) {
        zmq::message_t identity;
        if (!router_.recv(identity, zmq::recv_flags::dontwait)) {
            // Everything a closed connection sent before it closed has been read.
            end_disconnected_sessions();
            return router_watch_.drained();
        }
        if (!identity.more()) {
            bump(core_.counters.malformed_frames);
            bad_input_.dropped("malformed", "a ROUTER message without a body");
            continue;
        }
        zmq::message_t body;
        if (!router_.recv(body, zmq::recv_flags::dontwait)) return;
        if (drain_parts(router_, body) > 0) {
            bump(core_.counters.malformed_frames);
            bad_input_.dropped("malformed", "a multipart message on the ROUTER");
            continue;
        }
        // The routing-id frame loses its metadata in libzmq 4.3.4 (ZMQ-NOTES §3): read the body's.
        const char* user_id = zmq_msg_gets(body.handle(), "User-Id");
        const Connection connection{user_id == nullptr ? std::string_view() : user_id,
                                    zmq_msg_get(body.handle(), ZMQ_SRCFD)};
        on_router_frame(identity.to_string(), connection, std::move(body));
        // What a callback on this thread sent in answer leaves now, not after
        // the frames behind (whose callbacks may take long).
        if (core_.commands.queued_by_consumer()) on_commands(false);
        if (leader_done_ != nullptr && (*leader_done_)()) return;  // still touched: read on at the next poll
    }
}

void Actor::on_zap() {
    const std::size_t count = zap_.answer_waiting();
    for (std::size_t i = 0; i < count; ++i) refused("a connection whose key is not trusted");
}

void Actor::on_server_monitor(zmq::socket_t& monitor, Watch& watch, const char* socket) {
    while (const auto event = read_monitor_event(monitor)) {
        if (event->event == ZMQ_EVENT_DISCONNECTED) {
            // The value is the connection's descriptor, as ZMQ_SRCFD gave it.
            const int fd = static_cast<int>(event->value);
            if (&monitor == &router_monitor_) sessions_.disconnect(fd);
            if (&monitor == &pub_monitor_) {
                std::erase_if(subscriber_fds_, [fd](const auto& entry) { return entry.second == fd; });
                subscribed_fds_.erase(fd);
            }
            continue;
        }
        // NO_DETAIL is a transport error during the handshake: the client
        // went away, which a client with another mechanism may do before we
        // see the mismatch, but so does a peer that closes a socket in the
        // middle of one. Counted, but not worth a warning or an event.
        if (event->event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            bump(core_.counters.refused_connections);
            log_.debug("a connection to the {} broke during its handshake (errno {})", socket, event->value);
            continue;
        }
        refused(fmt::format("a connection to the {} that failed the encrypted handshake (error {:#x})", socket,
                            event->value));
    }
    watch.drained();
}

void Actor::on_pub() {
    for (int i = 0; i < max_reads_per_socket; ++i) {
        zmq::message_t subscription;
        if (!pub_.recv(subscription, zmq::recv_flags::dontwait)) return pub_watch_.drained();
        const bool multipart = subscription.more();
        if (multipart) drain_parts(pub_, subscription);
        // What an (X)SUB may send us: a subscription (1) or an unsubscription (0), nothing else.
        const char kind = subscription.size() >= 1 ? static_cast<const char*>(subscription.data())[0] : '\x7f';
        if (multipart || (kind != 0 && kind != 1)) {
            bump(core_.counters.malformed_frames);
            bad_input_.dropped("malformed", "a message on the PUB that is not a subscription");
            continue;
        }
        if (kind != 1) continue;  // an unsubscription: nothing to do
        const int fd = zmq_msg_get(subscription.handle(), ZMQ_SRCFD);
        // A new connection missed whatever was published before it
        // subscribed: a digest now lets it see so and resync, rather than
        // at the next periodic one. (Whoever it is: with the cluster secret
        // a subscriber's name is not known here.)
        if (subscribed_fds_.insert(fd).second) next_digest_ = Clock::now();
        const char* user_id = zmq_msg_gets(subscription.handle(), "User-Id");
        const std::string_view name = ZapHandler::bound_name(user_id == nullptr ? "" : user_id);
        // With node keys, a node has one SUB on us: its latest subscription is its connection.
        if (!name.empty()) subscriber_fds_[std::string(name)] = fd;
    }
}

void Actor::on_sub(Subscription& sub) {
    // Gossip from one peer's PUB.
    for (int i = 0; i < max_reads_per_socket && !sub.closed; ++i) {
        zmq::message_t frame;
        if (!sub.socket.recv(frame, zmq::recv_flags::dontwait)) return sub.watch.drained();
        bump(core_.counters.frames_in);
        bump(core_.counters.bytes_in, frame.size());
        if (frame.more()) {
            drain_parts(sub.socket, frame);
            bump(core_.counters.malformed_frames);
            bad_input_.dropped("malformed", "a multipart gossip message");
            continue;
        }
        on_gossip_frame(frame, sub.peer);
    }
}

void Actor::on_admin() {
    // One reply at a time: while a client's queue is full, its reply waits
    // (up to admin_reply_wait) and no other request is read, so ZeroMQ holds
    // them, bounded by its high-water marks.
    if (!send_admin_reply()) return;
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
        admin_reply_ = AdminReply{parts[0].to_string(), admin_service_.handle(frames), Clock::now() + admin_reply_wait};
        if (!send_admin_reply()) return;
    }
}

bool Actor::send_admin_reply() {
    if (!admin_reply_) return true;
    admin_watch_.touched = true;
    try {
        // ROUTER_MANDATORY: a client whose queue is full gives EAGAIN, not a silent drop.
        if (!admin_.send(zmq::buffer(admin_reply_->client), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
            // A client that already let a reply time out gets no second wait.
            if (Clock::now() < admin_reply_->give_up && admin_reply_->client != admin_stuck_client_) return false;
            admin_stuck_client_ = admin_reply_->client;
            bump(core_.counters.admin_replies_dropped);
            bad_input_.dropped("admin", "an admin reply to a client that does not read its replies");
            admin_reply_.reset();
            return true;
        }
        admin_.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        admin_.send(zmq::buffer(admin_reply_->answer), zmq::send_flags::dontwait);
        if (admin_reply_->client == admin_stuck_client_) admin_stuck_client_.clear();
    } catch (const zmq::error_t& error) {
        log_.debug("admin reply to a departed client dropped: {}", error.what());
    }
    admin_reply_.reset();
    return true;
}

void Actor::on_link_input(Link& link) {
    for (int i = 0; i < max_reads_per_socket && !link.closing(); ++i) {
        auto frame = link.receive();
        if (!frame) return;
        bump(core_.counters.frames_in);
        bump(core_.counters.bytes_in, frame->size());
        if (drain_parts(link.dealer(), *frame) > 0 || frame->size() > core_.options.limits.max_frame_bytes) {
            bump(core_.counters.malformed_frames);
            bad_input_.dropped("malformed", "an oversized or multipart reply on a DEALER");
            continue;
        }
        const std::string_view bytes(static_cast<const char*>(frame->data()), frame->size());
        const auto error = wire::decode_frame(bytes, decoded_);
        const bool one_reply = error == wire::DecodeError::none && decoded_.size() == 1 &&
                               std::visit([](const auto& m) { return m.path == wire::Path::reply; }, decoded_[0]);
        if (!one_reply) {
            bump(core_.counters.malformed_frames);
            bad_input_.dropped("malformed", fmt::format("an undecodable or unexpected reply from {}", link.endpoint()));
            continue;
        }
        std::visit(
            [&](auto& m) {
                if constexpr (std::decay_t<decltype(m)>::path == wire::Path::reply) on_reply(link, m);
            },
            decoded_[0]);
    }
}

void Actor::on_link_monitor(Link& link) {
    while (!link.closing()) {
        const auto event = link.next_event();
        if (!event) return;
        switch (event->event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            link.handshake_succeeded();
            if (!link.close_at()) send_hello(link);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            if (link.up() && !link.peer_name().empty())
                peer_down(link.peer_name(), DownReason::link_lost, "connection to " + link.endpoint() + " lost");
            link.disconnected();
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            if (link.report_refusal(event->event != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
                reject(link.endpoint(), core_.options.security == Security::node_keys
                                            ? "the encrypted handshake failed (the peer's key is not the one "
                                              "trusted for it, or it does not trust ours?)"
                                            : "the encrypted handshake failed (another cookie, or a node of "
                                              "another mode?)");
            break;
        case ZMQ_EVENT_CONNECT_RETRIED:
            if (link.peer_name().empty() && link.retry_report_due()) {
                log_.warn("{} {} unreachable; retrying in {} ms", link.seed() ? "seed" : "peer", link.endpoint(),
                          event->value);
            }
            break;
        default:
            log_.debug("link {}: monitor event {} ({})", link.endpoint(), event->event, event->value);
            break;
        }
    }
}

}  // namespace liminal::detail
