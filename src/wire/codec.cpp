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
void pack_type(P& p, MessageType type, std::uint32_t fields) {
    p.pack_array(fields + 1);
    p.pack_uint8(static_cast<std::uint8_t>(type));
}

void pack_peers(Packer& p, const std::vector<PeerAddress>& peers) {
    p.pack_array(static_cast<std::uint32_t>(peers.size()));
    for (const auto& peer : peers) {
        p.pack_array(4);
        pack_str(p, peer.name);
        p.pack_uint64(peer.creation);
        pack_str(p, peer.router);
        pack_str(p, peer.pub);
    }
}

void pack_ids(Packer& p, const std::vector<std::uint64_t>& ids) {
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

void pack(Packer& p, const Hello& m) {
    pack_type(p, MessageType::hello, 7);
    p.pack_uint64(m.protocol);
    pack_str(p, m.name);
    p.pack_uint64(m.creation);
    pack_str(p, m.router);
    pack_str(p, m.pub);
    pack_peers(p, m.peers);
    pack_bin(p, m.nonce.data(), m.nonce.size());
}

void pack(Packer& p, const Welcome& m) {
    pack_type(p, MessageType::welcome, 7);
    pack_str(p, m.name);
    p.pack_uint64(m.creation);
    pack_str(p, m.router);
    pack_str(p, m.pub);
    pack_peers(p, m.peers);
    pack_bin(p, m.nonce.data(), m.nonce.size());
    pack_bin(p, m.proof.data(), m.proof.size());
}

void pack(Packer& p, const Auth& m) {
    pack_type(p, MessageType::auth, 1);
    pack_bin(p, m.proof.data(), m.proof.size());
}

void pack(Packer& p, const Bye& m) {
    pack_type(p, MessageType::bye, 2);
    pack_str(p, m.name);
    p.pack_uint64(m.creation);
}

void pack(Packer& p, const ByeAck&) { pack_type(p, MessageType::bye_ack, 0); }

void pack(Packer& p, const Peers& m) {
    pack_type(p, MessageType::peers, 1);
    pack_peers(p, m.peers);
}

template <typename P>
void pack_send(P& p, std::uint64_t to_creation, std::uint64_t to_id, std::uint64_t from_id,
               const Headers& headers, std::string_view payload) {
    pack_type(p, MessageType::send, 5);
    p.pack_uint64(to_creation);
    p.pack_uint64(to_id);
    p.pack_uint64(from_id);
    pack_headers(p, headers);
    pack_bin(p, payload.data(), payload.size());
}

void pack(Packer& p, const Send& m) { pack_send(p, m.to_creation, m.to_id, m.from_id, m.headers, m.payload); }

template <typename P>
void pack_publish(P& p, const PublishFields& m, const Headers& headers, std::string_view payload,
                  std::span<const MessageId> parents) {
    pack_type(p, MessageType::publish, 8);
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

void pack(Packer& p, const Publish& m) {
    pack_publish(p, PublishFields{m.channel, m.from_id, m.id, m.sequence, m.timestamp_us}, m.headers, m.payload,
                 m.parents);
}

void pack(Packer& p, const Delta& m) {
    pack_type(p, m.join ? MessageType::join : MessageType::leave, 6);
    pack_str(p, m.origin);
    p.pack_uint64(m.creation);
    p.pack_uint64(m.seq);
    pack_str(p, m.scope);
    pack_str(p, m.group);
    pack_ids(p, m.ids);
}

void pack(Packer& p, const Digest& m) {
    pack_type(p, MessageType::digest, 4);
    pack_str(p, m.origin);
    p.pack_uint64(m.creation);
    p.pack_uint64(m.seq);
    p.pack_uint64(m.hash);
}

void pack(Packer& p, const Resync&) { pack_type(p, MessageType::resync, 0); }

void pack(Packer& p, const Snapshot& m) {
    pack_type(p, MessageType::snapshot, 4);
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

void pack(Packer& p, const DigestAck& m) {
    pack_type(p, MessageType::digest_ack, 2);
    p.pack_uint64(m.creation);
    p.pack_uint64(m.seq);
}

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

bool read(Reader& r, Hello& m) {
    return r.uint(m.protocol) && read_string(r, m.name) && r.uint(m.creation) && read_string(r, m.router) &&
           read_string(r, m.pub) && read_peers(r, m.peers) && r.fixed_bin(m.nonce.data(), m.nonce.size());
}

bool read(Reader& r, Welcome& m) {
    return read_string(r, m.name) && r.uint(m.creation) && read_string(r, m.router) && read_string(r, m.pub) &&
           read_peers(r, m.peers) && r.fixed_bin(m.nonce.data(), m.nonce.size()) &&
           r.fixed_bin(m.proof.data(), m.proof.size());
}

bool read(Reader& r, Auth& m) { return r.fixed_bin(m.proof.data(), m.proof.size()); }

bool read(Reader& r, Bye& m) { return read_string(r, m.name) && r.uint(m.creation); }

bool read(Reader&, ByeAck&) { return true; }

bool read(Reader& r, Peers& m) { return read_peers(r, m.peers); }

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

// A scope, group or channel name: non-empty and bounded.
bool read_name(Reader& r, std::string_view& out) {
    if (!r.str(out)) return false;
    return (!out.empty() && out.size() <= max_name_bytes) || r.fail();
}

bool read_name(Reader& r, std::string& out) {
    std::string_view view;
    if (!read_name(r, view)) return false;
    out.assign(view);
    return true;
}

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

bool read(Reader& r, Send& m) {
    return r.uint(m.to_creation) && r.uint(m.to_id) && r.uint(m.from_id) && read_headers(r, m.headers) &&
           r.bin(m.payload);
}

bool read(Reader& r, Publish& m) {
    if (!read_name(r, m.channel) || !r.uint(m.from_id) || !r.fixed_bin(m.id.data(), m.id.size()) ||
        !r.uint(m.sequence) || !r.uint(m.timestamp_us) || !read_headers(r, m.headers) || !r.bin(m.payload))
        return false;
    std::uint32_t count = 0;
    if (!r.array(count)) return false;
    if (count > max_parents) return r.fail();
    m.parents.resize(count);
    for (auto& parent : m.parents) {
        if (!r.fixed_bin(parent.data(), parent.size())) return false;
    }
    return true;
}

bool read(Reader& r, Delta& m) {
    return read_string(r, m.origin) && r.uint(m.creation) && r.uint(m.seq) && read_name(r, m.scope) &&
           read_name(r, m.group) && read_ids(r, m.ids);
}

bool read(Reader& r, Digest& m) {
    return read_string(r, m.origin) && r.uint(m.creation) && r.uint(m.seq) && r.uint(m.hash);
}

bool read(Reader&, Resync&) { return true; }

bool read(Reader& r, Snapshot& m) {
    std::uint64_t last = 0;
    if (!r.uint(m.seq) || !r.uint(m.part) || !r.uint(last)) return false;
    if (last > 1) return r.fail();
    m.last = last == 1;
    std::uint32_t count = 0;
    if (!r.array(count)) return false;
    m.groups.resize(count);
    for (auto& group : m.groups) {
        std::uint32_t fields = 0;
        if (!r.array(fields)) return false;
        if (fields != 3) return r.fail();
        if (!read_name(r, group.scope) || !read_name(r, group.group) || !read_ids(r, group.ids)) return false;
    }
    return true;
}

bool read(Reader& r, DigestAck& m) { return r.uint(m.creation) && r.uint(m.seq); }

// Field counts after the type id, per message type.
template <typename T>
constexpr std::uint32_t field_count();
template <> constexpr std::uint32_t field_count<Hello>() { return 7; }
template <> constexpr std::uint32_t field_count<Welcome>() { return 7; }
template <> constexpr std::uint32_t field_count<Auth>() { return 1; }
template <> constexpr std::uint32_t field_count<Bye>() { return 2; }
template <> constexpr std::uint32_t field_count<ByeAck>() { return 0; }
template <> constexpr std::uint32_t field_count<Peers>() { return 1; }
template <> constexpr std::uint32_t field_count<Send>() { return 5; }
template <> constexpr std::uint32_t field_count<Publish>() { return 8; }
template <> constexpr std::uint32_t field_count<Delta>() { return 6; }
template <> constexpr std::uint32_t field_count<Digest>() { return 4; }
template <> constexpr std::uint32_t field_count<Resync>() { return 0; }
template <> constexpr std::uint32_t field_count<Snapshot>() { return 4; }
template <> constexpr std::uint32_t field_count<DigestAck>() { return 2; }

template <typename T>
bool read_message(Reader& r, std::uint32_t fields, std::vector<WireMessage>& out, T message = T{}) {
    if (fields != field_count<T>()) return r.fail();
    if (!read(r, message)) return false;
    out.emplace_back(std::move(message));
    return true;
}

Delta delta_of_kind(bool join) {
    Delta delta;
    delta.join = join;
    return delta;
}

bool read_any(Reader& r, std::uint64_t type, std::uint32_t fields, std::vector<WireMessage>& out, bool& known) {
    known = true;
    switch (type) {
    case static_cast<std::uint8_t>(MessageType::hello): return read_message<Hello>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::welcome): return read_message<Welcome>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::auth): return read_message<Auth>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::bye): return read_message<Bye>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::bye_ack): return read_message<ByeAck>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::peers): return read_message<Peers>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::send): return read_message<Send>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::publish): return read_message<Publish>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::join): return read_message<Delta>(r, fields, out, delta_of_kind(true));
    case static_cast<std::uint8_t>(MessageType::leave): return read_message<Delta>(r, fields, out, delta_of_kind(false));
    case static_cast<std::uint8_t>(MessageType::digest): return read_message<Digest>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::resync): return read_message<Resync>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::snapshot): return read_message<Snapshot>(r, fields, out);
    case static_cast<std::uint8_t>(MessageType::digest_ack): return read_message<DigestAck>(r, fields, out);
    default: known = false; return false;
    }
}

template <typename T>
void append(std::string& bytes, std::size_t& messages, const T& message) {
    StringSink sink{&bytes};
    Packer packer(sink);
    pack(packer, message);
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
    const std::size_t bound = 1 + 1 + 3 * 9 + headers_bound(headers) + header_bound + payload.size();
    append_bounded(out, bound, [&](RawPacker& p) { pack_send(p, to_creation, to_id, from_id, headers, payload); });
}

void append_publish(std::string& out, const PublishFields& fields, const Headers& headers, std::string_view payload,
                    std::span<const MessageId> parents) {
    const std::size_t bound = 1 + 1 + header_bound + fields.channel.size() + 9 + header_bound + fields.id.size() +
                              2 * 9 + headers_bound(headers) + header_bound + payload.size() + header_bound +
                              parents.size() * (header_bound + sizeof(MessageId));
    append_bounded(out, bound, [&](RawPacker& p) { pack_publish(p, fields, headers, payload, parents); });
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
        const bool good = read_any(r, type, fields, out, known);
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
