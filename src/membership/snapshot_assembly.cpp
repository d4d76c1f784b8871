#include "membership/snapshot_assembly.hpp"

#include <utility>

namespace liminal::detail::membership {

SnapshotAssembly::Result SnapshotAssembly::add(std::uint64_t seq, std::uint64_t part, bool last,
                                               std::vector<GroupIds>& groups) {
    if (part == 0) {
        groups_.clear();
        ids_ = 0;
        seq_ = seq;
        next_part_ = 0;
    }
    if (part != next_part_ || seq != seq_) {
        abandon();
        return Result::out_of_order;
    }
    ++next_part_;
    for (auto& group : groups) {
        ids_ += group.ids.size();
        groups_.push_back(std::move(group));
    }
    if (ids_ > max_ids_) {
        abandon();
        return Result::too_large;
    }
    return last ? Result::complete : Result::incomplete;
}

Snapshot SnapshotAssembly::take() {
    Snapshot snapshot{seq_, std::move(groups_)};
    groups_.clear();
    ids_ = 0;
    next_part_ = 0;
    return snapshot;
}

void SnapshotAssembly::abandon() {
    groups_.clear();
    ids_ = 0;
    next_part_ = broken;
}

}  // namespace liminal::detail::membership
