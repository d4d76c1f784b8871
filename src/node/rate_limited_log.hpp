#pragma once
// Logging of remote bad input: at most one line a second per kind, with a
// count of what was suppressed, so a flood cannot flood the log too.

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

namespace spdlog { class logger; }

namespace liminal::detail {

class RateLimitedLog {
public:
    explicit RateLimitedLog(spdlog::logger& log) : log_(log) {}
    // Logs "dropped <detail>" as a warning, unless a line of this kind went
    // out less than a second ago.
    void dropped(const std::string& kind, const std::string& detail);

private:
    using Clock = std::chrono::steady_clock;
    spdlog::logger& log_;
    std::unordered_map<std::string, std::pair<Clock::time_point, std::uint64_t>> last_;  // kind -> (when, suppressed since)
};

}  // namespace liminal::detail
