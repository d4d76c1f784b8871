#include "node/delivery.hpp"

#include <algorithm>

namespace liminal::detail {

PushResult deliver(Counters& counters, Mailbox& mailbox, Message message, std::atomic<std::uint64_t>& delivered) {
    const PushResult result = mailbox.push(std::move(message));
    switch (result) {
    case PushResult::delivered: bump(delivered); break;
    case PushResult::displaced:
        bump(delivered);
        bump(counters.dropped_mailbox_full);  // the oldest message made room
        break;
    case PushResult::full: bump(counters.dropped_mailbox_full); break;
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

void DeliveryBatch::flush(Counters& counters) {
    for (auto& p : pending_) {
        const std::vector<ChannelCounters*> channels = std::move(p.channels);
        const auto result = p.mailbox->push_batch(p.messages);
        bump(counters.dropped_mailbox_full, result.displaced);
        auto& refused = result.closed ? counters.dropped_no_such_process : counters.dropped_mailbox_full;
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
