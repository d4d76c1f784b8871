#include "node/shared_membership.hpp"

namespace liminal::detail {

bool record_effects(Membership& membership, membership::Effects& fx) {
    membership.monitors->dispatch(fx.changes);
    if (fx.deltas.empty()) return false;
    const bool first = membership.outbox.empty();
    for (auto& delta : fx.deltas) membership.outbox.push_back(std::move(delta));
    fx.deltas.clear();
    return first;
}

}  // namespace liminal::detail
