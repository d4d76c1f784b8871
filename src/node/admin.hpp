#pragma once
// The admin endpoint's request handling: cookie-proved JSON requests in,
// JSON replies out. Runs on the I/O thread; reads node state through the
// same thread-safe paths the public API uses.

#include "node/node_core.hpp"
#include "wire/messages.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace liminal::detail {

class AdminService {
public:
    explicit AdminService(NodeCore& core);

    // One request: the body (JSON) and, except for {"cmd":"challenge"}, the
    // 32-byte proof. Returns the reply body. Never throws on bad input.
    std::string handle(const std::vector<std::string>& frames);

    // Largest request accepted.
    static constexpr std::size_t max_request_bytes = 1 << 20;
    // What a proven {"cmd":"fault","args":{...}} does, when Options::faults
    // is on: set by the I/O thread's actor, called on that thread.
    void on_fault(std::function<nlohmann::json(const nlohmann::json& args)> handler) { on_fault_ = std::move(handler); }

private:
    using Clock = std::chrono::steady_clock;

    std::string challenge();
    // The tag only this node can put on a nonce (its first 10 bytes).
    void tag(wire::Nonce& nonce) const;
    // Whether `nonce` was handed out by this node, less than a lifetime ago,
    // and not used by a proven request yet.
    bool fresh(const wire::Nonce& nonce);
    nlohmann::json status() const;
    nlohmann::json partial_partitions() const;
    nlohmann::json peers() const;
    nlohmann::json groups(const std::string& only_scope) const;
    nlohmann::json members(const std::string& scope, const std::string& group) const;
    nlohmann::json stats() const;
    nlohmann::json view() const;
    nlohmann::json inject(const nlohmann::json& request);
    nlohmann::json fault(const nlohmann::json& request);

    NodeCore& core_;
    // Challenges are stateless: a nonce carries when it was issued and a tag
    // made with `secret_`, so a flood of challenges costs nothing and cannot
    // push an operator's nonce out. Only the nonces of proven requests (which
    // need the cookie) are remembered, until they expire, so none is used twice.
    std::array<std::uint8_t, 32> secret_{};            // random, per node start
    const Clock::time_point epoch_ = Clock::now();     // nonce times count from here
    std::map<wire::Nonce, Clock::time_point> used_;    // proven requests' nonces, until they expire
    std::function<nlohmann::json(const nlohmann::json&)> on_fault_;
};

}  // namespace liminal::detail
