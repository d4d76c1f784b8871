#include "node/receive.hpp"

#include "node/message_parts.hpp"

#include <algorithm>

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

void FrameDelivery::send(const Session& session, wire::Send& send, const std::shared_ptr<ReceivedFrame>& frame) {
    frame_bytes_ = frame->message.size();
    if (send.to_creation != core_.creation) {
        ++stale_;
        return;
    }
    const auto mailbox = core_.processes->find(send.to_id);
    if (!mailbox) {
        ++gone_;
        return;
    }
    const Pid* from = sender(*frame, session, send.from_id);
    const bool room = from != nullptr && (send.headers.empty() || frame->headers.size() < frame->headers.capacity());
    if (!room) {
        // No room reserved (a miscount): the message owns copies instead.
        deliveries_.add(mailbox,
                        Message(Pid{session.name(), session.creation(), send.from_id}, std::move(send.headers), frame,
                                send.payload),
                        nullptr);
        return;
    }
    const Headers* headers = nullptr;
    if (!send.headers.empty()) {
        frame->headers.push_back(std::move(send.headers));
        headers = &frame->headers.back();
    }
    deliveries_.add(mailbox, MessageParts::make(frame, from, headers, send.payload, nullptr), nullptr);
}

void FrameDelivery::publish(const Session& session, wire::Publish& publish,
                            const std::shared_ptr<ReceivedFrame>& frame) {
    ++publishes_;
    frame_bytes_ = frame->message.size();
    if (route_ == nullptr || route_->channel != publish.channel ||
        route_->version != core_.membership->version.load(std::memory_order_acquire))
        cache_route(publish.channel);
    const ChannelRoute& route = *route_;
    // Subscribers that left while this was on its way (all of them, or
    // processes closing now) get nothing: each is one message dropped.
    gone_ += std::max<std::size_t>(route.local.size(), 1) - mailboxes_.size();
    if (mailboxes_.empty()) return;
    ++route_received_;
    const Pid* from = sender(*frame, session, publish.from_id);
    const bool room = from != nullptr && frame->envelopes.size() < frame->envelopes.capacity() &&
                      (publish.headers.empty() || frame->headers.size() < frame->headers.capacity());
    if (!room) {
        // No room reserved (a miscount): the messages own copies instead.
        auto envelope = std::make_shared<const Envelope>(
            Envelope{publish.id, route.channel, publish.sequence, publish.timestamp_us, std::move(publish.parents)});
        for (const auto& mailbox : mailboxes_) {
            deliveries_.add(mailbox,
                            Message(Pid{session.name(), session.creation(), publish.from_id}, publish.headers, frame,
                                    publish.payload, envelope),
                            route.counters);
        }
        return;
    }
    frame->envelopes.push_back(
        Envelope{publish.id, route.channel, publish.sequence, publish.timestamp_us, std::move(publish.parents)});
    const Envelope* envelope = &frame->envelopes.back();
    const Headers* headers = nullptr;
    if (!publish.headers.empty()) {
        frame->headers.push_back(std::move(publish.headers));
        headers = &frame->headers.back();
    }
    for (const auto& mailbox : mailboxes_)
        deliveries_.add(mailbox, MessageParts::make(frame, from, headers, publish.payload, envelope), route.counters);
}

void FrameDelivery::finish() {
    deliveries_.flush(core_.counters, frame_bytes_);
    refuse(core_.counters, core_.counters.dropped_stale_creation, stale_);
    refuse(core_.counters, core_.counters.dropped_no_such_process, gone_);
    stale_ = gone_ = 0;
    frame_bytes_ = 0;
    // Counted once per frame (each count is an atomic add); publish_frames_in
    // last, so whoever sees it has seen the rest.
    count_route_received();
    if (publishes_ != 0) core_.counters.publish_frames_in.fetch_add(publishes_, std::memory_order_release);
    publishes_ = 0;
    route_.reset();
    mailboxes_.clear();
}

void FrameDelivery::cache_route(std::string_view channel) {
    count_route_received();
    route_ = channel_route(core_, channel, false);
    mailboxes_.clear();
    for (const auto id : route_->local) {
        if (auto mailbox = core_.processes->find(id)) mailboxes_.push_back(std::move(mailbox));
    }
}

const Pid* FrameDelivery::sender(ReceivedFrame& frame, const Session& session, std::uint64_t id) {
    if (!frame.senders.empty()) {
        const Pid& last = frame.senders.back();
        if (last.id == id && last.creation == session.creation() && last.node == session.name()) return &last;
    }
    if (frame.senders.size() == frame.senders.capacity()) return nullptr;
    frame.senders.push_back(Pid{session.name(), session.creation(), id});
    return &frame.senders.back();
}

void FrameDelivery::count_route_received() {
    if (route_ != nullptr && route_->counters != nullptr) bump(route_->counters->received, route_received_);
    route_received_ = 0;
}

}  // namespace liminal::detail
