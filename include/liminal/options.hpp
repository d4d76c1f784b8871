#pragma once
// Everything a node is configured with.

#include <liminal/events.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spdlog { class logger; }

namespace liminal {

// What a full queue (a process's mailbox, or a peer link's outgoing queue)
// does with a new message. Every drop is counted under a `dropped_*` reason,
// and each time a queue fills a `slow_consumer` peer event says whose
// (once per episode: again only after the queue drained below a quarter).
enum class OverflowPolicy {
    drop_newest,  // refuse the new message
    drop_oldest,  // make room by dropping the oldest waiting messages
    // The sender waits up to Limits::block_timeout for room, then gives up
    // with SendResult::would_block / PublishResult::would_block, nothing
    // sent. Only a sender on this node's own API threads waits: messages
    // from peers are never waited for (the I/O thread never blocks), so
    // for them a mailbox under `block` drops the newest.
    block,
    // Cut the consumer off, as NATS does a slow consumer: a process's
    // mailbox is emptied and closed (its receive() returns nothing more, it
    // leaves every group); a peer link drops everything queued and its
    // connection is reset (ZeroMQ reconnects, the handshake and backfill
    // run again). What was queued is counted as dropped_slow_consumer.
    disconnect,
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

// Every queue a node has is bounded in bytes (README "Memory"). A node's
// worst case is about
//   outbound_queue_bytes
//   + per peer: peer_queue_bytes + 2 * send_hwm * max_frame_bytes   (link, gossip)
//               + 2 * receive_hwm * 2 * max_frame_bytes              (ROUTER, SUB)
//   + per process: mailbox_bytes
//   + per Monitor: monitor_queue_bytes
// plus the peer-event queue (4,096 events) and the node's fixed ~30 MiB.
struct Limits {
    std::size_t max_frame_bytes = 1u << 20;       // the largest message (and frame) a node sends or accepts
    std::size_t mailbox_capacity = 100'000;       // messages per process mailbox ...
    std::size_t mailbox_bytes = 64u << 20;        // ... and their bytes (payload, headers, sender, envelope)
    // ZeroMQ high-water marks, in frames. A packed frame holds at most
    // 256 KiB of messages, a single message at most max_frame_bytes.
    int send_hwm = 8;
    int receive_hwm = 8;
    std::size_t peer_queue_bytes = 8u << 20;      // frames waiting for a slow peer, per peer
    // Messages encoded by API threads, waiting for the I/O thread.
    std::size_t outbound_queue_bytes = 16u << 20;
    // Membership events waiting for each Monitor to read them.
    std::size_t monitor_queue_bytes = 16u << 20;
    OverflowPolicy overflow = OverflowPolicy::drop_newest;       // a process's mailbox (Node::spawn may override)
    OverflowPolicy peer_overflow = OverflowPolicy::drop_newest;  // a peer link, and the outbound queue
    std::chrono::milliseconds block_timeout{100};                // OverflowPolicy::block's longest wait
};

// One process's mailbox, for Node::spawn(const MailboxOptions&): what is
// not given comes from Limits.
struct MailboxOptions {
    std::size_t capacity = 0;                // messages; 0: limits.mailbox_capacity
    std::size_t bytes = 0;                   // 0: limits.mailbox_bytes
    std::optional<OverflowPolicy> overflow;  // none: limits.overflow
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
    // The address this node's outgoing connections (its links to peers'
    // ROUTERs, its SUBs on their PUBs) are made from: an IP address such as
    // 10.0.0.5 or 127.0.0.2, or an interface name. For multi-homed hosts,
    // and for tests that give each node its own loopback address. Empty: the
    // OS picks the source as it routes.
    std::string source_address;
    // Fault injection for an application's own tests: the admin endpoint
    // then accepts `liminal-cli fault partition|heal|drop-gossip`, which cut
    // this node off from a peer or drop incoming gossip. Off by default;
    // a node with it on warns at start.
    bool faults = false;
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
    // A peer that is not up for this long, and was not given as a seed, is
    // given up: our link to it and our SUB on it close and its record goes
    // (a node that died without BYE, or that we never reached). Met again
    // when it connects to us or a peer tells of it. Seeds are retried for good.
    std::chrono::milliseconds forget_after{300000};
    // How long stop() waits for peers to acknowledge BYE before closing anyway.
    std::chrono::milliseconds bye_grace{500};
    // How often the node publishes its membership DIGEST (seq + hash). A lost
    // gossip delta is detected at the latest one interval later.
    std::chrono::milliseconds digest_interval{1000};

    Limits limits;

    // Logger for every line the node writes; each line names the node. Null: a
    // private stderr logger at level `info` (spdlog's global registry is left alone).
    std::shared_ptr<spdlog::logger> logger;

    // Called on the thread running the node's poll loop (its I/O thread, or
    // a thread waiting in Process::receive() that runs it meanwhile) for
    // every peer event, in order. It must return quickly and must not call
    // back into the node's blocking functions (it is the one callback that
    // runs there without asking: prefer Node::next_event() from a thread of
    // your own).
    // Events also go to the queue read by Node::next_event().
    std::function<void(const PeerEvent&)> on_peer_event;
};

}  // namespace liminal
