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

// One delivered message. Copies are cheap: the payload bytes are shared with
// the frame they arrived in, and the sender, headers and envelope with every
// other delivery of the same message; nothing is copied per delivery.
class Message {
public:
    Message() = default;
    // A message that owns a copy of `payload`.
    Message(Pid from, Headers headers, std::string_view payload);
    // A message whose payload is a view into memory kept alive by `owner`.
    Message(Pid from, Headers headers, std::shared_ptr<const void> owner, std::string_view payload);
    // A channel message: the envelope is shared by every local delivery.
    Message(Pid from, Headers headers, std::shared_ptr<const void> owner, std::string_view payload,
            std::shared_ptr<const Envelope> envelope);
    // Sender and headers shared with other messages; null headers mean none.
    Message(std::shared_ptr<const Pid> from, std::shared_ptr<const Headers> headers,
            std::shared_ptr<const void> owner, std::string_view payload,
            std::shared_ptr<const Envelope> envelope = nullptr);

    // An empty Pid for a default-constructed message.
    const Pid& from() const noexcept;
    const Headers& headers() const noexcept;
    // Valid as long as this message (or a copy of it) lives.
    std::string_view payload() const noexcept { return payload_; }
    // The channel envelope for a published message; null for a directed send.
    const Envelope* envelope() const noexcept { return envelope_.get(); }

    // Null for no headers, else `headers` moved into shared storage.
    static std::shared_ptr<const Headers> share(Headers&& headers);

private:
    std::shared_ptr<const Pid> from_;
    std::shared_ptr<const Headers> headers_;  // null: none
    std::shared_ptr<const void> owner_;       // keeps payload_ alive
    std::string_view payload_;
    std::shared_ptr<const Envelope> envelope_;
};

}  // namespace liminal
