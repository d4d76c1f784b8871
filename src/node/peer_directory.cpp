#include "node/peer_directory.hpp"

namespace liminal::detail {

std::optional<PeerDirectory::Route> PeerDirectory::route(const std::string& name) const {
    std::shared_lock lock(mutex_);
    const auto it = peers_.find(name);
    if (it == peers_.end()) return std::nullopt;
    const auto& counters = it->second.counters;
    return Route{it->second.info.creation, it->second.info.state,
                 counters != nullptr && counters->congested.load(std::memory_order_relaxed)};
}

std::vector<PeerInfo> PeerDirectory::snapshot() const {
    std::shared_lock lock(mutex_);
    std::vector<PeerInfo> out;
    out.reserve(peers_.size() + connecting_.size());
    for (const auto& [name, entry] : peers_) {
        PeerInfo info = entry.info;
        if (entry.counters) {
            info.messages_out = entry.counters->messages_out.load(std::memory_order_relaxed);
            info.bytes_out = entry.counters->bytes_out.load(std::memory_order_relaxed);
            info.messages_in = entry.counters->messages_in.load(std::memory_order_relaxed);
            info.bytes_in = entry.counters->bytes_in.load(std::memory_order_relaxed);
            info.messages_dropped = entry.counters->dropped.load(std::memory_order_relaxed);
            info.slow_consumers = entry.counters->slow_consumers.load(std::memory_order_relaxed);
        }
        out.push_back(std::move(info));
    }
    for (const auto& endpoint : connecting_) {
        PeerInfo info;
        info.router_endpoint = endpoint;
        info.state = PeerState::connecting;
        out.push_back(std::move(info));
    }
    return out;
}

void PeerDirectory::set(const PeerInfo& info, std::shared_ptr<PeerCounters> counters) {
    std::unique_lock lock(mutex_);
    peers_[info.name] = Entry{info, std::move(counters)};
}

void PeerDirectory::erase(const std::string& name) {
    std::unique_lock lock(mutex_);
    peers_.erase(name);
}

void PeerDirectory::set_connecting(const std::string& endpoint, bool connecting) {
    std::unique_lock lock(mutex_);
    if (connecting)
        connecting_.insert(endpoint);
    else
        connecting_.erase(endpoint);
}

}  // namespace liminal::detail
