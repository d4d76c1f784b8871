#pragma once
// Putting messages into local mailboxes, counted.

#include "node/channels.hpp"
#include "node/counters.hpp"
#include "node/mailbox.hpp"

#include <atomic>
#include <memory>
#include <vector>

namespace liminal::detail {

// Puts `message` into `mailbox` from a local sender (which waits for room
// under OverflowPolicy::block) and counts it under `delivered` when it went
// in; the mailbox itself counts the ledger (counters.hpp): accepted, in
// flight, and dropped_mailbox_full / dropped_slow_consumer /
// dropped_no_such_process for it and whatever it displaced. A wait that ran
// out (block) is a drop too, unless `timeout_is_would_block` (a send, whose
// caller is told would_block).
// `may_wait`: false on the I/O thread (a callback there), which never waits.
PushResult deliver(Mailbox& mailbox, Message message, std::atomic<std::uint64_t>& delivered,
                   bool timeout_is_would_block = false, bool may_wait = true);

// Deliveries gathered while one frame is applied, handed to each mailbox in
// one batch (one lock, at most one wake-up) when the frame is done. Per
// mailbox the order is the frame's order.
class DeliveryBatch {
public:
    // `channel` is null for a directed send.
    void add(std::shared_ptr<Mailbox> mailbox, Message message, ChannelCounters* channel);
    // Delivers everything and counts the outcomes. When what is delivered
    // is a small part of the `frame_bytes` frame it came in, it is copied
    // out, so that a few messages cannot keep many large frames alive.
    void flush(Counters& counters, std::size_t frame_bytes);

private:
    struct Pending {
        std::shared_ptr<Mailbox> mailbox;
        std::vector<Message> messages;
        std::vector<ChannelCounters*> channels;
    };
    std::vector<Pending> pending_;
};

}  // namespace liminal::detail
