#include "node/zap.hpp"

#include <zmq.h>

#include <array>
#include <vector>

namespace liminal::detail {
namespace {

constexpr std::size_t max_request_parts = 16;  // version .. mechanism is 6, CURVE adds one
constexpr int max_requests_per_call = 1024;    // the rest wait for the next poll iteration

std::string raw_key(const std::string& z85) {
    std::array<std::uint8_t, 32> key{};
    if (z85.size() != 40 || zmq_z85_decode(key.data(), z85.c_str()) == nullptr) return {};
    return std::string(key.begin(), key.end());
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, Security security, const std::string& cluster_key,
                       const TrustedKeys& trusted)
    : security_(security), cluster_key_(raw_key(cluster_key)), socket_(context, zmq::socket_type::rep) {
    trust(trusted);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("inproc://zeromq.zap.01");
}

void ZapHandler::trust(const TrustedKeys& trusted) {
    trusted_.clear();
    for (const auto& [key, name] : trusted) trusted_.emplace(raw_key(key), name);
}

std::string_view ZapHandler::bound_name(std::string_view user_id) {
    const auto space = user_id.find(' ');
    return space == std::string_view::npos ? std::string_view() : user_id.substr(space + 1);
}

std::optional<std::string> ZapHandler::admits(const std::string& domain, const std::string& mechanism,
                                              const zmq::message_t* credentials) const {
    const bool peer = domain == peer_domain;
    if (peer && security_ == Security::insecure_plaintext) {
        if (mechanism == "NULL") return std::string();
        return std::nullopt;
    }
    if (mechanism != "CURVE" || credentials == nullptr) return std::nullopt;
    const std::string key = credentials->to_string();
    if (peer && security_ == Security::node_keys) {
        const auto it = trusted_.find(key);
        if (it == trusted_.end()) return std::nullopt;
        return it->second;
    }
    if (key == cluster_key_) return std::string();
    return std::nullopt;
}

std::size_t ZapHandler::answer_waiting() {
    std::size_t refused = 0;
    for (int i = 0; i < max_requests_per_call; ++i) {
        std::vector<zmq::message_t> parts;
        zmq::message_t part;
        if (!socket_.recv(part, zmq::recv_flags::dontwait)) {
            watch_.drained();
            return refused;
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
        const auto name = well_formed ? admits(parts[2].to_string(), parts[5].to_string(),
                                               parts.size() > 6 ? &parts[6] : nullptr)
                                      : std::nullopt;
        bool admitted = name.has_value();
        bool partitioned = false;  // refused on purpose: not counted
        // Only a name its key proves (node keys) can be refused here: the
        // request's identity frame is libzmq's own, not the peer's.
        if (admitted && !name->empty() && partitioned_.contains(*name)) {
            admitted = false;
            partitioned = true;
        }
        const std::string request_id = parts.size() > 1 ? parts[1].to_string() : std::string();
        std::string user_id;
        if (admitted) user_id = std::to_string(++serial_) + (name->empty() ? "" : " " + *name);
        socket_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(std::string(admitted ? "200" : well_formed ? "400" : "500")),
                     zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(std::string(admitted ? "OK" : "not a member of this cluster")),
                     zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
        socket_.send(zmq::message_t(), zmq::send_flags::none);
        if (!admitted && !partitioned) ++refused;
    }
    return refused;  // more may wait: the socket stays touched, so the next poll asks it again
}

}  // namespace liminal::detail
