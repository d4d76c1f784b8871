#include "node/zap.hpp"

#include <zmq.h>

#include <array>
#include <vector>

namespace liminal::detail {
namespace {

constexpr std::size_t max_request_parts = 16;  // version .. mechanism is 6, CURVE adds one

std::string raw_key(const std::string& z85) {
    std::array<std::uint8_t, 32> key{};
    if (z85.size() != 40 || zmq_z85_decode(key.data(), z85.c_str()) == nullptr) return {};
    return std::string(key.begin(), key.end());
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, Security security, const wire::ClusterKeys& keys)
    : security_(security), client_key_(raw_key(keys.curve_public)), socket_(context, zmq::socket_type::rep) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("inproc://zeromq.zap.01");
}

bool ZapHandler::admits(const std::string& domain, const std::string& mechanism,
                        const zmq::message_t* credentials) const {
    if (security_ == Security::insecure_plaintext && domain == peer_domain) return mechanism == "NULL";
    return mechanism == "CURVE" && credentials != nullptr && credentials->to_string() == client_key_;
}

ZapHandler::Answered ZapHandler::answer_waiting() {
    Answered answered;
    for (;;) {
        std::vector<zmq::message_t> parts;
        zmq::message_t part;
        if (!socket_.recv(part, zmq::recv_flags::dontwait)) {
            watch_.drained();
            return answered;
        }
        parts.push_back(std::move(part));
        while (parts.back().more() && parts.size() < max_request_parts) {
            zmq::message_t next;
            if (!socket_.recv(next, zmq::recv_flags::dontwait)) break;
            parts.push_back(std::move(next));
        }
        if (parts.back().more()) drain_parts(socket_, parts.back());
        // RFC 27: version, request id, domain, address, identity, mechanism, credentials...
        const bool well_formed = parts.size() >= 6 && parts[0].to_string() == "1.0";
        const bool admitted = well_formed && admits(parts[2].to_string(), parts[5].to_string(), parts.size() > 6 ? &parts[6] : nullptr);
        const std::string request_id = parts.size() > 1 ? parts[1].to_string() : std::string();
        const std::string user_id = admitted ? std::to_string(++serial_) : std::string();
        socket_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(std::string(admitted ? "200" : well_formed ? "400" : "500")),
                     zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(std::string(admitted ? "OK" : "not a member of this cluster")),
                     zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
        socket_.send(zmq::message_t(), zmq::send_flags::none);
        ++(admitted ? answered.admitted : answered.refused);
    }
}

}  // namespace liminal::detail
