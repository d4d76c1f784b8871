#pragma once
// Socket-level pieces of the node: how each socket is configured, the
// outbound link to one peer (a DEALER plus its monitor), monitor events.
// Runs on the I/O thread only (except construction before the thread starts).

#include "wire/codec.hpp"

#include <liminal/options.hpp>

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace liminal::detail {

// Options every peer-facing socket gets: heartbeats, linger 0, and the
// libzmq 4.3.4 traps from ZMQ-NOTES.md designed around.
void configure_peer_socket(zmq::socket_t& socket, const Options& options);

// The tcp endpoint a socket actually bound, with a wildcard host replaced by
// `advertise_host` (so peers can reach it).
std::string advertised_endpoint(zmq::socket_t& socket, const std::string& advertise_host);

// The ROUTER routing id of a node incarnation: 0x01, name, '.', creation.
// Distinct per creation, so a restarted node never collides with the
// connection of its previous incarnation.
std::string routing_id(const std::string& name, std::uint64_t creation);

struct MonitorEvent {
    std::uint16_t event = 0;
    std::uint32_t value = 0;
};

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
    bool touched = true;  // sent or received on since ZMQ_EVENTS was last read
};

// A frame waiting for a slow or not yet writable peer.
struct PendingFrame {
    zmq::message_t message;
    std::size_t messages = 0;  // SEND and PUBLISH messages in it, for accounting
};

// A frame as a ZeroMQ message. A large one hands its buffer over (ZeroMQ
// frees it when sent) instead of being copied; a small one is copied, which
// is cheaper than the allocation that handing over takes.
zmq::message_t to_message(std::string&& bytes);

// Our outbound connection to one peer's ROUTER.
struct Link {
    enum class State : std::uint8_t {
        connecting,  // TCP/ZMTP not up yet, or dropped and reconnecting
        hello_sent,  // ZMTP up, HELLO sent, waiting for WELCOME
        up,          // WELCOME checked, AUTH sent: traffic may flow
    };

    Link(zmq::context_t& context, const Options& options, std::string endpoint, const std::string& identity,
         std::uint64_t serial, bool seed);
    ~Link();
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;

    std::string endpoint;            // the peer ROUTER endpoint we connect to
    bool seed = false;               // configured as a seed (reported while unreachable)
    zmq::socket_t dealer;
    zmq::socket_t monitor;           // PAIR reading the dealer's monitor events
    Watch dealer_watch;
    Watch monitor_watch;
    State state = State::connecting;
    wire::Nonce nonce{};             // our HELLO challenge on the current connection
    std::string hello_bytes;         // the HELLO message we sent, bound by both proofs
    std::string peer_name;           // known once WELCOME checked out
    std::uint64_t peer_creation = 0;
    std::deque<PendingFrame> pending;  // frames the DEALER would not take yet
    std::size_t pending_bytes = 0;
    wire::FrameWriter packing;       // SEND messages being packed into the next frame
    std::size_t packing_sends = 0;
    bool bye_sent = false;           // nothing may follow BYE on this link
    bool bye_acked = false;
    bool closing = false;
    std::optional<std::chrono::steady_clock::time_point> close_at;  // rejected: closed at this time            // closed this iteration; destroyed at its end
    std::chrono::steady_clock::time_point last_retry_report{};
};

}  // namespace liminal::detail
