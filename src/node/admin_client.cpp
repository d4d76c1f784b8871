#include <liminal/admin.hpp>
#include <liminal/node.hpp>

#include "wire/proof.hpp"

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <charconv>

namespace liminal {
namespace {

using json = nlohmann::json;

// One REQ round trip; throws Error on timeout.
std::string round_trip(zmq::socket_t& socket, const std::vector<std::string>& frames, const std::string& endpoint) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
        socket.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    zmq::message_t reply;
    if (!socket.recv(reply)) throw AdminFailed("no answer from the admin endpoint " + endpoint + " (is the node running?)");
    return reply.to_string();
}

}  // namespace

std::string admin_request(const std::string& endpoint, const std::string& cookie, const std::string& request,
                          std::chrono::milliseconds timeout) {
    json body;
    try {
        body = json::parse(request);
    } catch (const json::exception& e) {
        throw AdminFailed(std::string("admin request is not JSON: ") + e.what());
    }
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::req);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
    socket.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
    if (endpoint.rfind("tcp://[", 0) == 0) socket.set(zmq::sockopt::ipv6, 1);  // tcp://[::1]:port
    try {
        socket.connect(endpoint);
        const json challenge = json::parse(round_trip(socket, {R"({"cmd":"challenge"})"}, endpoint));
        if (!challenge.value("ok", false)) return challenge.dump();
        const std::string nonce_hex = challenge.at("nonce").get<std::string>();
        detail::wire::Nonce nonce{};
        for (std::size_t i = 0; i < nonce.size() && 2 * i + 2 <= nonce_hex.size(); ++i) {
            std::from_chars(nonce_hex.data() + 2 * i, nonce_hex.data() + 2 * i + 2, nonce[i], 16);
        }
        body["nonce"] = nonce_hex;
        const std::string text = body.dump();
        const auto proof = detail::wire::make_admin_proof(cookie, nonce, text);
        return round_trip(socket, {text, std::string(proof.begin(), proof.end())}, endpoint);
    } catch (const zmq::error_t& e) {
        throw AdminFailed("admin endpoint " + endpoint + ": " + e.what());
    } catch (const json::exception& e) {
        throw AdminFailed("admin endpoint " + endpoint + " answered nonsense: " + e.what());
    }
}

}  // namespace liminal
