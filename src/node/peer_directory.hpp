#pragma once
// The peer view the API threads read (Node::peers(), send()'s routing).

#include "node/counters.hpp"

#include <liminal/events.hpp>

#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

namespace liminal::detail {

// The peer view behind Node::peers() and send()'s routing decision; written
// by the I/O thread.
class PeerDirectory {
public:
    struct Route {
        std::uint64_t creation = 0;
        PeerState state = PeerState::down;
        bool congested = false;  // its outgoing queue is full (PeerCounters::congested)
    };

    std::optional<Route> route(const std::string& name) const;
    std::vector<PeerInfo> snapshot() const;

    void set(const PeerInfo& info, std::shared_ptr<PeerCounters> counters);
    void set_connecting(const std::string& endpoint, bool connecting);
    void erase(const std::string& name);

private:
    struct Entry {
        PeerInfo info;
        std::shared_ptr<PeerCounters> counters;
    };
    mutable std::shared_mutex mutex_;
    std::map<std::string, Entry> peers_;      // by name
    std::set<std::string> connecting_;        // endpoints with no peer name yet (seeds)
};

}  // namespace liminal::detail
