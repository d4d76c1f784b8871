#pragma once
// Node counters. Every message a node takes charge of ends in exactly one
// outcome, and any snapshot (Node::stats(), `liminal-cli stats`) adds up:
//
//   accepted = received + sends_remote + publish_frames_out
//              + dropped_* (every reason) + would_block
//              + in_flight_peers + in_flight_mailboxes
//
// A message is one send(), one received SEND, or one delivery of a publish
// to each process it reaches (a publish counts one per local subscriber and
// one per remote node with subscribers; refused whole, it counts one).

#include <cstdint>
#include <string>

namespace liminal {

struct Stats {
    std::uint64_t accepted = 0;             // messages this node took charge of (see above)
    std::uint64_t received = 0;             // messages processes took from their mailboxes (receive, callbacks)
    std::uint64_t in_flight_peers = 0;      // gauge: accepted for a peer, not yet handed to ZeroMQ nor dropped
    std::uint64_t in_flight_mailboxes = 0;  // gauge: in mailboxes, not yet received nor dropped

    std::uint64_t sends_local = 0;          // send() calls delivered into a local mailbox
    std::uint64_t sends_remote = 0;         // SEND messages handed to a peer's DEALER (ZeroMQ)
    std::uint64_t delivered_remote = 0;     // SEND messages from peers delivered to a local mailbox
    std::uint64_t frames_out = 0;
    std::uint64_t frames_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t bytes_in = 0;

    std::uint64_t dropped_no_such_process = 0;  // local pid unknown or closed (also: unread when it closed, no subscriber left)
    std::uint64_t dropped_stale_creation = 0;   // pid of an old incarnation
    std::uint64_t dropped_unknown_node = 0;     // no peer of that name
    std::uint64_t dropped_node_down = 0;        // the peer was down, or went down with it queued
    std::uint64_t dropped_mailbox_full = 0;
    std::uint64_t dropped_backpressure = 0;     // the peer's outgoing queue was over its limit
    std::uint64_t dropped_too_large = 0;        // larger than the maximum frame
    std::uint64_t dropped_queue_full = 0;       // the node's outbound queue (API -> I/O thread) was full
    std::uint64_t dropped_slow_consumer = 0;    // queued for a consumer cut off (OverflowPolicy::disconnect)
    std::uint64_t would_block = 0;              // sends and publishes refused after OverflowPolicy::block's wait
    std::uint64_t slow_consumers = 0;           // times a mailbox or peer queue filled up (one per episode)

    std::uint64_t malformed_frames = 0;         // undecodable, wrong version, unknown type
    std::uint64_t oversized_frames = 0;
    std::uint64_t unauthenticated_frames = 0;   // from a connection that has not completed HELLO
    std::uint64_t rejected_peers = 0;           // failed the cookie proof or protocol checks
    std::uint64_t refused_connections = 0;      // failed (or broke off) the CurveZMQ handshake or ZAP
    std::uint64_t forged_gossip = 0;            // gossip frames naming an origin other than their sender
    std::uint64_t admin_replies_dropped = 0;    // admin replies to a client that did not read them in time

    std::uint64_t publishes = 0;                // publish() calls
    std::uint64_t publish_frames_out = 0;       // PUBLISH messages handed to a peer's DEALER (one per node per publish)
    std::uint64_t publish_frames_in = 0;        // PUBLISH messages received
    std::uint64_t delivered_publish = 0;        // channel messages put into local mailboxes

    std::uint64_t deltas_out = 0;               // own JOIN/LEAVE deltas gossiped
    std::uint64_t deltas_in = 0;                // deltas received from peers
    std::uint64_t digests_out = 0;
    std::uint64_t digests_in = 0;
    std::uint64_t gaps = 0;                     // deltas that arrived out of order, or digests ahead
    std::uint64_t resyncs_requested = 0;
    std::uint64_t resyncs_served = 0;
    std::uint64_t backfills_sent = 0;           // whole memberships sent to a newly seen peer
    std::uint64_t snapshots_applied = 0;
    std::uint64_t purges = 0;                   // peers whose members were purged
    std::uint64_t members_purged = 0;
    std::uint64_t gossip_dropped_by_test = 0;   // fault injection only

    std::uint64_t peers_up = 0;                 // peer-up events so far
    std::uint64_t peers_down = 0;               // peer-down events so far
    std::uint64_t partial_partitions = 0;       // partial_partition events so far
    std::uint64_t links = 0;                    // gauge: our DEALERs to peers (up, connecting or reconnecting)
    std::uint64_t sessions = 0;                 // gauge: connections to our ROUTER with a session (handshaking or authenticated)
    std::uint64_t events_dropped = 0;           // peer events lost because nobody read the queue
    std::uint64_t monitor_events_dropped = 0;   // group events a Monitor lost unread (GroupEvent::Kind::lost)
};

// Traffic of one channel on this node.
struct ChannelStats {
    std::string channel;
    std::uint64_t published = 0;      // publish() calls on this node
    std::uint64_t nodes_sent = 0;     // PUBLISH messages sent for them (one per remote node)
    std::uint64_t received = 0;       // PUBLISH messages received from peers
    std::uint64_t delivered = 0;      // messages put into local subscribers' mailboxes
    std::uint64_t dropped = 0;        // local deliveries dropped (full mailbox, closed process)
    std::uint64_t nodes_dropped = 0;  // copies for remote nodes not sent (node down, slow consumer, queue full)
};

}  // namespace liminal
