#include <liminal/admin.hpp>
#include <liminal/node.hpp>

#include "node/sockets.hpp"
#include "wire/keys.hpp"
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
    if (!socket.recv(reply)) throw AdminFailed("no answer from the admin endpoint " + endpoint +
                                              " (is the node running, and is this its cookie?)");
    return reply.to_string();
}

// Connects and waits for the encrypted handshake: a node holding another
// cookie refuses it, which is said at once rather than as a timeout.
void connect_encrypted(zmq::context_t& context, zmq::socket_t& socket, const std::string& endpoint,
                       std::chrono::milliseconds timeout) {
    zmq::socket_t monitor(context, zmq::socket_type::pair);
    detail::start_monitor(socket, monitor, "inproc://liminal-admin-client",
                          ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | detail::handshake_failed_events);
    socket.connect(endpoint);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        std::vector<zmq::pollitem_t> items{{monitor.handle(), 0, ZMQ_POLLIN, 0}};
        if (left.count() <= 0 || zmq::poll(items, left) == 0) break;  // no answer: the caller's receive says so
        const auto event = detail::read_monitor_event(monitor);
        if (!event) continue;
        if (event->event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) break;
        zmq_socket_monitor(socket.handle(), nullptr, 0);
        throw AdminFailed("the admin endpoint " + endpoint +
                          " refused the encrypted handshake: wrong cookie (or not a liminal node)");
    }
    zmq_socket_monitor(socket.handle(), nullptr, 0);
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
    // The admin endpoint is encrypted with the cluster's keys in every mode.
    const auto& keys = detail::wire::cluster_keys(cookie);
    detail::secure_client(socket, Security::cluster_secret, {keys.curve_public, keys.curve_secret}, keys.curve_public);
    try {
        connect_encrypted(context, socket, endpoint, timeout);
        const json challenge = json::parse(round_trip(socket, {R"({"cmd":"challenge"})"}, endpoint));
        if (!challenge.value("ok", false)) return challenge.dump();
        const std::string nonce_hex = challenge.at("nonce").get<std::string>();
        detail::wire::Nonce nonce{};
        for (std::size_t i = 0; i < nonce.size() && 2 * i + 2 <= nonce_hex.size(); ++i) {
            std::from_chars(nonce_hex.data() + 2 * i, nonce_hex.data() + 2 * i + 2, nonce[i], 16);
        }
        body["nonce"] = nonce_hex;
        const std::string text = body.dump();
        const auto proof = detail::wire::make_admin_proof(keys.admin, nonce, text);
        return round_trip(socket, {text, std::string(proof.begin(), proof.end())}, endpoint);
    } catch (const zmq::error_t& e) {
        throw AdminFailed("admin endpoint " + endpoint + ": " + e.what());
    } catch (const json::exception& e) {
        throw AdminFailed("admin endpoint " + endpoint + " answered nonsense: " + e.what());
    }
}

}  // namespace liminal
