#include "wire/codec.hpp"

#include "wire/reader.hpp"

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

// Upper bounds of encoded sizes: a str/bin/map/array header takes at most 5 bytes.
constexpr std::size_t header_bound = 5;
std::size_t headers_bound(const Headers& headers) {
    std::size_t bound = header_bound;
    for (const auto& [key, value] : headers) bound += 2 * header_bound + key.size() + value.size();
    return bound;
}

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

template <typename P>
void pack_str(P& p, std::string_view s) {
    p.pack_str(static_cast<std::uint32_t>(s.size()));
    p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

template <typename P>
void pack_bin(P& p, const void* data, std::size_t size) {
    p.pack_bin(static_cast<std::uint32_t>(size));
    p.pack_bin_body(static_cast<const char*>(data), static_cast<std::uint32_t>(size));
}

template <typename P>
void pack_header(P& p, MessageType type, std::uint32_t fields) {
    p.pack_array(fields + 1);
    p.pack_uint8(static_cast<std::uint8_t>(type));
}

template <typename P>
void pack_peers(P& p, const std::vector<PeerAddress>& peers) {
    p.pack_array(static_cast<std::uint32_t>(peers.size()));
    for (const auto& peer : peers) {
        p.pack_array(4);
        pack_str(p, peer.name);
        p.pack_uint64(peer.creation);
        pack_str(p, peer.router);
        pack_str(p, peer.pub);
    }
}

template <typename P>
void pack_ids(P& p, const std::vector<std::uint64_t>& ids) {
    p.pack_array(static_cast<std::uint32_t>(ids.size()));
    for (const auto id : ids) p.pack_uint64(id);
}

template <typename P>
void pack_headers(P& p, const Headers& headers) {
    p.pack_map(static_cast<std::uint32_t>(headers.size()));
    for (const auto& [key, value] : headers) {
        pack_str(p, key);
        pack_str(p, value);
    }
}

template <typename P>
void pack_nonce(P& p, const Nonce& nonce) { pack_bin(p, nonce.data(), nonce.size()); }

template <typename P>
void pack_proof(P& p, const Proof& proof) { pack_bin(p, proof.data(), proof.size()); }

// Readers of the shared field types, each enforcing its limit.
bool read_string(Reader& r, std::string& out) {
    std::string_view view;
    if (!r.str(view)) return false;
    out.assign(view);
    return true;
}

bool read_peers(Reader& r, std::vector<PeerAddress>& out) {
    std::uint32_t count = 0;
    if (!r.array(count)) return false;
    if (count > max_peers_in_hello) return r.fail();
    out.resize(count);
    for (auto& peer : out) {
        std::uint32_t fields = 0;
        if (!r.array(fields)) return false;
        if (fields != 4) return r.fail();
        if (!read_string(r, peer.name) || !r.uint(peer.creation) || !read_string(r, peer.router) ||
            !read_string(r, peer.pub))
            return false;
    }
    return true;
}

bool read_headers(Reader& r, Headers& headers) {
    std::uint32_t count = 0;
    if (!r.map(count)) return false;
    if (count > max_headers) return r.fail();
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string_view key, value;
        if (!r.str(key) || !r.str(value)) return false;
        headers.insert_or_assign(std::string(key), std::string(value));
    }
    return true;
}

bool valid_name(std::string_view name) { return !name.empty() && name.size() <= max_name_bytes; }

bool read_name(Reader& r, std::string_view& out) { return r.str(out) && (valid_name(out) || r.fail()); }

bool read_name(Reader& r, std::string& out) {
    std::string_view view;
    if (!read_name(r, view)) return false;
    out.assign(view);
    return true;
}

// Local ids of pids: never 0.
bool read_ids(Reader& r, std::vector<std::uint64_t>& ids) {
    std::uint32_t count = 0;
    if (!r.array(count)) return false;
    ids.resize(count);
    for (auto& id : ids) {
        if (!r.uint(id)) return false;
        if (id == 0) return r.fail();
    }
    return true;
}

bool read_parents(Reader& r, std::vector<MessageId>& parents) {
    std::uint32_t count = 0;
    if (!r.array(count)) return false;
    if (count > max_parents) return r.fail();
    parents.resize(count);
    for (auto& parent : parents) {
        if (!r.fixed_bin(parent.data(), parent.size())) return false;
    }
    return true;
}

bool read_flag(Reader& r, bool& out) {
    std::uint64_t value = 0;
    if (!r.uint(value)) return false;
    if (value > 1) return r.fail();
    out = value == 1;
    return true;
}

// The message table: for each message its type id, its number of fields
// after the type id, and how those fields are packed and read, in the same
// order (docs/PROTOCOL.md lists the same fields). pack() writes the fields
// only; read() reads them and checks every limit.
template <typename T>
struct Codec;

