#include <liminal/error.hpp>
#include <liminal/events.hpp>

namespace liminal {

const char* to_string(PeerState state) noexcept {
    switch (state) {
    case PeerState::connecting: return "connecting";
    case PeerState::up: return "up";
    case PeerState::down: return "down";
    }
    return "?";
}

const char* to_string(PeerEventKind kind) noexcept {
    switch (kind) {
    case PeerEventKind::up: return "up";
    case PeerEventKind::down: return "down";
    case PeerEventKind::rejected: return "rejected";
    case PeerEventKind::slow_consumer: return "slow_consumer";
    case PeerEventKind::partial_partition: return "partial_partition";
    }
    return "?";
}

const char* to_string(DownReason reason) noexcept {
    switch (reason) {
    case DownReason::none: return "none";
    case DownReason::link_lost: return "link_lost";
    case DownReason::bye: return "bye";
    case DownReason::restarted: return "restarted";
    case DownReason::revoked: return "revoked";
    case DownReason::slow_consumer: return "slow_consumer";
    case DownReason::partitioned: return "partitioned";
    }
    return "?";
}

const char* to_string(ErrorKind kind) noexcept {
    switch (kind) {
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::not_local: return "not_local";
    case ErrorKind::closed: return "closed";
    case ErrorKind::start_failed: return "start_failed";
    case ErrorKind::admin_failed: return "admin_failed";
    }
    return "?";
}

}  // namespace liminal
