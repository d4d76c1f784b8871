#pragma once
// The raw ZeroMQ baselines under --curve: CurveZMQ with the same socket
// roles as liminal (the bound ROUTER is the server).

#include "perf_common.hpp"

#include <zmq.hpp>

namespace liminal::perf {

// A fixed keypair each side (the example
// keys of zmq_curve(7)). No ZAP handler, so no client key check: that costs a
// handshake, not throughput.
inline constexpr const char* curve_server_public = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
inline constexpr const char* curve_server_secret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
inline constexpr const char* curve_client_public = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
inline constexpr const char* curve_client_secret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

inline void curve_server(zmq::socket_t& socket, const Args& args) {
    if (!args.has("--curve")) return;
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, curve_server_secret);
}

inline void curve_client(zmq::socket_t& socket, const Args& args) {
    if (!args.has("--curve")) return;
    socket.set(zmq::sockopt::curve_serverkey, curve_server_public);
    socket.set(zmq::sockopt::curve_publickey, curve_client_public);
    socket.set(zmq::sockopt::curve_secretkey, curve_client_secret);
}

}  // namespace liminal::perf
