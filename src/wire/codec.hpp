#pragma once
// Bytes <-> wire messages. No sockets, no clock.

#include "wire/messages.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace liminal::detail::wire {

enum class DecodeError : std::uint8_t {
    none,
    empty,         // no bytes, or a version byte and nothing after it
    bad_version,   // first byte is not frame_version
    truncated,
    malformed,
    unknown_type,
    too_many_messages,  // more than max_messages_per_frame
};

const char* to_string(DecodeError error) noexcept;

// Appends messages to a frame. The frame starts with the version byte.
class FrameWriter {
public:
    FrameWriter() { clear(); }

    void add(const Hello& message);
    void add(const Welcome& message);
    void add(const Auth& message);
    void add(const Bye& message);
    void add(const ByeAck& message);
    void add(const Leaving& message);
    void add(const Peers& message);
    void add(const Send& message);
    void add(const Publish& message);
    void add(const Delta& message);
    void add(const Digest& message);
    void add(const Resync& message);
    void add(const Snapshot& message);
    void add(const DigestAck& message);
    void add(const WireMessage& message);
    // A message already encoded with encode_message (encode once, send to many).
    void add_encoded(std::string_view message_bytes);

    std::size_t size() const noexcept { return bytes_.size(); }
    std::size_t messages() const noexcept { return messages_; }
    bool empty() const noexcept { return messages_ == 0; }
    const std::string& bytes() const noexcept { return bytes_; }
    // Hands the frame over and starts a new one.
    std::string take();
    void clear();

private:
    std::string bytes_;
    std::size_t messages_ = 0;
};

// A single message encoded as a frame of its own.
std::string encode_frame(const WireMessage& message);

// Decodes every message of `frame` into `out` (cleared first). On an error
// `out` is left empty: either the whole frame is good or none of it is.
// Decoded Send payloads are views into `frame`.
DecodeError decode_frame(std::string_view frame, std::vector<WireMessage>& out);

// PUBLISH's fixed fields, for append_publish.
struct PublishFields {
    std::string_view channel;
    std::uint64_t from_id = 0;
    MessageId id{};
    std::uint64_t sequence = 0;
    std::uint64_t timestamp_us = 0;
};

// The hot path's encoders: one SEND or PUBLISH appended to `out` (no version
// byte) straight from the caller's data, without building a wire struct.
// The bytes are those FrameWriter::add writes for the same message.
void append_send(std::string& out, std::uint64_t to_creation, std::uint64_t to_id, std::uint64_t from_id,
                 const Headers& headers, std::string_view payload);
void append_publish(std::string& out, const PublishFields& fields, const Headers& headers, std::string_view payload,
                    std::span<const MessageId> parents);

// Why a message cannot go on the wire, checked by the API before the message
// can enter a frame: the decoder would refuse it, and with it every message
// packed into the same frame.
enum class Refusal : std::uint8_t {
    none,
    too_many_headers,   // more than max_headers
    too_many_parents,   // more than max_parents
    bad_name,           // a name empty or over max_name_bytes
    too_large,          // its frame would exceed the maximum frame size
};
const char* to_string(Refusal refusal) noexcept;

Refusal check_send(const Headers& headers, std::string_view payload, std::size_t max_frame_bytes);
Refusal check_publish(const PublishFields& fields, const Headers& headers, std::string_view payload,
                      std::size_t parents, std::size_t max_frame_bytes);
// A scope, group or channel name as the wire carries it.
bool is_valid_name(std::string_view name) noexcept;

// The bytes of one message without the frame's version byte (HELLO's proof
// binds the exact bytes that were sent).
std::string encode_message(const WireMessage& message);

}  // namespace liminal::detail::wire
