#include <liminal/message.hpp>

#include "node/message_parts.hpp"

#include <optional>

namespace liminal {
namespace {

const Pid no_pid{};
const Headers no_headers{};

// What the convenience constructors own, in one allocation.
struct OwnedParts {
    Pid from;
    Headers headers;
    std::string payload;                    // when copied
    std::shared_ptr<const void> owner;      // when the payload lives elsewhere
    std::shared_ptr<const Envelope> envelope;
};

// `payload`: a view into parts.owner's memory; none: parts.payload, the copy.
Message owning(OwnedParts parts, std::optional<std::string_view> view) {
    auto owned = std::make_shared<const OwnedParts>(std::move(parts));
    const std::string_view payload = view ? *view : std::string_view(owned->payload);
    const Headers* headers = owned->headers.empty() ? nullptr : &owned->headers;
    const Envelope* envelope = owned->envelope.get();
    const Pid* from = &owned->from;
    return detail::MessageParts::make(std::move(owned), from, headers, payload, envelope);
}

}  // namespace

Message::Message(Pid from, Headers headers, std::string_view payload)
    : Message(owning(OwnedParts{std::move(from), std::move(headers), std::string(payload), nullptr, nullptr}, std::nullopt)) {}

Message::Message(Pid from, Headers headers, std::shared_ptr<const void> owner, std::string_view payload)
    : Message(owning(OwnedParts{std::move(from), std::move(headers), {}, std::move(owner), nullptr}, payload)) {}

Message::Message(Pid from, Headers headers, std::shared_ptr<const void> owner, std::string_view payload,
                 std::shared_ptr<const Envelope> envelope)
    : Message(owning(OwnedParts{std::move(from), std::move(headers), {}, std::move(owner), std::move(envelope)},
                     payload)) {}

Message::Message(std::shared_ptr<const void> owner, const Pid* from, const Headers* headers, std::string_view payload,
                 const Envelope* envelope)
    : owner_(std::move(owner)), from_(from), headers_(headers), payload_(payload), envelope_(envelope) {}

const Pid& Message::from() const noexcept { return from_ ? *from_ : no_pid; }

const Headers& Message::headers() const noexcept { return headers_ ? *headers_ : no_headers; }

std::string Envelope::id_hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const auto byte : id) {
        out += digits[byte >> 4];
        out += digits[byte & 15];
    }
    return out;
}

}  // namespace liminal
