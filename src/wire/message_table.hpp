#pragma once
// The message table: every wire message's type id, field count and fields,
// packed and read in one place each (docs/PROTOCOL.md lists the same
// fields). The codec (codec.cpp) frames, dispatches and checks with it.
// Internal to the codec.

#include "wire/codec.hpp"
#include "wire/fields.hpp"

#include <span>

namespace liminal::detail::wire {

// The message table: for each message its type id, its number of fields
// after the type id, and how those fields are packed and read, in the same
// order (docs/PROTOCOL.md lists the same fields). pack() writes the fields
// only; read() reads them and checks every limit. A message that a later
// protocol version extended also has `appended` fields, packed after the
// others and read by read_appended() as far as the sender wrote them (an
// older sender writes none).
template <typename T>
struct Codec;

template <>
struct Codec<Hello> {
    static constexpr MessageType type = MessageType::hello;
    static constexpr std::uint32_t fields = 6;
    template <typename P>
    static void pack(P& p, const Hello& m) {
        p.pack_uint64(m.protocol);
        pack_str(p, m.name);
        p.pack_uint64(m.creation);
        pack_str(p, m.router);
        pack_str(p, m.pub);
        pack_nonce(p, m.nonce);
    }
    static bool read(Reader& r, Hello& m) {
        return r.uint(m.protocol) && read_string(r, m.name) && r.uint(m.creation) && read_string(r, m.router) &&
               read_string(r, m.pub) && r.fixed_bin(m.nonce.data(), m.nonce.size());
    }
};

template <>
struct Codec<Welcome> {
    static constexpr MessageType type = MessageType::welcome;
    static constexpr std::uint32_t fields = 6;
    template <typename P>
    static void pack(P& p, const Welcome& m) {
        pack_str(p, m.name);
        p.pack_uint64(m.creation);
        pack_str(p, m.router);
        pack_str(p, m.pub);
        pack_nonce(p, m.nonce);
        pack_proof(p, m.proof);
    }
    static bool read(Reader& r, Welcome& m) {
        return read_string(r, m.name) && r.uint(m.creation) && read_string(r, m.router) && read_string(r, m.pub) &&
               r.fixed_bin(m.nonce.data(), m.nonce.size()) &&
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

// A message of its sender's name and creation (BYE, LEAVING).
template <MessageType id, typename T>
struct NameCreationCodec {
    static constexpr MessageType type = id;
    static constexpr std::uint32_t fields = 2;
    template <typename P>
    static void pack(P& p, const T& m) {
        pack_str(p, m.name);
        p.pack_uint64(m.creation);
    }
    static bool read(Reader& r, T& m) { return read_string(r, m.name) && r.uint(m.creation); }
};

template <>
struct Codec<Bye> : NameCreationCodec<MessageType::bye, Bye> {};

template <>
struct Codec<Leaving> : NameCreationCodec<MessageType::leaving, Leaving> {};

// A message that is its type id alone.
template <MessageType id, typename T>
struct EmptyCodec {
    static constexpr MessageType type = id;
    static constexpr std::uint32_t fields = 0;
    template <typename P>
    static void pack(P&, const T&) {}
    static bool read(Reader&, T&) { return true; }
};

template <>
struct Codec<ByeAck> : EmptyCodec<MessageType::bye_ack, ByeAck> {};

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
    static constexpr std::uint32_t appended = 1;  // protocol 4: reach
    template <typename P>
    static void pack(P& p, const Digest& m) {
        pack_str(p, m.origin);
        p.pack_uint64(m.creation);
        p.pack_uint64(m.seq);
        p.pack_uint64(m.hash);
        pack_names(p, m.reach);
    }
    static bool read(Reader& r, Digest& m) {
        return read_string(r, m.origin) && r.uint(m.creation) && r.uint(m.seq) && r.uint(m.hash);
    }
    static bool read_appended(Reader& r, Digest& m, std::uint32_t present) {
        return present == 0 || read_names(r, m.reach);
    }
};

template <>
struct Codec<Resync> : EmptyCodec<MessageType::resync, Resync> {};

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
        // [scope, group, ids]: an array header, two names of at least 2 bytes, an array header.
        return read_list(r, count, 6, m.groups, [](Reader& in, GroupMembers& group) {
            std::uint32_t fields = 0;
            if (!in.array(fields)) return false;
            if (fields != 3) return in.fail();
            return read_name(in, group.scope) && read_name(in, group.group) && read_ids(in, group.ids);
        });
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
inline MessageType type_of(const Delta& m) { return Codec<Delta>::type_of(m); }

template <typename T>
bool has_type(std::uint64_t type) { return type == static_cast<std::uint8_t>(Codec<T>::type); }
template <>
inline bool has_type<Delta>(std::uint64_t type) {
    return type == static_cast<std::uint8_t>(Codec<Delta>::type) ||
           type == static_cast<std::uint8_t>(Codec<Delta>::other_type);
}


}  // namespace liminal::detail::wire
