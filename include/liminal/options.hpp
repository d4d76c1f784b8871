#pragma once
// Everything a node is configured with.

#include <liminal/events.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace spdlog { class logger; }

namespace liminal {

// What a full mailbox does with a new message. Either way the drop is counted.
enum class OverflowPolicy {
    drop_newest,  // refuse the new message
    drop_oldest,  // make room by dropping the oldest waiting message
};

// How a node protects its traffic (README "Security", docs/PROTOCOL.md §5).
enum class Security {
    // The default: CurveZMQ keys derive from the cookie, so every connection
    // (peers, gossip, admin) is encrypted and only cookie holders connect.
    cluster_secret,
    // Everything encrypted as above, but each node has a CurveZMQ keypair of
    // its own (key_file, from `liminal-cli keygen`) and trusts only the public
    // keys listed in trusted_keys, each bound to one node name: no node can
    // make another apply anything under a different node's name. The cookie
    // still proves membership in the handshake and guards the admin endpoint.
    // A seed is written NAME=ENDPOINT, so that its key is known.
    node_keys,
    // Nothing is encrypted and any party that can reach a port connects;
    // the cookie proofs still decide who is a peer. For benchmarks and
    // debugging on a trusted host only: the node warns at start.
    insecure_plaintext,
};

struct Limits {
    std::size_t max_frame_bytes = 16u << 20;      // larger frames are dropped and counted
    std::size_t mailbox_capacity = 100'000;       // messages per process mailbox
    int send_hwm = 10'000;                        // ZeroMQ high-water marks, in frames
    int receive_hwm = 100'000;
    std::size_t peer_queue_bytes = 64u << 20;     // frames waiting for a slow peer, per peer
    OverflowPolicy overflow = OverflowPolicy::drop_newest;
};

struct Options {
    // `name@host`, unique in the cluster. Required.
    std::string name;
    // The shared secret. Required; never sent on the wire. Every key a node
    // uses derives from it; a short or repetitive one is warned about at
    // start (`liminal-cli cookie` writes a 256-bit one).
    std::string cookie;
    Security security = Security::cluster_secret;
    // Security::node_keys only: this node's key file, and the file of trusted
    // public keys ("KEY name@host" per line; Node::reload_trusted_keys reads
    // it again). This node's own key must be in it, under its name.
    std::string key_file;
    std::string trusted_keys;
    // Where the ROUTER (directed traffic) and PUB (gossip) bind. tcp only; a `*` port
    // takes an ephemeral one, and the real endpoint is read back and advertised.
    std::string listen = "tcp://127.0.0.1:*";
    std::string gossip = "tcp://127.0.0.1:*";
    // The host advertised to peers when binding to 0.0.0.0 or `*`. Empty: the node name's host.
    std::string advertise_host;
    // ROUTER endpoints of nodes to join through. One is enough: the mesh forms from it.
    std::vector<std::string> seeds;
    // Where the admin endpoint binds (liminal-cli status, peers, ...): ipc://PATH,
    // or tcp://HOST:PORT with HOST 127.x.y.z, localhost or [::1] and PORT a number
    // or `*`; anything else (ZeroMQ's src;dst form too) fails the Node
    // constructor with ErrorKind::start_failed. Empty: no admin endpoint. Requests must
    // prove the cookie (docs/PROTOCOL.md, "Admin endpoint").
    std::string admin;

    std::chrono::milliseconds heartbeat_interval{1000};
    std::chrono::milliseconds heartbeat_timeout{3000};
    // How long stop() waits for peers to acknowledge BYE before closing anyway.
    std::chrono::milliseconds bye_grace{500};
    // How often the node publishes its membership DIGEST (seq + hash). A lost
    // gossip delta is detected at the latest one interval later.
    std::chrono::milliseconds digest_interval{1000};

    Limits limits;

    // Logger for every line the node writes; each line names the node. Null: a
    // private stderr logger at level `info` (spdlog's global registry is left alone).
    std::shared_ptr<spdlog::logger> logger;

    // Called on the node's I/O thread for every peer event, in order. It must
    // return quickly and must not call back into the node's blocking functions.
    // Events also go to the queue read by Node::next_event().
    std::function<void(const PeerEvent&)> on_peer_event;
};

}  // namespace liminal