template <>
struct Codec<Hello> {
    static constexpr MessageType type = MessageType::hello;
    static constexpr std::uint32_t fields = 7;
    template <typename P>
    static void pack(P& p, const Hello& m) {
        p.pack_uint64(m.protocol);
        pack_str(p, m.name);
        p.pack_uint64(m.creation);
        pack_str(p, m.router);
        pack_str(p, m.pub);
        pack_peers(p, m.peers);
        pack_nonce(p, m.nonce);
    }
    static bool read(Reader& r, Hello& m) {
        return r.uint(m.protocol) && read_string(r, m.name) && r.uint(m.creation) && read_string(r, m.router) &&
               read_string(r, m.pub) && read_peers(r, m.peers) && r.fixed_bin(m.nonce.data(), m.nonce.size());
    }
};

template <>
struct Codec<Welcome> {
    static constexpr MessageType type = MessageType::welcome;
    static constexpr std::uint32_t fields = 7;
    template <typename P>
    static void pack(P& p, const Welcome& m) {
        pack_str(p, m.name);
        p.pack_uint64(m.creation);
        pack_str(p, m.router);
        pack_str(p, m.pub);
        pack_peers(p, m.peers);
        pack_nonce(p, m.nonce);
        pack_proof(p, m.proof);
    }
    static bool read(Reader& r, Welcome& m) {
        return read_string(r, m.name) && r.uint(m.creation) && read_string(r, m.router) && read_string(r, m.pub) &&
               read_peers(r, m.peers) && r.fixed_bin(m.nonce.data(), m.nonce.size()) &&
               r.fixed_bin(m.proof.data(), m.proof.size());
    }
};

template <>
struct Codec<Auth> {
    static constexpr MessageType type = MessageType::auth;
    static constexpr std::uint32_t fields = 1;
    template <typename P>
    static void pack(P& p, const Auth& m) { pack_proof(p, m.proof); }
    static bool read(Reader& r, Auth& m) { return r.fixed_bin(m.proof.data(), m.proof.size()); }
};

template <>
struct Codec<Bye> {
    static constexpr MessageType type = MessageType::bye;
    static constexpr std::uint32_t fields = 2;
    template <typename P>
    static void pack(P& p, const Bye& m) {
        pack_str(p, m.name);
        p.pack_uint64(m.creation);
    }
    static bool read(Reader& r, Bye& m) { return read_string(r, m.name) && r.uint(m.creation); }
};

template <>
struct Codec<ByeAck> {
    static constexpr MessageType type = MessageType::bye_ack;
    static constexpr std::uint32_t fields = 0;
    template <typename P>
    static void pack(P&, const ByeAck&) {}
    static bool read(Reader&, ByeAck&) { return true; }
};

template <>
struct Codec<Peers> {
    static constexpr MessageType type = MessageType::peers;
    static constexpr std::uint32_t fields = 1;
    template <typename P>
    static void pack(P& p, const Peers& m) { pack_peers(p, m.peers); }
    static bool read(Reader& r, Peers& m) { return read_peers(r, m.peers); }
};

template <>
struct Codec<Send> {
    static constexpr MessageType type = MessageType::send;
    static constexpr std::uint32_t fields = 5;
    // The hot path packs straight from the caller's data (append_send).
    template <typename P>
    static void pack_parts(P& p, std::uint64_t to_creation, std::uint64_t to_id, std::uint64_t from_id,
                           const Headers& headers, std::string_view payload) {
        p.pack_uint64(to_creation);
        p.pack_uint64(to_id);
        p.pack_uint64(from_id);
        pack_headers(p, headers);
        pack_bin(p, payload.data(), payload.size());
    }
    template <typename P>
    static void pack(P& p, const Send& m) { pack_parts(p, m.to_creation, m.to_id, m.from_id, m.headers, m.payload); }
    static bool read(Reader& r, Send& m) {
        return r.uint(m.to_creation) && r.uint(m.to_id) && r.uint(m.from_id) && read_headers(r, m.headers) &&
               r.bin(m.payload);
    }
    // An upper bound of the encoded size, type and array header included.
    static std::size_t bound(const Headers& headers, std::string_view payload) {
        return 2 + 3 * 9 + headers_bound(headers) + header_bound + payload.size();
    }
};

template <>
struct Codec<Publish> {
    static constexpr MessageType type = MessageType::publish;
    static constexpr std::uint32_t fields = 8;
    template <typename P>
    static void pack_parts(P& p, const PublishFields& m, const Headers& headers, std::string_view payload,
                           std::span<const MessageId> parents) {
        pack_str(p, m.channel);
        p.pack_uint64(m.from_id);
        pack_bin(p, m.id.data(), m.id.size());
        p.pack_uint64(m.sequence);
        p.pack_uint64(m.timestamp_us);
        pack_headers(p, headers);
        pack_bin(p, payload.data(), payload.size());
        p.pack_array(static_cast<std::uint32_t>(parents.size()));
        for (const auto& parent : parents) pack_bin(p, parent.data(), parent.size());
    }
    template <typename P>
    static void pack(P& p, const Publish& m) {
        pack_parts(p, PublishFields{m.channel, m.from_id, m.id, m.sequence, m.timestamp_us}, m.headers, m.payload,
                   m.parents);
    }
    static bool read(Reader& r, Publish& m) {
        return read_name(r, m.channel) && r.uint(m.from_id) && r.fixed_bin(m.id.data(), m.id.size()) &&
               r.uint(m.sequence) && r.uint(m.timestamp_us) && read_headers(r, m.headers) && r.bin(m.payload) &&
               read_parents(r, m.parents);
    }
    static std::size_t bound(const PublishFields& m, const Headers& headers, std::string_view payload,
                             std::size_t parents) {
        return 2 + header_bound + m.channel.size() + 9 + header_bound + m.id.size() + 2 * 9 +
               headers_bound(headers) + header_bound + payload.size() + header_bound +
               parents * (header_bound + sizeof(MessageId));
    }
};

