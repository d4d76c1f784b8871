#include "node/counters.hpp"

namespace liminal::detail {

Stats Counters::snapshot() const {
    Stats stats;
    Entry entry(ledger);
// Acquire: a count added with release (publish_frames_in, last for a frame)
// brings the counts added before it.
#define LIMINAL_COUNTER(name) stats.name = name.load(std::memory_order_acquire);
#include "node/counters.def"
#undef LIMINAL_COUNTER
    return stats;
}

}  // namespace liminal::detail
