#include "node/links.hpp"

#include <liminal/node.hpp>

#include <zmq.h>

#include <cstring>

namespace liminal::detail {

void configure_peer_socket(zmq::socket_t& socket, const Options& options) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::heartbeat_ivl, static_cast<int>(options.heartbeat_interval.count()));
    socket.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(options.heartbeat_timeout.count()));
    socket.set(zmq::sockopt::heartbeat_ttl, static_cast<int>(options.heartbeat_timeout.count()));
    // Half-open handshakes (a frozen peer whose kernel still accepts) are recycled.
    socket.set(zmq::sockopt::handshake_ivl, 3000);
    socket.set(zmq::sockopt::sndhwm, options.limits.send_hwm);
    socket.set(zmq::sockopt::rcvhwm, options.limits.receive_hwm);
    // A hard guard well above the counted limit: larger frames cost a reconnect.
    socket.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(options.limits.max_frame_bytes) * 4 + 1024);
}

std::string advertised_endpoint(zmq::socket_t& socket, const std::string& advertise_host) {
    std::string bound = socket.get(zmq::sockopt::last_endpoint);
    const std::string prefix = "tcp://";
    if (bound.rfind(prefix, 0) != 0) throw StartFailed("liminal: only tcp:// endpoints are supported, got " + bound);
    const auto colon = bound.rfind(':');
    const std::string host = bound.substr(prefix.size(), colon - prefix.size());
    if (host == "0.0.0.0" || host == "*" || host == "[::]") {
        return prefix + advertise_host + bound.substr(colon);
    }
    return bound;
}

std::string routing_id(const std::string& name, std::uint64_t creation) {
    return std::string(1, '\x01') + name + "." + std::to_string(creation);
}

zmq::message_t to_message(std::string&& bytes) {
    constexpr std::size_t copy_below = 4096;
    if (bytes.size() < copy_below) return zmq::message_t(bytes.data(), bytes.size());
    auto* owned = new std::string(std::move(bytes));
    return zmq::message_t(
        owned->data(), owned->size(), [](void*, void* hint) { delete static_cast<std::string*>(hint); }, owned);
}

std::optional<MonitorEvent> read_monitor_event(zmq::socket_t& monitor) {
    zmq::message_t header;
    if (!monitor.recv(header, zmq::recv_flags::dontwait)) return std::nullopt;
    MonitorEvent event;
    if (header.size() >= 6) {
        // Host byte order, unaligned (zmq_socket_monitor(3)).
        std::memcpy(&event.event, header.data(), 2);
        std::memcpy(&event.value, static_cast<const char*>(header.data()) + 2, 4);
    }
    while (header.more()) {
        zmq::message_t rest;
        if (!monitor.recv(rest, zmq::recv_flags::dontwait)) break;
        header.swap(rest);
    }
    return event;
}

Link::Link(zmq::context_t& context, const Options& options, std::string endpoint_, const std::string& identity,
           std::uint64_t serial, bool seed_)
    : endpoint(std::move(endpoint_)), seed(seed_), dealer(context, zmq::socket_type::dealer),
      monitor(context, zmq::socket_type::pair), dealer_watch(dealer), monitor_watch(monitor) {
    configure_peer_socket(dealer, options);
    dealer.set(zmq::sockopt::routing_id, identity);
    // No pipe until a handshake completes: nothing queued for a dead peer is
    // delivered to its restarted incarnation (ZMQ-NOTES §4).
    dealer.set(zmq::sockopt::immediate, 1);
    dealer.set(zmq::sockopt::reconnect_ivl, 100);
    dealer.set(zmq::sockopt::reconnect_ivl_max, 5000);
    dealer.set(zmq::sockopt::connect_timeout, 2000);

    const std::string monitor_endpoint = "inproc://liminal-link-" + std::to_string(serial);
    const int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
                       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(dealer.handle(), monitor_endpoint.c_str(), events) != 0) throw zmq::error_t();
    // An unread monitor stalls the whole context (libzmq#3745): never let it fill.
    monitor.set(zmq::sockopt::rcvhwm, 0);
    monitor.set(zmq::sockopt::linger, 0);
    monitor.connect(monitor_endpoint);
    dealer.connect(endpoint);
}

Link::~Link() {
    zmq_socket_monitor(dealer.handle(), nullptr, 0);
    dealer.close();
    monitor.close();
}

}  // namespace liminal::detail
