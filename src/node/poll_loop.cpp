// The I/O thread's poll loop: waits on every socket's descriptor (and the
// command queue's doorbell), reads what is ready and hands each frame or
// event to its handler. It decides nothing itself. Runs on the I/O thread.

#include "node/actor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace liminal::detail {
namespace {

constexpr int max_reads_per_socket = 1024;  // fairness between sockets per iteration
constexpr auto sweep_interval = std::chrono::milliseconds(100);
constexpr auto departed_retention = std::chrono::seconds(60);

}  // namespace

std::chrono::milliseconds Actor::next_timeout() const {
    // Heartbeats run inside libzmq. The wake-up publishes the periodic digest,
    // expires half-done handshakes and closes rejected links.
    for (const auto& [endpoint, link] : links_) {
        if (link->close_at()) return std::chrono::milliseconds(100);
    }
    const auto until_digest = std::chrono::duration_cast<std::chrono::milliseconds>(next_digest_ - Clock::now());
    return std::clamp(until_digest + std::chrono::milliseconds(1), std::chrono::milliseconds(0),
                      std::chrono::milliseconds(1000));
}

bool Actor::poll_once(std::chrono::milliseconds timeout) {
    build_poll_set();
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
    dispatch_ready();

    const auto now = Clock::now();
    if (now >= next_digest_) gossip(true);
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
    graveyard_.clear();
    return ready;
}

void Actor::build_poll_set() {
    polled_.clear();
    polled_links_.clear();
    polled_.push_back({&router_, &router_watch_, ZMQ_POLLIN, 0});
    polled_.push_back({&sub_, &sub_watch_, ZMQ_POLLIN, 0});
    if (!core_.admin_endpoint.empty()) polled_.push_back({&admin_, &admin_watch_, ZMQ_POLLIN, 0});
    fixed_polled_ = polled_.size();
    for (auto& [endpoint, link] : links_) {
        const short want = ZMQ_POLLIN | (link->waiting() ? ZMQ_POLLOUT : 0);
        polled_.push_back({&link->dealer(), &link->dealer_watch(), want, 0});
        polled_.push_back({&link->monitor(), &link->monitor_watch(), ZMQ_POLLIN, 0});
        polled_links_.push_back(link.get());
    }
    pollfds_.clear();
    pollfds_.push_back({core_.commands.fd(), POLLIN, 0});
    for (const auto& p : polled_) pollfds_.push_back({p.watch->fd, POLLIN, 0});
}

void Actor::dispatch_ready() {
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
    if (fixed_polled_ == 3) handle(polled_[2], ZMQ_POLLIN, [&] { on_admin(); });
    for (std::size_t i = 0; i < polled_links_.size(); ++i) {
        Link& link = *polled_links_[i];
        Polled& dealer = polled_[fixed_polled_ + 2 * i];
        Polled& monitor = polled_[fixed_polled_ + 2 * i + 1];
        // Monitor first: a HANDSHAKE_SUCCEEDED must send HELLO before anything is read.
        if (!link.closing()) handle(monitor, ZMQ_POLLIN, [&] { on_link_monitor(link); });
        if (!link.closing()) handle(dealer, ZMQ_POLLIN, [&] { on_link_input(link); });
        if (!link.closing()) handle(dealer, ZMQ_POLLOUT, [&] { link.on_writable(); });
    }
}

void Actor::sweep() {
    const auto now = Clock::now();
    peers_.forget_departed(now, departed_retention, core_.directory);
    std::vector<Link*> expired;
    for (auto& [endpoint, link] : links_) {
        if (link->close_at() && *link->close_at() <= now) expired.push_back(link.get());
    }
    for (Link* link : expired) close_link(*link);
    sessions_.expire(now);
}

void Actor::on_router() {
    for (int i = 0; i < max_reads_per_socket; ++i) {
        zmq::message_t identity;
        if (!router_.recv(identity, zmq::recv_flags::dontwait)) return router_watch_.drained();
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
        on_router_frame(identity.to_string(), std::move(body));
    }
}

void Actor::on_sub() {
    // Gossip from every peer's PUB, fair-queued by libzmq.
    for (int i = 0; i < max_reads_per_socket; ++i) {
        zmq::message_t frame;
        if (!sub_.recv(frame, zmq::recv_flags::dontwait)) return sub_watch_.drained();
        bump(core_.counters.frames_in);
        bump(core_.counters.bytes_in, frame.size());
        if (frame.more()) {
            drain_parts(sub_, frame);
            bump(core_.counters.malformed_frames);
            bad_input_.dropped("malformed", "a multipart gossip message");
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
        const std::string answer = admin_service_.handle(frames);
        try {
            admin_.send(parts[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
            admin_.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
            admin_.send(zmq::buffer(answer), zmq::send_flags::dontwait);
        } catch (const zmq::error_t& error) {
            log_.debug("admin reply dropped: {}", error.what());
        }
    }
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
            if (!link.close_at()) send_hello(link);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            if (link.up() && !link.peer_name().empty())
                peer_down(link.peer_name(), DownReason::link_lost, "connection to " + link.endpoint() + " lost");
            link.disconnected();
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
