#pragma once
// Channels on the hot path: per-channel counters and the cached route of a
// channel (its local subscribers and the remote nodes that have any).

#include <liminal/stats.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace liminal::detail {

// Per-channel counters. A channel's entry is created on first use and never
// removed, so references stay valid.
struct ChannelCounters {
    std::atomic<std::uint64_t> published{0}, nodes_sent{0}, received{0}, delivered{0}, dropped{0};
    std::atomic<std::uint64_t> nodes_dropped{0};  // copies for remote nodes not sent (down, slow, queue full)
};

class ChannelTable {
public:
    ChannelCounters& at(std::string_view channel);
    std::vector<ChannelStats> snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<ChannelCounters>, std::less<>> channels_;  // less<>: look up by view
};

// Where a channel's messages go, as of one membership version: the local
// subscribers and the remote nodes that have any. Immutable once built and
// shared, so the hot path neither locks the membership nor copies names.
struct ChannelRoute {
    struct Node {
        std::string name;
        std::uint64_t creation = 0;
    };
    std::uint64_t version = 0;
    std::string channel;
    std::vector<std::uint64_t> local;
    std::vector<Node> remote;
    ChannelCounters* counters = nullptr;  // the channel's entry in NodeCore::channels
};


struct NodeCore;

// The route of `channel` at the current membership version. Each thread
// keeps the last few it used, so a publish or a received PUBLISH takes no
// lock and allocates nothing while the membership stays the same. A route
// has counters when the channel has local subscribers, or when `publishing`.
std::shared_ptr<const ChannelRoute> channel_route(NodeCore& core, std::string_view channel, bool publishing);

}  // namespace liminal::detail
