#pragma once
// A node's counters (Stats as atomics) and a peer's traffic counters.

#include <liminal/stats.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace liminal::detail {

// Every Stats field as an atomic; written from any thread, relaxed.
//
// The counters of the ledger (Stats' identity: accepted, received, the
// in_flight gauges, sends_remote, publish_frames_out, every dropped_* and
// would_block) change only with `ledger` held, a message's move from one to
// another at once (Counters::Entry); snapshot() holds it too, so a snapshot
// never sees a message half moved. The ledger is a leaf lock: nothing else
// is locked while it is held.
struct Counters {
#define LIMINAL_COUNTER(name) std::atomic<std::uint64_t> name{0};
#include "node/counters.def"
#undef LIMINAL_COUNTER
    mutable std::mutex ledger;
    using Entry = std::lock_guard<std::mutex>;
    Stats snapshot() const;
};

inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    if (by != 0) counter.fetch_add(by, std::memory_order_relaxed);
}

// Ledger moves, each under the ledger lock. `n` messages taken and ended
// at once under `outcome` (a dropped_* reason, would_block):
inline void refuse(Counters& c, std::atomic<std::uint64_t>& outcome, std::uint64_t n = 1) {
    if (n == 0) return;
    Counters::Entry entry(c.ledger);
    bump(c.accepted, n);
    bump(outcome, n);
}
// `n` messages taken into a gauge (in_flight_peers, in_flight_mailboxes):
inline void take_in(Counters& c, std::atomic<std::uint64_t>& gauge, std::uint64_t n = 1) {
    if (n == 0) return;
    Counters::Entry entry(c.ledger);
    bump(c.accepted, n);
    bump(gauge, n);
}
// `n` messages leave a gauge for `outcome`:
inline void settle(Counters& c, std::atomic<std::uint64_t>& gauge, std::atomic<std::uint64_t>& outcome,
                   std::uint64_t n = 1) {
    if (n == 0) return;
    Counters::Entry entry(c.ledger);
    gauge.fetch_sub(n, std::memory_order_relaxed);
    bump(outcome, n);
}

// Per-peer traffic counters, written by the I/O thread, read by peers().
struct PeerCounters {
    std::atomic<std::uint64_t> messages_out{0}, bytes_out{0}, messages_in{0}, bytes_in{0};
    std::atomic<std::uint64_t> dropped{0};         // messages for it dropped from its queue
    std::atomic<std::uint64_t> slow_consumers{0};  // episodes of its queue filling up
    // Its queue is full (or, under OverflowPolicy::block, half full): senders
    // under block wait while this is set.
    std::atomic<bool> congested{false};
};

// Senders under OverflowPolicy::block wait here for a congested peer queue
// to drain; the I/O thread rings it whenever one does.
class Backpressure {
public:
    // A peer's queue became congested, or stopped being so.
    void congested() noexcept { congested_peers_.fetch_add(1, std::memory_order_relaxed); }
    void drained() {
        congested_peers_.fetch_sub(1, std::memory_order_relaxed);
        { std::lock_guard lock(mutex_); ++generation_; }
        changed_.notify_all();
    }
    // Some peer is congested (a hint: one relaxed load on the send path).
    bool any() const noexcept { return congested_peers_.load(std::memory_order_relaxed) > 0; }
    // Waits until `clear()` holds (checked after each drain) or `deadline`.
    template <typename Clear>
    bool wait_until(std::chrono::steady_clock::time_point deadline, Clear&& clear) {
        std::unique_lock lock(mutex_);
        while (!clear()) {
            const auto seen = generation_;
            if (!changed_.wait_until(lock, deadline, [&] { return generation_ != seen; })) return clear();
        }
        return true;
    }

private:
    std::atomic<int> congested_peers_{0};
    std::mutex mutex_;
    std::condition_variable changed_;
    std::uint64_t generation_ = 0;
};

}  // namespace liminal::detail
