#pragma once
// Raw ZeroMQ sockets as an attacker, a silent peer or an outside tool opens
// them: with the cluster's keys (a cookie holder that does not follow the
// protocol) or with none (a stranger).

#include "node/sockets.hpp"
#include "support/cluster.hpp"
#include "wire/keys.hpp"

#include <zmq.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace liminal::test {

// Who opens the socket: a holder of the test cookie, or a stranger speaking
// plain ZMTP (NULL), or a stranger guessing at the CurveZMQ keys.
enum class Holder { member, stranger, guesser };

inline void secure_as(zmq::socket_t& socket, Holder holder) {
    if (holder == Holder::stranger) return;
    const auto& keys = detail::wire::cluster_keys(holder == Holder::member ? test_cookie : "a guess at the cookie");
    detail::secure_client(socket, Security::cluster_secret, {keys.curve_public, keys.curve_secret}, keys.curve_public);
}

// A DEALER connected to `endpoint`, optionally under a chosen routing id and
// with a send high-water mark (0: ZeroMQ's default).
inline zmq::socket_t raw_dealer(zmq::context_t& context, const std::string& endpoint, Holder holder,
                                std::chrono::milliseconds receive_timeout = std::chrono::seconds(5),
                                const std::string& routing_id = {}, int send_hwm = 0) {
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    if (send_hwm > 0) socket.set(zmq::sockopt::sndhwm, send_hwm);
    socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(receive_timeout.count()));
    if (!routing_id.empty()) socket.set(zmq::sockopt::routing_id, routing_id);
    secure_as(socket, holder);
    socket.connect(endpoint);
    return socket;
}

// A ROUTER on a loopback port where nodes are made to connect: as a CurveZMQ
// server with the cluster's keys (a member), or speaking plain ZMTP. A
// connection takes its high-water marks from the socket as it was bound:
// `send_hwm` (0: ZeroMQ's default) must be given here.
inline zmq::socket_t raw_router(zmq::context_t& context, std::chrono::milliseconds receive_timeout, Holder holder,
                                int send_hwm = 0) {
    zmq::socket_t socket(context, zmq::socket_type::router);
    socket.set(zmq::sockopt::linger, 0);
    if (send_hwm > 0) socket.set(zmq::sockopt::sndhwm, send_hwm);
    socket.set(zmq::sockopt::router_handover, 1);
    socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(receive_timeout.count()));
    if (holder == Holder::member) {
        const auto& keys = detail::wire::cluster_keys(test_cookie);
        socket.set(zmq::sockopt::curve_server, 1);
        socket.set(zmq::sockopt::curve_secretkey, keys.curve_secret);
    }
    socket.bind("tcp://127.0.0.1:*");
    return socket;
}

}  // namespace liminal::test
