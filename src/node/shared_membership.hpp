#pragma once
// The membership state machine as the node shares it between its threads:
// one lock, the outbox of own deltas, the monitors.

#include "membership/state.hpp"
#include "node/monitors.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace liminal::detail {

// The membership state and what hangs off it, under one lock: the API
// threads (join, leave, queries, publish) and the I/O thread (gossip) share it.
struct Membership {
    explicit Membership(std::string self, std::uint64_t creation) : state(std::move(self), creation) {}

    // Exclusive access for a change. Bumps `version` before unlocking, so a
    // route cached at the old version is known to be stale.
    class Write {
    public:
        explicit Write(Membership& membership) : membership_(membership), lock_(membership.mutex) {}
        ~Write() { membership_.version.fetch_add(1, std::memory_order_release); }
        Write(const Write&) = delete;
        Write& operator=(const Write&) = delete;

    private:
        Membership& membership_;
        std::unique_lock<std::shared_mutex> lock_;
    };

    mutable std::shared_mutex mutex;
    membership::State state;                     // guarded by mutex
    std::atomic<std::uint64_t> version{1};       // bumped by every Write
    std::vector<membership::OwnDelta> outbox;    // guarded by mutex: own deltas not yet gossiped
    std::shared_ptr<MonitorHub> monitors = std::make_shared<MonitorHub>();
};

// Carries out the effects every caller of the membership state shares:
// monitors hear of changes, own deltas join the outbox. Runs with the
// membership lock held exclusively. Returns true when the outbox was empty
// and is not any more: then the caller posts command::Gossip.
bool record_effects(Membership& membership, membership::Effects& fx);

}  // namespace liminal::detail
