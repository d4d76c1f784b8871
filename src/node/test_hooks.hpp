#pragma once
// Test-only hooks of a node: fault injection and the admin endpoint's
// test-inject command. They are not part of the public Options; liminal's own
// tests and `liminal-cli node --test-hooks` reach them through TestAccess.

#include "node/session.hpp"

#include <liminal/node.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>

namespace liminal::detail {

struct TestHooks {
    double gossip_drop_rate = 0.0;   // fraction of incoming gossip frames (SUB) to discard, in [0, 1]
    std::uint64_t seed = 1;          // for the drop decisions
    bool admin_test_hooks = false;   // the admin endpoint accepts test-inject (corrupts a view)
    std::size_t session_capacity = SessionTable::default_capacity;  // so that a test can fill the table
    // Called by Node::join once it has found every pid live and before it
    // inserts them, on the joining thread: a test closes a process there.
    std::function<void(std::uint64_t id)> joining;
    // Called with a batch of messages (`bytes` long) taken from the outbound
    // queue, before it is packed into its peers' queues, on the thread that
    // packs it: a test holds that moment open.
    std::function<void(std::size_t bytes)> packing;
};

struct TestAccess {
    // A node with `hooks`; throws as Node's constructor does (StartFailed for a
    // drop rate outside [0, 1]).
    static Node make_node(Options options, const TestHooks& hooks) { return Node(std::move(options), hooks); }
};

}  // namespace liminal::detail
