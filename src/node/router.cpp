// Frames on our ROUTER. A frame is checked whole before any of it is applied:
// the handshake messages (HELLO, AUTH) travel alone in their frame; anything
// else must come from an authenticated session, on the connection that
// authenticated it, of the peer's current incarnation, and be a data
// message. Then each message goes to the handler of its type (std::visit),
// in the file of its concern. Runs on the I/O thread.

#include "node/actor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace liminal::detail {
namespace {

wire::Path path_of(const wire::WireMessage& message) {
    return std::visit([](const auto& m) { return m.path; }, message);
}

}  // namespace

bool Actor::size_admitted(std::size_t size, bool authenticated) {
    if (size > core_.options.limits.max_frame_bytes) {
        bump(core_.counters.oversized_frames);
        bad_input_.dropped("oversized",
                           fmt::format("a {}-byte frame (limit {})", size, core_.options.limits.max_frame_bytes));
        return false;
    }
    // Before authentication only a handshake may come, and a handshake is small.
    if (!authenticated && size > wire::max_handshake_frame_bytes) {
        bump(core_.counters.unauthenticated_frames);
        bad_input_.dropped("unauthenticated", fmt::format("a {}-byte frame before authentication (a handshake is "
                                                          "at most {})",
                                                          size, wire::max_handshake_frame_bytes));
        return false;
    }
    return true;
}

void Actor::on_router_frame(const std::string& identity, const Connection& connection, zmq::message_t&& frame) {
    bump(core_.counters.frames_in);
    bump(core_.counters.bytes_in, frame.size());
    // Only this connection's own session counts: one that took over the
    // routing id of an authenticated session is not authenticated.
    Session* session = sessions_.find(identity, connection.id);
    const bool authenticated = session != nullptr && session->authenticated();
    if (!size_admitted(frame.size(), authenticated)) return;  // not even decoded
    // Payloads are delivered as views into this frame: share it.
    auto owner = std::make_shared<ReceivedFrame>(std::move(frame));
    const std::string_view bytes(static_cast<const char*>(owner->message.data()), owner->message.size());
    if (const auto error = wire::decode_frame(bytes, decoded_); error != wire::DecodeError::none) {
        bump(core_.counters.malformed_frames);
        bad_input_.dropped("malformed",
                           fmt::format("an undecodable frame on the ROUTER ({})", wire::to_string(error)));
        return;
    }
    if (decoded_.size() == 1 && path_of(decoded_[0]) == wire::Path::handshake) {
        std::visit(
            [&](auto& m) {
                if constexpr (std::decay_t<decltype(m)>::path == wire::Path::handshake)
                    on_handshake(identity, connection, m, bytes.substr(1));
            },
            decoded_[0]);
        return;
    }
    if (!authenticated) {
        bump(core_.counters.unauthenticated_frames);
        bad_input_.dropped("unauthenticated", "a frame from a connection that has not completed HELLO");
        return;
    }
    if (!check_data_frame(identity, *session)) return;
    apply_data_frame(identity, *session, owner);
}

bool Actor::check_data_frame(const std::string& identity, const Session& session) {
    for (const auto& message : decoded_) {
        if (path_of(message) != wire::Path::data) {
            bump(core_.counters.malformed_frames);
            bad_input_.dropped("malformed", "a handshake, reply or gossip message inside a data frame");
            return false;
        }
    }
    if (const Peer* peer = peers_.find(session.name()); peer != nullptr && peer->creation > session.creation()) {
        // Every message in it was sent by an incarnation that is gone.
        const auto messages = std::count_if(decoded_.begin(), decoded_.end(), [](const wire::WireMessage& m) {
            return std::holds_alternative<wire::Send>(m) || std::holds_alternative<wire::Publish>(m);
        });
        refuse(core_.counters, core_.counters.dropped_stale_creation, static_cast<std::uint64_t>(messages));
        bad_input_.dropped("stale", fmt::format("a frame from {} creation {}, which has restarted", session.name(),
                                                session.creation()));
        sessions_.erase(identity);
        return false;
    }
    return true;
}

void Actor::apply_data_frame(const std::string& identity, Session& session,
                             const std::shared_ptr<ReceivedFrame>& frame) {
    Peer* peer = peers_.find(session.name());
    Inbound in{identity, session, frame, peer == nullptr ? nullptr : peer->counters.get()};
    frame->reserve_for(decoded_);
    if (in.counters) bump(in.counters->bytes_in, frame->message.size());
    for (auto& message : decoded_) {
        // Only data messages reach here (check_data_frame); each handler says
        // whether anything after its message may still be applied.
        const bool go_on = std::visit(
            [&](auto& m) {
                if constexpr (std::decay_t<decltype(m)>::path == wire::Path::data)
                    return on_data(in, m);
                else
                    return false;
            },
            message);
        if (!go_on) break;
    }
    delivery_.finish();
}

bool Actor::on_data(Inbound& in, wire::Send& send) {
    if (in.counters) bump(in.counters->messages_in);
    delivery_.send(in.session, send, in.frame);
    return true;
}

bool Actor::on_data(Inbound& in, wire::Publish& publish) {
    if (in.counters) bump(in.counters->messages_in);
    delivery_.publish(in.session, publish, in.frame);
    return true;
}

void Actor::reply(const std::string& identity, const wire::WireMessage& message) {
    const std::string frame = wire::encode_frame(message);
    router_watch_.touched = true;
    try {
        // ROUTER_MANDATORY: a vanished or congested peer gives an error, never a block.
        if (!router_.send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return;
        router_.send(zmq::buffer(frame), zmq::send_flags::dontwait);
        bump(core_.counters.frames_out);
        bump(core_.counters.bytes_out, frame.size());
    } catch (const zmq::error_t& error) {
        log_.debug("reply to a departed connection dropped: {}", error.what());
    }
}

}  // namespace liminal::detail
