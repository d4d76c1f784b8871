#pragma once
// Putting messages into local mailboxes, counted.

#include "node/channels.hpp"
#include "node/counters.hpp"
#include "node/mailbox.hpp"

#include <atomic>
#include <memory>
#include <vector>

namespace liminal::detail {

// Puts `message` into `mailbox` and counts the outcome: `delivered` when it
// went in, dropped_mailbox_full / dropped_no_such_process when not.
PushResult deliver(Counters& counters, Mailbox& mailbox, Message message, std::atomic<std::uint64_t>& delivered);

// Deliveries gathered while one frame is applied, handed to each mailbox in
// one batch (one lock, at most one wake-up) when the frame is done. Per
// mailbox the order is the frame's order.
class DeliveryBatch {
public:
    // `channel` is null for a directed send.
    void add(std::shared_ptr<Mailbox> mailbox, Message message, ChannelCounters* channel);
    // Delivers everything and counts the outcomes.
    void flush(Counters& counters);

private:
    struct Pending {
        std::shared_ptr<Mailbox> mailbox;
        std::vector<Message> messages;
        std::vector<ChannelCounters*> channels;
    };
    std::vector<Pending> pending_;
};

}  // namespace liminal::detail
