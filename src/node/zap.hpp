#pragma once
// The node's ZAP handler (ZeroMQ RFC 27). libzmq asks it about every
// connection to our ROUTER, PUB and admin socket once the connection's
// security handshake is done, and nothing flows on the connection before it
// answers. It admits a connection when its mechanism and key are the node's:
// CURVE with the cluster's key, or under Security::node_keys a trusted key
// (and then the connection speaks as that key's node); NULL only to the peer
// sockets of a node under insecure_plaintext. The admin endpoint always
// wants the cluster's key. Each admitted connection gets a User-Id of its
// own: a serial, then under node_keys a space and the key's node name. That
// User-Id, read from every message's metadata, is what binds a ROUTER
// session to its connection (router.cpp) and, with node keys, a HELLO to its
// key's name. Runs on the I/O thread.

#include "node/node_keys.hpp"
#include "node/sockets.hpp"

#include <liminal/options.hpp>

#include <zmq.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace liminal::detail {

class ZapHandler {
public:
    // The ZAP domains of a node's server sockets: the peer-facing ROUTER and
    // PUB, and the admin endpoint.
    static constexpr const char* peer_domain = "liminal";
    static constexpr const char* admin_domain = "liminal-admin";

    // Binds the handler in `context`, which must happen before any server
    // socket of the context binds (ZMQ-NOTES §7). `cluster_key`: the cookie's
    // public key; `trusted`: node_keys only.
    ZapHandler(zmq::context_t& context, Security security, const std::string& cluster_key, const TrustedKeys& trusted);

    // Node keys: the keys trusted from now on (connections already admitted stay).
    void trust(const TrustedKeys& trusted);

    // The node name a connection's User-Id binds it to (node_keys), else empty.
    static std::string_view bound_name(std::string_view user_id);

    zmq::socket_t& socket() noexcept { return socket_; }
    Watch& watch() noexcept { return watch_; }

    // Answers the requests waiting (up to a bound per call); returns how many
    // it refused (not counting those of partitioned names).
    std::size_t answer_waiting();

    // Fault injection (Options::faults): connections whose key proves `name`
    // (node keys) are refused, until healed. With the cluster secret no name
    // is known here; the actor ignores such a node's HELLOs instead.
    void partition(const std::string& name) { partitioned_.insert(name); }
    void heal(const std::string& name) { partitioned_.erase(name); }

private:
    // The node name a request's credentials speak as ("" when no name is
    // bound), or nothing when the connection is refused.
    std::optional<std::string> admits(const std::string& domain, const std::string& mechanism,
                                      const zmq::message_t* credentials) const;

    const Security security_;
    const std::string cluster_key_;              // 32 raw bytes
    std::map<std::string, std::string> trusted_;  // raw public key -> node name
    zmq::socket_t socket_;
    Watch watch_{socket_};
    std::uint64_t serial_ = 0;
    std::set<std::string> partitioned_;
};

}  // namespace liminal::detail
