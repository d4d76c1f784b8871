// SEND and PUBLISH from peers into local mailboxes. A frame's deliveries are
// gathered and handed to each mailbox in one batch when the frame is done
// (end_frame); its payloads, senders, headers and envelopes stay in the
// frame's block (ReceivedFrame). Runs on the I/O thread.

#include "node/actor.hpp"
#include "node/message_parts.hpp"

namespace liminal::detail {

void ReceivedFrame::reserve_for(const std::vector<wire::WireMessage>& decoded) {
    std::size_t data = 0, publishes = 0, with_headers = 0;
    for (const auto& m : decoded) {
        if (const auto* send = std::get_if<wire::Send>(&m)) {
            ++data;
            with_headers += send->headers.empty() ? 0 : 1;
        } else if (const auto* publish = std::get_if<wire::Publish>(&m)) {
            ++data;
            ++publishes;
            with_headers += publish->headers.empty() ? 0 : 1;
        }
    }
    senders.reserve(data);
    headers.reserve(with_headers);
    envelopes.reserve(publishes);
}

bool Actor::on_data(Inbound& in, wire::Send& send) {
    auto& counters = core_.counters;
    if (in.counters) bump(in.counters->messages_in);
    if (send.to_creation != core_.creation) {
        bump(counters.dropped_stale_creation);
        return true;
    }
    const auto mailbox = core_.processes->find(send.to_id);
    if (!mailbox) {
        bump(counters.dropped_no_such_process);
        return true;
    }
    ReceivedFrame& frame = *in.frame;
    const Pid* from = frame_sender(frame, in.session, send.from_id);
    const bool room = from != nullptr && (send.headers.empty() || frame.headers.size() < frame.headers.capacity());
    if (!room) {
        // No room reserved (a miscount): the message owns copies instead.
        deliveries_.add(mailbox,
                        Message(Pid{in.session.name(), in.session.creation(), send.from_id}, std::move(send.headers),
                                in.frame, send.payload),
                        nullptr);
        return true;
    }
    const Headers* headers = nullptr;
    if (!send.headers.empty()) {
        frame.headers.push_back(std::move(send.headers));
        headers = &frame.headers.back();
    }
    deliveries_.add(mailbox, MessageParts::make(in.frame, from, headers, send.payload, nullptr), nullptr);
    return true;
}

bool Actor::on_data(Inbound& in, wire::Publish& publish) {
    if (in.counters) bump(in.counters->messages_in);
    ++frame_publishes_;
    // A frame usually carries many publishes to one channel: its route and
    // mailboxes are looked up once per frame (end_frame forgets them).
    if (publish_route_ == nullptr || publish_route_->channel != publish.channel ||
        publish_route_->version != core_.membership->version.load(std::memory_order_acquire))
        cache_publish_route(publish.channel);
    const ChannelRoute& route = *publish_route_;
    if (route.local.empty()) return true;  // the last subscriber left while this was on its way
    ++route_received_;
    ReceivedFrame& frame = *in.frame;
    const Pid* from = frame_sender(frame, in.session, publish.from_id);
    const bool room = from != nullptr && frame.envelopes.size() < frame.envelopes.capacity() &&
                      (publish.headers.empty() || frame.headers.size() < frame.headers.capacity());
    if (!room) {
        // No room reserved (a miscount): the messages own copies instead.
        auto envelope = std::make_shared<const Envelope>(
            Envelope{publish.id, route.channel, publish.sequence, publish.timestamp_us, std::move(publish.parents)});
        for (const auto& mailbox : publish_mailboxes_) {
            deliveries_.add(mailbox,
                            Message(Pid{in.session.name(), in.session.creation(), publish.from_id}, publish.headers,
                                    in.frame, publish.payload, envelope),
                            route.counters);
        }
        return true;
    }
    frame.envelopes.push_back(
        Envelope{publish.id, route.channel, publish.sequence, publish.timestamp_us, std::move(publish.parents)});
    const Envelope* envelope = &frame.envelopes.back();
    const Headers* headers = nullptr;
    if (!publish.headers.empty()) {
        frame.headers.push_back(std::move(publish.headers));
        headers = &frame.headers.back();
    }
    for (const auto& mailbox : publish_mailboxes_)
        deliveries_.add(mailbox, MessageParts::make(in.frame, from, headers, publish.payload, envelope),
                        route.counters);
    return true;
}

void Actor::cache_publish_route(std::string_view channel) {
    count_route_received();
    publish_route_ = channel_route(core_, channel, false);
    publish_mailboxes_.clear();
    for (const auto id : publish_route_->local) {
        if (auto mailbox = core_.processes->find(id)) publish_mailboxes_.push_back(std::move(mailbox));
    }
}

const Pid* Actor::frame_sender(ReceivedFrame& frame, const Session& session, std::uint64_t id) {
    if (!frame.senders.empty()) {
        const Pid& last = frame.senders.back();
        if (last.id == id && last.creation == session.creation() && last.node == session.name()) return &last;
    }
    if (frame.senders.size() == frame.senders.capacity()) return nullptr;
    frame.senders.push_back(Pid{session.name(), session.creation(), id});
    return &frame.senders.back();
}

void Actor::count_route_received() {
    if (publish_route_ != nullptr && publish_route_->counters != nullptr)
        bump(publish_route_->counters->received, route_received_);
    route_received_ = 0;
}

void Actor::end_frame() {
    deliveries_.flush(core_.counters);
    // Counted once per frame (each count is an atomic add); publish_frames_in
    // last, so whoever sees it has seen the rest.
    count_route_received();
    if (frame_publishes_ != 0) core_.counters.publish_frames_in.fetch_add(frame_publishes_, std::memory_order_release);
    frame_publishes_ = 0;
    publish_route_.reset();
    publish_mailboxes_.clear();
}

}  // namespace liminal::detail
