#pragma once
// The node's ZAP handler (ZeroMQ RFC 27). libzmq asks it about every
// connection to our ROUTER, PUB and admin socket once the connection's
// security handshake is done, and nothing flows on the connection before it
// answers. It admits a connection when its mechanism is the node's (CURVE
// with the cluster's client key; NULL only to the peer sockets of a node
// under insecure_plaintext), and
// names each admitted connection with a serial of its own as its User-Id.
// That serial, read from every message's metadata, is what binds a ROUTER
// session to its connection (router.cpp): a second connection that takes
// over a routing id is a different connection. Runs on the I/O thread.

#include "node/sockets.hpp"
#include "wire/keys.hpp"

#include <liminal/options.hpp>

#include <zmq.hpp>

#include <cstdint>
#include <string>

namespace liminal::detail {

class ZapHandler {
public:
    // The ZAP domains of a node's server sockets: the peer-facing ROUTER and
    // PUB, and the admin endpoint, which is encrypted in every mode.
    static constexpr const char* peer_domain = "liminal";
    static constexpr const char* admin_domain = "liminal-admin";

    // Binds the handler in `context`, which must happen before any server
    // socket of the context binds (ZMQ-NOTES §7).
    ZapHandler(zmq::context_t& context, Security security, const wire::ClusterKeys& keys);

    zmq::socket_t& socket() noexcept { return socket_; }
    Watch& watch() noexcept { return watch_; }

    struct Answered {
        std::size_t admitted = 0;
        std::size_t refused = 0;
    };
    // Answers every request waiting.
    Answered answer_waiting();

private:
    // Whether a request's mechanism and credentials are this cluster's.
    bool admits(const std::string& domain, const std::string& mechanism, const zmq::message_t* credentials) const;

    const Security security_;
    std::string client_key_;  // the cluster's CURVE public key, 32 raw bytes
    zmq::socket_t socket_;
    Watch watch_{socket_};
    std::uint64_t serial_ = 0;
};

}  // namespace liminal::detail
