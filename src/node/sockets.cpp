#include "node/sockets.hpp"

#include "node/zap.hpp"

#include <liminal/node.hpp>

#include <atomic>
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
    // libzmq 4.3.4: on a socket with a ZAP domain, a receive high-water mark
    // of 1 holds a connection's first message forever (checked here with a
    // ROUTER and a DEALER, NULL and CURVE alike); 2 works.
    socket.set(zmq::sockopt::rcvhwm, options.limits.receive_hwm == 1 ? 2 : options.limits.receive_hwm);
    // A hard guard above the counted limit (what is between the two is
    // dropped and counted; larger frames cost a reconnect): what a peer can
    // make ZeroMQ hold for us is receive_hwm frames of at most this.
    socket.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(options.limits.max_frame_bytes) * 2 + 1024);
}

void secure_server(zmq::socket_t& socket, Security security, const CurveKeypair& own, const char* domain) {
    socket.set(zmq::sockopt::zap_domain, domain);
    if (security == Security::insecure_plaintext) return;
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, own.secret_key);
}

void secure_client(zmq::socket_t& socket, Security security, const CurveKeypair& own, const std::string& server_key) {
    if (security == Security::insecure_plaintext) return;
    socket.set(zmq::sockopt::curve_serverkey, server_key);
    socket.set(zmq::sockopt::curve_publickey, own.public_key);
    socket.set(zmq::sockopt::curve_secretkey, own.secret_key);
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

std::string connect_endpoint(const std::string& endpoint, const std::string& source) {
    const std::string prefix = "tcp://";
    if (source.empty() || endpoint.rfind(prefix, 0) != 0) return endpoint;
    return prefix + source + ":0;" + endpoint.substr(prefix.size());
}

std::uint64_t Watch::next_serial() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
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

void start_monitor(zmq::socket_t& socket, zmq::socket_t& monitor, const std::string& endpoint, int events) {
    if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), events) != 0) throw zmq::error_t();
    // An unread monitor stalls the whole context (libzmq#3745): never let it fill.
    monitor.set(zmq::sockopt::rcvhwm, 0);
    monitor.set(zmq::sockopt::linger, 0);
    monitor.connect(endpoint);
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

std::size_t drain_parts(zmq::socket_t& socket, zmq::message_t& last) {
    std::size_t extra = 0;
    while (last.more()) {
        if (!socket.recv(last, zmq::recv_flags::dontwait)) break;
        ++extra;
    }
    return extra;
}

}  // namespace liminal::detail
