#pragma once
// Socket-level pieces of the node: how each socket is configured, monitor
// events, the poll set's view of a socket, frames as ZeroMQ messages.
// Runs on the I/O thread only (except construction before the thread starts).

#include "node/node_keys.hpp"

#include <liminal/options.hpp>

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace liminal::detail {

// Options every peer-facing socket gets: heartbeats, linger 0, and the
// libzmq 4.3.4 traps from ZMQ-NOTES.md designed around.
void configure_peer_socket(zmq::socket_t& socket, const Options& options);

// Makes `socket` the server side of its connections: CurveZMQ with the
// node's keypair `own` (NULL under insecure_plaintext), admitted by the
// node's ZAP handler (zap.hpp) under `domain` either way. Set before the
// socket binds.
void secure_server(zmq::socket_t& socket, Security security, const CurveKeypair& own, const char* domain);
// Makes `socket` a CurveZMQ client with the keypair `own` of a server whose
// public key is `server_key`. Set before the socket connects.
void secure_client(zmq::socket_t& socket, Security security, const CurveKeypair& own, const std::string& server_key);

// The tcp endpoint a socket actually bound, with a wildcard host replaced by
// `advertise_host` (so peers can reach it).
std::string advertised_endpoint(zmq::socket_t& socket, const std::string& advertise_host);

// The ROUTER routing id of a node incarnation: 0x01, name, '.', creation.
// Distinct per creation, so a restarted node never collides with the
// connection of its previous incarnation.
std::string routing_id(const std::string& name, std::uint64_t creation);

// What to connect to for the tcp endpoint `endpoint` from `source`
// (Options::source_address; empty: as the OS routes it): ZeroMQ's
// `tcp://SOURCE:0;HOST:PORT` form.
std::string connect_endpoint(const std::string& endpoint, const std::string& source);

struct MonitorEvent {
    std::uint16_t event = 0;
    std::uint32_t value = 0;
};

// Starts monitoring `socket` for `events` on inproc `endpoint` and connects
// the PAIR `monitor` to it (never full: an unread monitor stalls the context).
void start_monitor(zmq::socket_t& socket, zmq::socket_t& monitor, const std::string& endpoint, int events);

// The events that say a connection failed its security handshake.
constexpr int handshake_failed_events =
    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

// Reads one event from a monitor PAIR, if one is waiting.
std::optional<MonitorEvent> read_monitor_event(zmq::socket_t& monitor);

// A ZeroMQ socket in the I/O thread's poll set, polled through its ZMQ_FD.
// That descriptor only signals that the socket's state may have changed, and
// a send or receive may consume the signal; so after touching the socket its
// ZMQ_EVENTS must be read again before sleeping (zmq_getsockopt(3), ZMQ_FD).
// zmq_poll does that for every socket on every call, a system call each;
// tracking which sockets were touched does it only where it is needed.
struct Watch {
    explicit Watch(zmq::socket_t& socket) : fd(socket.get(zmq::sockopt::fd)) {}
    zmq::fd_t fd;
    // Never reused: tells a new socket from a closed one whose descriptor number it got (PollSet).
    std::uint64_t serial = next_serial();
    bool touched = true;  // sent or received on since ZMQ_EVENTS was last read
    // A non-blocking receive that found nothing has processed the socket's
    // pending commands, as reading ZMQ_EVENTS would: the descriptor will
    // signal anything new. Call it only when that receive was the last
    // operation on the socket.
    void drained() { touched = false; }

private:
    static std::uint64_t next_serial() noexcept;
};

// A frame as a ZeroMQ message. A large one hands its buffer over (ZeroMQ
// frees it when sent) instead of being copied; a small one is copied, which
// is cheaper than the allocation that handing over takes.
zmq::message_t to_message(std::string&& bytes);

// Reads and discards the remaining parts of a multipart message; returns how
// many there were.
std::size_t drain_parts(zmq::socket_t& socket, zmq::message_t& last);

}  // namespace liminal::detail
