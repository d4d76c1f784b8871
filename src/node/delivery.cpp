#include "node/delivery.hpp"

#include "node/message_parts.hpp"

#include <algorithm>

namespace liminal::detail {

PushResult deliver(Counters& counters, Mailbox& mailbox, Message message, std::atomic<std::uint64_t>& delivered,
                   bool timeout_is_would_block, bool may_wait) {
    std::size_t dropped = 0;
    const PushResult result = mailbox.push(std::move(message), may_wait, &dropped);
    switch (result) {
    case PushResult::delivered: bump(delivered); break;
    case PushResult::displaced:
        bump(delivered);
        bump(counters.dropped_mailbox_full, dropped);  // the oldest messages made room
        break;
    case PushResult::full: bump(counters.dropped_mailbox_full); break;
    case PushResult::timed_out: bump(timeout_is_would_block ? counters.would_block : counters.dropped_mailbox_full); break;
    case PushResult::cut_off: bump(counters.dropped_slow_consumer, dropped + 1); break;
    case PushResult::closed: bump(counters.dropped_no_such_process); break;
    }
    return result;
}

void DeliveryBatch::add(std::shared_ptr<Mailbox> mailbox, Message message, ChannelCounters* channel) {
    // A frame reaches few mailboxes: a linear search beats a map here.
    auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.mailbox == mailbox; });
    if (it == pending_.end()) {
        pending_.push_back(Pending{std::move(mailbox), {}, {}});
        it = std::prev(pending_.end());
    }
    it->messages.push_back(std::move(message));
    it->channels.push_back(channel);
}

void DeliveryBatch::flush(Counters& counters, std::size_t frame_bytes) {
    std::size_t cost = 0;
    for (const auto& p : pending_) {
        for (const auto& message : p.messages) cost += message_cost(message);
    }
    // A mailbox charges a message its own cost; a frame lives as long as any
    // message of it does. Copying what would pin a frame four times its cost
    // bounds what a mailbox holds to four times its byte limit.
    if (cost * 4 < frame_bytes) {
        for (auto& p : pending_) {
            for (auto& message : p.messages) message = MessageParts::copy(message);
        }
    }
    for (auto& p : pending_) {
        const std::vector<ChannelCounters*> channels = std::move(p.channels);
        const auto result = p.mailbox->push_batch(p.messages);
        bump(counters.dropped_mailbox_full, result.displaced);
        bump(counters.dropped_slow_consumer, result.cut_dropped);
        auto& refused = result.closed    ? counters.dropped_no_such_process
                        : result.cut_off ? counters.dropped_slow_consumer
                                         : counters.dropped_mailbox_full;
        // Under one lock, the first `delivered` went in and the rest were
        // refused. Counted per run of one channel (usually the whole batch),
        // not per message: every count is an atomic add.
        std::size_t publishes = 0, sends = 0, refusals = 0;
        for (std::size_t i = 0; i < channels.size();) {
            std::size_t in = 0, out = 0, j = i;
            for (; j < channels.size() && channels[j] == channels[i]; ++j) ++(j < result.delivered ? in : out);
            if (channels[i] != nullptr) {
                bump(channels[i]->delivered, in);
                bump(channels[i]->dropped, out);
                publishes += in;
            } else {
                sends += in;
            }
            refusals += out;
            i = j;
        }
        bump(counters.delivered_publish, publishes);
        bump(counters.delivered_remote, sends);
        bump(refused, refusals);
    }
    pending_.clear();
}

}  // namespace liminal::detail
