#include "node/session.hpp"

#include <algorithm>

namespace liminal::detail {

Session* SessionTable::find(const std::string& routing_id) {
    const auto it = sessions_.find(routing_id);
    return it == sessions_.end() ? nullptr : &it->second;
}

Session* SessionTable::find(const std::string& routing_id, std::string_view connection) {
    Session* session = find(routing_id);
    return session != nullptr && session->connection() == connection ? session : nullptr;
}

Session* SessionTable::open(const std::string& routing_id, const Connection& connection, wire::Hello hello,
                            std::string hello_bytes, const wire::Nonce& server_nonce) {
    auto started = Session::Clock::now();
    if (const auto it = sessions_.find(routing_id); it != sessions_.end()) {
        // A repeated HELLO does not renew a handshake that never completed.
        if (!it->second.authenticated()) started = it->second.started();
        sessions_.erase(it);
    } else if (sessions_.size() >= capacity_ && !evict_oldest_unauthenticated()) {
        return nullptr;
    }
    return &sessions_
                .try_emplace(routing_id, connection, std::move(hello), std::move(hello_bytes), server_nonce, started)
                .first->second;
}

bool SessionTable::evict_oldest_unauthenticated() {
    auto oldest = sessions_.end();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
        if (!it->second.authenticated() && (oldest == sessions_.end() || it->second.started() < oldest->second.started()))
            oldest = it;
    }
    if (oldest == sessions_.end()) return false;
    sessions_.erase(oldest);
    return true;
}

void SessionTable::erase_older(const std::string& name, std::uint64_t creation, const std::string& keep) {
    std::erase_if(sessions_, [&](const auto& entry) {
        return entry.first != keep && entry.second.name() == name && entry.second.creation() < creation;
    });
}

std::vector<int> SessionTable::erase_name(const std::string& name) {
    std::vector<int> fds;
    std::erase_if(sessions_, [&](const auto& entry) {
        if (entry.second.name() != name) return false;
        fds.push_back(entry.second.fd());
        return true;
    });
    return fds;
}

std::vector<std::pair<std::string, std::string>> SessionTable::authenticated() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [routing_id, session] : sessions_) {
        if (session.authenticated() && !session.disconnected()) out.emplace_back(routing_id, session.name());
    }
    return out;
}

std::size_t SessionTable::handshaking() const {
    return static_cast<std::size_t>(std::count_if(sessions_.begin(), sessions_.end(), [](const auto& entry) {
        return !entry.second.authenticated() && !entry.second.disconnected();
    }));
}

void SessionTable::disconnect(int fd) {
    for (auto& [routing_id, session] : sessions_) {
        if (session.fd() == fd) session.disconnect();
    }
}

std::vector<wire::Hello> SessionTable::erase_disconnected() {
    std::vector<wire::Hello> ended;
    std::erase_if(sessions_, [&](const auto& entry) {
        if (!entry.second.disconnected()) return false;
        if (entry.second.authenticated()) ended.push_back(entry.second.hello());
        return true;
    });
    return ended;
}

void SessionTable::expire(Session::Clock::time_point now) {
    std::erase_if(sessions_, [&](const auto& entry) {
        return !entry.second.authenticated() && now - entry.second.started() > handshake_timeout;
    });
}

}  // namespace liminal::detail
