#pragma once
// Digest acknowledgements, which the convergence barrier (sync_membership) waits on.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace liminal::detail {

// Digest acknowledgements from peers, for the convergence barrier.
class AckBoard {
public:
    void record(const std::string& peer, std::uint64_t seq);
    void forget(const std::string& peer);
    // Waits until every peer in `peers` acknowledged at least `seq`, or `until`.
    // Returns the peers still lagging.
    std::vector<std::string> wait(const std::vector<std::string>& peers, std::uint64_t seq,
                                  std::chrono::steady_clock::time_point until);

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, std::uint64_t> acked_;  // peer -> highest seq of ours it applied
};

}  // namespace liminal::detail
