#include "node/rate_limited_log.hpp"

#include <spdlog/spdlog.h>

namespace liminal::detail {

void RateLimitedLog::dropped(const std::string& kind, const std::string& detail) {
    auto& [last, suppressed] = last_[kind];
    const auto now = Clock::now();
    if (now - last < std::chrono::seconds(1)) {
        ++suppressed;
        return;
    }
    if (suppressed > 0)
        log_.warn("dropped {} ({} more like it in the last second)", detail, suppressed);
    else
        log_.warn("dropped {}", detail);
    last = now;
    suppressed = 0;
}

}  // namespace liminal::detail
