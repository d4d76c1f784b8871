#include "node/delivery.hpp"

#include "node/message_parts.hpp"

#include <algorithm>

namespace liminal::detail {

PushResult deliver(Mailbox& mailbox, Message message, std::atomic<std::uint64_t>& delivered, bool timeout_is_would_block,
                   bool may_wait) {
    const PushResult result = mailbox.push(std::move(message), may_wait, nullptr, timeout_is_would_block);
    if (result == PushResult::delivered || result == PushResult::displaced) bump(delivered);
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
        // The mailbox counts the ledger (accepted, in flight, every drop);
        // here, the channels' counts and what went into mailboxes.
        const auto result = p.mailbox->push_batch(p.messages);
        // Under one lock, the first `delivered` went in and the rest were
        // refused. Counted per run of one channel (usually the whole batch),
        // not per message: every count is an atomic add.
        std::size_t publishes = 0, sends = 0;
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
            i = j;
        }
        bump(counters.delivered_publish, publishes);
        bump(counters.delivered_remote, sends);
    }
    pending_.clear();
}

}  // namespace liminal::detail
