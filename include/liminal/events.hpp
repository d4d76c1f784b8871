#pragma once
// Peer events and the peer view an embedding program can observe.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace liminal {

enum class PeerState {
    connecting,  // a link exists but no authenticated HELLO yet
    up,          // authenticated, traffic flows
    down,        // link lost, rejected or said BYE; ZeroMQ may still reconnect
};

enum class PeerEventKind {
    up,        // a peer (name, creation) completed HELLO
    down,      // a peer's link dropped, it said BYE, or a new creation replaced it
    rejected,  // a connection failed the cookie proof or spoke a wrong protocol
    // A queue filled up: a peer's outgoing queue (`name`: the peer) or a
    // local process's mailbox (`name`: this node, `detail` names the pid).
    // Once per episode; the drops are counted (Stats, PeerInfo).
    slow_consumer,
    // A partial partition: `name` is down for this node, yet up peers still
    // see it up (`detail` names them). Reported once per episode, after
    // they have gone on seeing it for a grace that a peer that really died
    // would not outlast; PeerInfo::seen_up_by says whether it still holds.
    partial_partition,
};

enum class DownReason {
    none,
    link_lost,   // socket-monitor disconnect or heartbeat timeout
    bye,         // the peer stopped cleanly
    restarted,   // the same name came back with a new creation
    revoked,     // its key was removed from the trusted keys (Security::node_keys)
    slow_consumer,  // it did not keep up and OverflowPolicy::disconnect cut it off
    partitioned,    // a fault injected through the admin endpoint (Options::faults)
};

struct PeerEvent {
    PeerEventKind kind = PeerEventKind::up;
    std::string name;            // empty for a rejected connection whose name is unproven
    std::uint64_t creation = 0;
    std::string endpoint;        // the peer's ROUTER endpoint (or the connecting routing id)
    DownReason reason = DownReason::none;
    std::string detail;          // a human-readable explanation
};

struct PeerInfo {
    std::string name;
    std::uint64_t creation = 0;
    std::string router_endpoint;
    std::string pub_endpoint;
    PeerState state = PeerState::connecting;
    std::chrono::system_clock::time_point since;  // when `state` was entered
    std::uint64_t messages_out = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t messages_in = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t messages_dropped = 0;  // messages for it dropped from its queue (slow consumer)
    std::uint64_t slow_consumers = 0;    // times its queue filled up
    // Non-empty while this node cannot reach the peer but these up peers
    // report it up: a partial partition (PeerEventKind::partial_partition).
    std::vector<std::string> seen_up_by;
};

const char* to_string(PeerState state) noexcept;
const char* to_string(PeerEventKind kind) noexcept;
const char* to_string(DownReason reason) noexcept;

}  // namespace liminal
