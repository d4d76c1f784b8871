#include "node/node_core.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>

namespace liminal::detail {

std::uint64_t new_creation() {
    static std::atomic<std::uint64_t> last{0};
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    std::uint64_t previous = last.load();
    std::uint64_t next = 0;
    do {
        next = std::max<std::uint64_t>(now, previous + 1);
    } while (!last.compare_exchange_weak(previous, next));
    return next;
}

}  // namespace liminal::detail
