#pragma once
// What a mailbox receives.

#include <liminal/groups.hpp>
#include <liminal/pid.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace liminal {

using Headers = std::map<std::string, std::string>;

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
    // Everything `from`, `headers` (null: none), `payload` and `envelope`
    // (null: a directed send) refer to lives as long as `owner` does.
    Message(std::shared_ptr<const void> owner, const Pid* from, const Headers* headers, std::string_view payload,
            const Envelope* envelope);

    // An empty Pid for a default-constructed message.
    const Pid& from() const noexcept;
    const Headers& headers() const noexcept;
    // Valid as long as this message (or a copy of it) lives.
    std::string_view payload() const noexcept { return payload_; }
    // The channel envelope for a published message; null for a directed send.
    const Envelope* envelope() const noexcept { return envelope_; }

private:
    std::shared_ptr<const void> owner_;  // keeps everything below alive
    const Pid* from_ = nullptr;
    const Headers* headers_ = nullptr;   // null: none
    std::string_view payload_;
    const Envelope* envelope_ = nullptr;
};

}  // namespace liminal
