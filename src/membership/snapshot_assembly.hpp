#pragma once
// Reassembly of a SNAPSHOT that travels in parts: a whole membership (a
// backfill, or the answer to a resync) is sent as parts 0..n, the last one
// flagged, and applied only once every part is in, in order. Parts of one
// snapshot carry its seq; a part out of order means a part was lost (the
// connection was replaced mid-burst): the snapshot is abandoned until the
// next part 0, and the caller asks for a whole new one.
//
// One assembly per inbound session, so parts from two connections never
// mix. No sockets, no clock.

#include "membership/state.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace liminal::detail::membership {

class SnapshotAssembly {
public:
    enum class Result : std::uint8_t {
        incomplete,    // more parts to come
        complete,      // the last part is in: take() it
        out_of_order,  // a part is missing: ask the origin for a whole snapshot
        too_large,     // over max_ids() memberships: refused
    };

    // By default, a snapshot of more memberships than this is refused.
    static constexpr std::size_t default_max_ids = 50'000'000;

    explicit SnapshotAssembly(std::size_t max_ids = default_max_ids) : max_ids_(max_ids) {}
    std::size_t max_ids() const noexcept { return max_ids_; }

    // Adds one part; its groups are moved from.
    Result add(std::uint64_t seq, std::uint64_t part, bool last, std::vector<GroupIds>& groups);
    // The complete snapshot; the assembly then waits for a new part 0.
    Snapshot take();

private:
    // A part number no part has: after a failure, only a part 0 starts anew.
    static constexpr std::uint64_t broken = ~0ULL;
    void abandon();

    std::size_t max_ids_;
    std::vector<GroupIds> groups_;  // the parts so far
    std::uint64_t seq_ = 0;         // the seq the snapshot reflects
    std::uint64_t next_part_ = 0;   // the part expected next
    std::size_t ids_ = 0;           // memberships so far
};

}  // namespace liminal::detail::membership
