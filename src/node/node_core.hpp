#pragma once
// State a node shares between the API threads and its I/O thread. The I/O
// thread itself (sockets, links, sessions) is not part of it: API-thread
// code sees only this.

#include "node/ack_board.hpp"
#include "node/channels.hpp"
#include "node/command_queue.hpp"
#include "node/counters.hpp"
#include "node/event_queue.hpp"
#include "node/mailbox.hpp"
#include "node/node_keys.hpp"
#include "node/peer_directory.hpp"
#include "node/shared_membership.hpp"

#include "node/test_hooks.hpp"
#include "wire/keys.hpp"

#include <liminal/options.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace spdlog { class logger; }

namespace liminal::detail {

// Everything both sides of a node see. Immutable after construction except
// the synchronised members.
struct NodeCore {
    Options options;
    TestHooks testing;            // fault injection; the defaults do nothing
    const wire::ClusterKeys* keys = nullptr;  // derived from options.cookie (process-wide cache)
    CurveKeypair curve;           // this node's CurveZMQ keypair: the cluster's, or its own (node_keys)
    TrustedKeys trusted;          // node_keys: the trusted keys at start (the I/O thread keeps the current ones)
    std::shared_ptr<spdlog::logger> log;
    std::uint64_t creation = 0;
    std::string router_endpoint;  // as advertised
    std::string pub_endpoint;     // as advertised
    std::string admin_endpoint;   // as bound, empty without one
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    Counters counters;
    Backpressure backpressure;    // peer queues congested, for senders under OverflowPolicy::block
    std::shared_ptr<ProcessTable> processes;
    PeerDirectory directory;
    CommandQueue commands;
    EventQueue events;
    std::atomic<bool> stopping{false};           // stop() was called: the API refuses new work
    std::unique_ptr<Membership> membership;
    AckBoard acks;
    ChannelTable channels;
    std::uint64_t message_id_prefix = 0;         // random, per node start
    std::atomic<std::uint64_t> message_id_counter{0};
    std::atomic<std::uint64_t> node_publish_seq{0};  // sequence of publishes by the node itself (pid id 0)
};

// A creation number for a node starting now: the wall clock in microseconds,
// strictly increasing within this process, never 0.
std::uint64_t new_creation();

}  // namespace liminal::detail
