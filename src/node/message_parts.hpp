#pragma once
// The node's own way to build a Message from parts that live in a block it
// shares (a received frame, a local publish): no copy per delivery. Not
// public: a user builds messages with Message's public constructors.

#include <liminal/message.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace liminal::detail {

struct MessageParts {
    // Everything `from`, `headers` (null: none), `payload` and `envelope`
    // (null: a directed send) point to must live as long as `owner` does.
    static Message make(std::shared_ptr<const void> owner, const Pid* from, const Headers* headers,
                        std::string_view payload, const Envelope* envelope) {
        return Message(std::move(owner), from, headers, payload, envelope);
    }
    // A message that owns copies of everything: nothing of the frame it came
    // in stays alive for it.
    static Message copy(const Message& message) {
        auto payload = std::make_shared<const std::string>(message.payload());
        if (const Envelope* envelope = message.envelope())
            return Message(message.from(), message.headers(), payload, *payload, std::make_shared<const Envelope>(*envelope));
        return Message(message.from(), message.headers(), payload, *payload);
    }
};

}  // namespace liminal::detail