// JOIN and LEAVE share one shape; the type id carries `join`.
template <>
struct Codec<Delta> {
    static constexpr MessageType type = MessageType::join;
    static constexpr MessageType other_type = MessageType::leave;
    static constexpr std::uint32_t fields = 6;
    static MessageType type_of(const Delta& m) { return m.join ? type : other_type; }
    template <typename P>
    static void pack(P& p, const Delta& m) {
        pack_str(p, m.origin);
        p.pack_uint64(m.creation);
        p.pack_uint64(m.seq);
        pack_str(p, m.scope);
        pack_str(p, m.group);
        pack_ids(p, m.ids);
    }
    static bool read(Reader& r, Delta& m) {
        return read_string(r, m.origin) && r.uint(m.creation) && r.uint(m.seq) && read_name(r, m.scope) &&
               read_name(r, m.group) && read_ids(r, m.ids);
    }
};

template <>
struct Codec<Digest> {
    static constexpr MessageType type = MessageType::digest;
    static constexpr std::uint32_t fields = 4;
    template <typename P>
    static void pack(P& p, const Digest& m) {
        pack_str(p, m.origin);
        p.pack_uint64(m.creation);
        p.pack_uint64(m.seq);
        p.pack_uint64(m.hash);
    }
    static bool read(Reader& r, Digest& m) {
        return read_string(r, m.origin) && r.uint(m.creation) && r.uint(m.seq) && r.uint(m.hash);
    }
};

template <>
struct Codec<Resync> {
    static constexpr MessageType type = MessageType::resync;
    static constexpr std::uint32_t fields = 0;
    template <typename P>
    static void pack(P&, const Resync&) {}
    static bool read(Reader&, Resync&) { return true; }
};

template <>
struct Codec<Snapshot> {
    static constexpr MessageType type = MessageType::snapshot;
    static constexpr std::uint32_t fields = 4;
    template <typename P>
    static void pack(P& p, const Snapshot& m) {
        p.pack_uint64(m.seq);
        p.pack_uint64(m.part);
        p.pack_uint8(m.last ? 1 : 0);
        p.pack_array(static_cast<std::uint32_t>(m.groups.size()));
        for (const auto& group : m.groups) {
            p.pack_array(3);
            pack_str(p, group.scope);
            pack_str(p, group.group);
            pack_ids(p, group.ids);
        }
    }
    static bool read(Reader& r, Snapshot& m) {
        std::uint32_t count = 0;
        if (!r.uint(m.seq) || !r.uint(m.part) || !read_flag(r, m.last) || !r.array(count)) return false;
        m.groups.resize(count);
        for (auto& group : m.groups) {
            std::uint32_t fields = 0;
            if (!r.array(fields)) return false;
            if (fields != 3) return r.fail();
            if (!read_name(r, group.scope) || !read_name(r, group.group) || !read_ids(r, group.ids)) return false;
        }
        return true;
    }
};

template <>
struct Codec<DigestAck> {
    static constexpr MessageType type = MessageType::digest_ack;
    static constexpr std::uint32_t fields = 2;
    template <typename P>
    static void pack(P& p, const DigestAck& m) {
        p.pack_uint64(m.creation);
        p.pack_uint64(m.seq);
    }
    static bool read(Reader& r, DigestAck& m) { return r.uint(m.creation) && r.uint(m.seq); }
};

template <typename T>
MessageType type_of(const T&) { return Codec<T>::type; }
MessageType type_of(const Delta& m) { return Codec<Delta>::type_of(m); }

template <typename T>
bool has_type(std::uint64_t type) { return type == static_cast<std::uint8_t>(Codec<T>::type); }
template <>
bool has_type<Delta>(std::uint64_t type) {
    return type == static_cast<std::uint8_t>(Codec<Delta>::type) ||
           type == static_cast<std::uint8_t>(Codec<Delta>::other_type);
}

template <typename P, typename T>
void pack_message(P& p, const T& m) {
    pack_header(p, type_of(m), Codec<T>::fields);
    Codec<T>::pack(p, m);
}

template <typename T>
bool read_message(Reader& r, std::uint64_t type, std::uint32_t fields, std::vector<WireMessage>& out) {
    if (fields != Codec<T>::fields) return r.fail();
    T message{};
    if constexpr (std::is_same_v<T, Delta>) message.join = type == static_cast<std::uint8_t>(Codec<Delta>::type);
    if (!Codec<T>::read(r, message)) return false;
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
