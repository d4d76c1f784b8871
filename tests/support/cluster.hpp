#pragma once
// Helpers for tests that run several nodes in one process on 127.0.0.1.

#include "support/wait.hpp"

#include <liminal/error.hpp>
#include <liminal/node.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace liminal::test {

inline std::shared_ptr<spdlog::logger> test_logger() {
    static const auto logger = [] {
        auto l = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
        const char* level = std::getenv("LIMINAL_TEST_LOG");
        l->set_level(spdlog::level::from_str(level ? level : "warn"));
        return l;
    }();
    return logger;
}

// The cookie of the tests' clusters: long and varied enough not to be called weak.
inline constexpr const char* test_cookie = "test-cookie-5b1e7c0d9a2f";

inline Options node_options(const std::string& name, std::vector<std::string> seeds = {},
                            const std::string& cookie = test_cookie) {
    Options options;
    options.name = name;
    options.cookie = cookie;
    options.listen = "tcp://127.0.0.1:*";
    options.gossip = "tcp://127.0.0.1:*";
    options.seeds = std::move(seeds);
    options.logger = test_logger();
    return options;
}

// Runs `use` and returns the kind of the liminal::Error it threw, if any.
template <typename Use>
std::optional<ErrorKind> thrown_kind(Use&& use) {
    try {
        use();
    } catch (const Error& error) {
        return error.kind();
    }
    return std::nullopt;
}

inline const PeerInfo* find_peer(const std::vector<PeerInfo>& peers, const std::string& name) {
    const auto it = std::find_if(peers.begin(), peers.end(), [&](const PeerInfo& p) { return p.name == name; });
    return it == peers.end() ? nullptr : &*it;
}

inline bool peer_is(const Node& node, const std::string& name, PeerState state, std::uint64_t creation = 0) {
    const auto peers = node.peers();
    const PeerInfo* peer = find_peer(peers, name);
    return peer != nullptr && peer->state == state && (creation == 0 || peer->creation == creation);
}

inline std::size_t peers_up(const Node& node) {
    const auto peers = node.peers();
    return static_cast<std::size_t>(
        std::count_if(peers.begin(), peers.end(), [](const PeerInfo& p) { return p.state == PeerState::up; }));
}

// Waits until every node sees every other one up.
inline bool wait_for_mesh(const std::vector<Node*>& nodes, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return wait_until(
        [&] {
            for (const Node* node : nodes) {
                for (const Node* other : nodes) {
                    if (node != other && !peer_is(*node, other->name(), PeerState::up, other->creation())) return false;
                }
            }
            return true;
        },
        timeout);
}

// Waits for the next event matching `match`, skipping others.
template <typename Match>
std::optional<PeerEvent> wait_event(Node& node, Match match, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto event = node.next_event(left);
        if (event && match(*event)) return event;
    }
}

}  // namespace liminal::test
