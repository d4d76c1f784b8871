#pragma once
// The admin endpoint's request handling: cookie-proved JSON requests in,
// JSON replies out. Runs on the I/O thread; reads node state through the
// same thread-safe paths the public API uses.

#include "node/node_core.hpp"
#include "wire/messages.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace liminal::detail {

class AdminService {
public:
    explicit AdminService(NodeCore& core) : core_(core) {}

    // One request: the body (JSON) and, except for {"cmd":"challenge"}, the
    // 32-byte proof. Returns the reply body. Never throws on bad input.
    std::string handle(const std::vector<std::string>& frames);

    // Largest request accepted.
    static constexpr std::size_t max_request_bytes = 1 << 20;

private:
    using Clock = std::chrono::steady_clock;

    std::string challenge();
    bool take_nonce(const wire::Nonce& nonce);
    nlohmann::json status() const;
    nlohmann::json peers() const;
    nlohmann::json groups(const std::string& only_scope) const;
    nlohmann::json members(const std::string& scope, const std::string& group) const;
    nlohmann::json stats() const;
    nlohmann::json view() const;
    nlohmann::json inject(const nlohmann::json& request);

    NodeCore& core_;
    std::map<wire::Nonce, Clock::time_point> nonces_;  // handed out, unused, with expiry
};

}  // namespace liminal::detail
