#pragma once
// A node's counters (Stats as atomics) and a peer's traffic counters.

#include <liminal/stats.hpp>

#include <atomic>
#include <cstdint>

namespace liminal::detail {

// Every Stats field as an atomic; written from any thread, relaxed.
struct Counters {
#define LIMINAL_COUNTER(name) std::atomic<std::uint64_t> name{0};
#include "node/counters.def"
#undef LIMINAL_COUNTER
    Stats snapshot() const;
};

inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    if (by != 0) counter.fetch_add(by, std::memory_order_relaxed);
}

// Per-peer traffic counters, written by the I/O thread, read by peers().
struct PeerCounters {
    std::atomic<std::uint64_t> messages_out{0}, bytes_out{0}, messages_in{0}, bytes_in{0};
};

}  // namespace liminal::detail
