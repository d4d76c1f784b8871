#pragma once
// What a mailbox receives: a message, and for a published one its channel envelope.

#include <liminal/pid.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace liminal {

using Headers = std::map<std::string, std::string>;

using MessageId = std::array<std::uint8_t, 16>;

// The channel envelope of a published message (Message::envelope()).
struct Envelope {
    MessageId id{};                    // unique per message
    std::string channel;
    std::uint64_t sequence = 0;        // per sender, from 1
    std::uint64_t timestamp_us = 0;    // sender's clock, µs since the Unix epoch
    std::vector<MessageId> parents;    // optional causal parents

    std::string id_hex() const;
};

namespace detail { struct MessageParts; }

// One delivered message. Copies are cheap: one reference-counted owner
// keeps the payload, sender, headers and envelope alive, and is shared with
// the frame the message arrived in and every other delivery of it; nothing
// is copied per delivery.
class Message {
public:
    Message() = default;
    // A message that owns copies of everything.
    Message(Pid from, Headers headers, std::string_view payload);
    // A message whose payload is a view into memory kept alive by `owner`.
    Message(Pid from, Headers headers, std::shared_ptr<const void> owner, std::string_view payload);
    // A channel message.
    Message(Pid from, Headers headers, std::shared_ptr<const void> owner, std::string_view payload,
            std::shared_ptr<const Envelope> envelope);
    // An empty Pid for a default-constructed message.
    const Pid& from() const noexcept;
    const Headers& headers() const noexcept;
    // Valid as long as this message (or a copy of it) lives.
    std::string_view payload() const noexcept { return payload_; }
    // The channel envelope for a published message; null for a directed send.
    const Envelope* envelope() const noexcept { return envelope_; }

private:
    friend struct detail::MessageParts;
    // Everything `from`, `headers` (null: none), `payload` and `envelope`
    // (null: a directed send) refer to lives as long as `owner` does.
    Message(std::shared_ptr<const void> owner, const Pid* from, const Headers* headers, std::string_view payload,
            const Envelope* envelope);

    std::shared_ptr<const void> owner_;  // keeps everything below alive
    const Pid* from_ = nullptr;
    const Headers* headers_ = nullptr;   // null: none
    std::string_view payload_;
    const Envelope* envelope_ = nullptr;
};

}  // namespace liminal
