#include <liminal/events.hpp>
#include <liminal/message.hpp>
#include <liminal/pid.hpp>

#include <charconv>
#include <optional>

namespace liminal {
namespace {

bool parse_u64(std::string_view text, std::uint64_t& out) {
    if (text.empty() || text.size() > 20) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

bool is_valid_node_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 128) return false;
    const auto at = name.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 == name.size()) return false;
    if (name.find('@', at + 1) != std::string_view::npos) return false;
    for (const char c : name) {
        if (c <= ' ' || c > '~' || c == '<' || c == '>') return false;
    }
    return true;
}

std::string Pid::to_string() const {
    return "<" + node + "." + std::to_string(creation) + "." + std::to_string(id) + ">";
}

std::optional<Pid> Pid::parse(std::string_view text) {
    if (text.size() < 2 || text.front() != '<' || text.back() != '>') return std::nullopt;
    text = text.substr(1, text.size() - 2);
    // The node name itself contains dots (its host), so split from the right.
    const auto last = text.rfind('.');
    if (last == std::string_view::npos) return std::nullopt;
    const auto middle = text.rfind('.', last - 1);
    if (middle == std::string_view::npos || last == 0) return std::nullopt;
    Pid pid;
    if (!parse_u64(text.substr(last + 1), pid.id)) return std::nullopt;
    if (!parse_u64(text.substr(middle + 1, last - middle - 1), pid.creation)) return std::nullopt;
    pid.node = std::string(text.substr(0, middle));
    if (!is_valid_node_name(pid.node) || !pid.valid()) return std::nullopt;
    return pid;
}

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
    return Message(std::move(owned), from, headers, payload, envelope);
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

const char* to_string(PeerState state) noexcept {
    switch (state) {
    case PeerState::connecting: return "connecting";
    case PeerState::up: return "up";
    case PeerState::down: return "down";
    }
    return "?";
}

const char* to_string(PeerEventKind kind) noexcept {
    switch (kind) {
    case PeerEventKind::up: return "up";
    case PeerEventKind::down: return "down";
    case PeerEventKind::rejected: return "rejected";
    }
    return "?";
}

const char* to_string(DownReason reason) noexcept {
    switch (reason) {
    case DownReason::none: return "none";
    case DownReason::link_lost: return "link_lost";
    case DownReason::bye: return "bye";
    case DownReason::restarted: return "restarted";
    }
    return "?";
}

}  // namespace liminal
