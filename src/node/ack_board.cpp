#include "node/ack_board.hpp"

#include <algorithm>

namespace liminal::detail {

void AckBoard::record(const std::string& peer, std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    auto& acked = acked_[peer];
    acked = std::max(acked, seq);
    changed_.notify_all();
}

void AckBoard::forget(const std::string& peer) {
    std::lock_guard lock(mutex_);
    acked_.erase(peer);
}

std::vector<std::string> AckBoard::wait(const std::vector<std::string>& peers, std::uint64_t seq,
                                        std::chrono::steady_clock::time_point until) {
    std::unique_lock lock(mutex_);
    std::vector<std::string> lagging;
    const auto collect = [&] {
        lagging.clear();
        for (const auto& peer : peers) {
            const auto it = acked_.find(peer);
            if (it == acked_.end() || it->second < seq) lagging.push_back(peer);
        }
        return lagging.empty();
    };
    changed_.wait_until(lock, until, collect);
    return lagging;
}

}  // namespace liminal::detail
