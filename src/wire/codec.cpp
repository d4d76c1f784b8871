#include "wire/codec.hpp"

#include "wire/message_table.hpp"

#include <msgpack.hpp>

#include <algorithm>
#include <cstring>

namespace liminal::detail::wire {
namespace {

// msgpack::packer's output stream: appends to a string, so messages are
// encoded straight into the frame that will be sent.
struct StringSink {
    std::string* out;
    void write(const char* data, std::size_t size) { out->append(data, size); }
};
using Packer = msgpack::packer<StringSink>;

// The hot path's output stream: writes into room the caller reserved, sized
// by an upper bound of the message (see append_bounded).
struct RawSink {
    char* at;
    void write(const char* data, std::size_t size) {
        std::memcpy(at, data, size);
        at += size;
    }
};
using RawPacker = msgpack::packer<RawSink>;

// Appends one message to `out` through a RawPacker: `bound` must be at least
// its encoded size.
template <typename Pack>
void append_bounded(std::string& out, std::size_t bound, Pack&& pack) {
    const std::size_t start = out.size();
    out.resize(start + bound);
    RawSink sink{out.data() + start};
    RawPacker packer(sink);
    pack(packer);
    out.resize(static_cast<std::size_t>(sink.at - out.data()));
}

// The fields a later protocol version appended to T (Codec<T>::appended).
template <typename T>
constexpr std::uint32_t appended_fields() {
    if constexpr (requires { Codec<T>::appended; })
        return Codec<T>::appended;
    else
        return 0;
}

template <typename P, typename T>
void pack_message(P& p, const T& m) {
    pack_header(p, type_of(m), Codec<T>::fields + appended_fields<T>());
    Codec<T>::pack(p, m);
}

template <typename T>
bool read_message(Reader& r, std::uint64_t type, std::uint32_t fields, std::vector<WireMessage>& out) {
    if (fields < Codec<T>::fields) return r.fail();
    T message{};
    if constexpr (std::is_same_v<T, Delta>) message.join = type == static_cast<std::uint8_t>(Codec<Delta>::type);
    if (!Codec<T>::read(r, message)) return false;
    std::uint32_t extra = fields - Codec<T>::fields;
    if constexpr (appended_fields<T>() > 0) {
        const std::uint32_t present = std::min(extra, appended_fields<T>());
        if (!Codec<T>::read_appended(r, message, present)) return false;
        extra -= present;
    }
    // Fields a later protocol version appended (fields are only ever
    // appended, never reordered): stepped over.
    for (; extra > 0; --extra) {
        if (!r.skip()) return false;
    }
    out.emplace_back(std::move(message));
    return true;
}

// Reads one message of type `type`, looked up in the table; `known` says
// whether the table has that type at all.
template <std::size_t... I>
bool read_any(Reader& r, std::uint64_t type, std::uint32_t fields, std::vector<WireMessage>& out, bool& known,
              std::index_sequence<I...>) {
    bool good = false;
    known = ((has_type<std::variant_alternative_t<I, WireMessage>>(type) &&
              (good = read_message<std::variant_alternative_t<I, WireMessage>>(r, type, fields, out), true)) ||
             ...);
    return good;
}

template <typename T>
void append(std::string& bytes, std::size_t& messages, const T& message) {
    StringSink sink{&bytes};
    Packer packer(sink);
    pack_message(packer, message);
    ++messages;
}

DecodeError to_decode_error(ReadError error) {
    return error == ReadError::truncated ? DecodeError::truncated : DecodeError::malformed;
}

}  // namespace

const char* to_string(DecodeError error) noexcept {
    switch (error) {
    case DecodeError::none: return "none";
    case DecodeError::empty: return "empty";
    case DecodeError::bad_version: return "bad_version";
    case DecodeError::truncated: return "truncated";
    case DecodeError::malformed: return "malformed";
    case DecodeError::unknown_type: return "unknown_type";
    case DecodeError::too_many_messages: return "too_many_messages";
    }
    return "?";
}

void FrameWriter::clear() {
    bytes_.clear();
    bytes_.push_back(static_cast<char>(frame_version));
    messages_ = 0;
}

std::string FrameWriter::take() {
    std::string frame = std::move(bytes_);
    bytes_ = std::string();
    // The next frame will likely be as large: start it with the room the last one needed.
    bytes_.reserve(std::max<std::size_t>(frame.size(), 256));
    clear();
    return frame;
}

void FrameWriter::add(const Hello& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Welcome& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Auth& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Bye& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const ByeAck& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Leaving& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Peers& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Send& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Publish& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Delta& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Digest& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Resync& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const Snapshot& message) { append(bytes_, messages_, message); }
void FrameWriter::add(const DigestAck& message) { append(bytes_, messages_, message); }

void FrameWriter::add(const WireMessage& message) {
    std::visit([this](const auto& m) { add(m); }, message);
}

void FrameWriter::add_encoded(std::string_view message_bytes) {
    bytes_.append(message_bytes);
    ++messages_;
}

void append_send(std::string& out, std::uint64_t to_creation, std::uint64_t to_id, std::uint64_t from_id,
                 const Headers& headers, std::string_view payload) {
    append_bounded(out, Codec<Send>::bound(headers, payload), [&](RawPacker& p) {
        pack_header(p, Codec<Send>::type, Codec<Send>::fields);
        Codec<Send>::pack_parts(p, to_creation, to_id, from_id, headers, payload);
    });
}

void append_publish(std::string& out, const PublishFields& fields, const Headers& headers, std::string_view payload,
                    std::span<const MessageId> parents) {
    append_bounded(out, Codec<Publish>::bound(fields, headers, payload, parents.size()), [&](RawPacker& p) {
        pack_header(p, Codec<Publish>::type, Codec<Publish>::fields);
        Codec<Publish>::pack_parts(p, fields, headers, payload, parents);
    });
}

namespace {

// The frame a message of `bound` bytes at most would need, version byte included.
bool fits(std::size_t bound, std::size_t max_frame_bytes) { return bound < max_frame_bytes; }

Refusal check_headers(const Headers& headers) {
    if (headers.size() > max_headers) return Refusal::too_many_headers;
    for (const auto& [key, value] : headers) {
        if (key.size() > max_length || value.size() > max_length) return Refusal::too_large;
    }
    return Refusal::none;
}

}  // namespace

Refusal check_send(const Headers& headers, std::string_view payload, std::size_t max_frame_bytes) {
    if (const auto refusal = check_headers(headers); refusal != Refusal::none) return refusal;
    return fits(Codec<Send>::bound(headers, payload), max_frame_bytes) ? Refusal::none : Refusal::too_large;
}

Refusal check_publish(const PublishFields& fields, const Headers& headers, std::string_view payload,
                      std::size_t parents, std::size_t max_frame_bytes) {
    if (!valid_name(fields.channel)) return Refusal::bad_name;
    if (parents > max_parents) return Refusal::too_many_parents;
    if (const auto refusal = check_headers(headers); refusal != Refusal::none) return refusal;
    return fits(Codec<Publish>::bound(fields, headers, payload, parents), max_frame_bytes) ? Refusal::none
                                                                                          : Refusal::too_large;
}

bool is_valid_name(std::string_view name) noexcept { return valid_name(name); }

const char* to_string(Refusal refusal) noexcept {
    switch (refusal) {
    case Refusal::none: return "none";
    case Refusal::too_many_headers: return "more headers than a message carries";
    case Refusal::too_many_parents: return "more causal parents than a message carries";
    case Refusal::bad_name: return "a name must be 1 to 255 bytes";
    case Refusal::too_large: return "larger than the maximum frame";
    }
    return "?";
}

std::string encode_frame(const WireMessage& message) {
    FrameWriter writer;
    writer.add(message);
    return writer.take();
}

std::string encode_message(const WireMessage& message) {
    std::string bytes;
    std::size_t count = 0;
    std::visit([&](const auto& m) { append(bytes, count, m); }, message);
    return bytes;
}

DecodeError decode_frame(std::string_view frame, std::vector<WireMessage>& out) {
    out.clear();
    if (frame.empty()) return DecodeError::empty;
    if (static_cast<std::uint8_t>(frame[0]) != frame_version) return DecodeError::bad_version;
    Reader r(frame.substr(1));
    if (r.at_end()) return DecodeError::empty;
    while (!r.at_end()) {
        if (out.size() == max_messages_per_frame) {
            out.clear();
            return DecodeError::too_many_messages;
        }
        std::uint32_t fields = 0;
        std::uint64_t type = 0;
        if (!r.array(fields) || fields == 0 || !r.uint(type)) {
            out.clear();
            return r.ok() ? DecodeError::malformed : to_decode_error(r.error());
        }
        --fields;
        bool known = true;
        const bool good = read_any(r, type, fields, out, known, std::make_index_sequence<std::variant_size_v<WireMessage>>{});
        if (!known) {
            out.clear();
            return DecodeError::unknown_type;
        }
        if (!good) {
            out.clear();
            return to_decode_error(r.error());
        }
    }
    return DecodeError::none;
}

}  // namespace liminal::detail::wire

