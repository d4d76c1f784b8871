#include "node/session.hpp"

namespace liminal::detail {

Session* SessionTable::find(const std::string& routing_id) {
    const auto it = sessions_.find(routing_id);
    return it == sessions_.end() ? nullptr : &it->second;
}

Session* SessionTable::open(const std::string& routing_id, wire::Hello hello, std::string hello_bytes,
                            const wire::Nonce& server_nonce) {
    if (sessions_.size() >= capacity && !sessions_.contains(routing_id)) return nullptr;
    sessions_.erase(routing_id);
    return &sessions_
                .try_emplace(routing_id, std::move(hello), std::move(hello_bytes), server_nonce, Session::Clock::now())
                .first->second;
}

void SessionTable::erase_older(const std::string& name, std::uint64_t creation, const std::string& keep) {
    std::erase_if(sessions_, [&](const auto& entry) {
        return entry.first != keep && entry.second.name() == name && entry.second.creation() < creation;
    });
}

void SessionTable::expire(Session::Clock::time_point now) {
    std::erase_if(sessions_, [&](const auto& entry) {
        return !entry.second.authenticated() && now - entry.second.started() > handshake_timeout;
    });
}

}  // namespace liminal::detail
