#pragma once
// The field types the wire messages share, each packed and read in one
// place, and each reader enforcing its limit (messages.hpp): strings, names,
// peer lists, headers, local ids, causal parents, flags. Internal to the
// codec: included by message_table.hpp only.

#include "wire/messages.hpp"
#include "wire/reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace liminal::detail::wire {

// Upper bounds of encoded sizes: a str/bin/map/array header takes at most 5 bytes.
inline constexpr std::size_t header_bound = 5;
inline std::size_t headers_bound(const Headers& headers) {
    std::size_t bound = header_bound;
    for (const auto& [key, value] : headers) bound += 2 * header_bound + key.size() + value.size();
    return bound;
}

// Appends one message to `out` through a RawPacker: `bound` must be at least
// its encoded size.

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
void pack_names(P& p, const std::vector<std::string>& names) {
    p.pack_array(static_cast<std::uint32_t>(names.size()));
    for (const auto& name : names) pack_str(p, name);
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

// Reads an array of `count` elements with `read_one(r, element)`, each at
// least `min_bytes` on the wire. The count is believed only as far as the
// input can back it: what is reserved up front takes no more memory than the
// bytes left, and beyond that the list grows only as elements are read.
template <typename T, typename ReadOne>
bool read_list(Reader& r, std::uint32_t count, std::size_t min_bytes, std::vector<T>& out, ReadOne&& read_one) {
    if (count > r.remaining() / min_bytes) return r.fail(ReadError::truncated);
    out.clear();
    out.reserve(std::min<std::size_t>(count, r.remaining() / sizeof(T)));
    for (std::uint32_t i = 0; i < count; ++i) {
        T element{};
        if (!read_one(r, element)) return false;
        out.push_back(std::move(element));
    }
    return true;
}

// Readers of the shared field types, each enforcing its limit.
inline bool read_string(Reader& r, std::string& out) {
    std::string_view view;
    if (!r.str(view)) return false;
    out.assign(view);
    return true;
}

inline bool read_peers(Reader& r, std::vector<PeerAddress>& out) {
    std::uint32_t count = 0;
    if (!r.array(count)) return false;
    if (count > max_peers_in_hello) return r.fail();
    // [name, creation, router, pub]: an array header, three str headers, a uint.
    return read_list(r, count, 5, out, [](Reader& in, PeerAddress& peer) {
        std::uint32_t fields = 0;
        if (!in.array(fields)) return false;
        if (fields != 4) return in.fail();
        return read_string(in, peer.name) && in.uint(peer.creation) && read_string(in, peer.router) &&
               read_string(in, peer.pub);
    });
}

// Node names (DIGEST's reach): at most max_peers_in_hello, none empty.
inline bool read_names(Reader& r, std::vector<std::string>& out) {
    std::uint32_t count = 0;
    if (!r.array(count)) return false;
    if (count > max_peers_in_hello) return r.fail();
    return read_list(r, count, 2, out, [](Reader& in, std::string& name) {
        return read_string(in, name) && (!name.empty() || in.fail());
    });
}

inline bool read_headers(Reader& r, Headers& headers) {
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

inline bool valid_name(std::string_view name) { return !name.empty() && name.size() <= max_name_bytes; }

inline bool read_name(Reader& r, std::string_view& out) { return r.str(out) && (valid_name(out) || r.fail()); }

inline bool read_name(Reader& r, std::string& out) {
    std::string_view view;
    if (!read_name(r, view)) return false;
    out.assign(view);
    return true;
}

// Local ids of pids: never 0.
inline bool read_ids(Reader& r, std::vector<std::uint64_t>& ids) {
    std::uint32_t count = 0;
    if (!r.array(count)) return false;
    return read_list(r, count, 1, ids, [](Reader& in, std::uint64_t& id) { return in.uint(id) && (id != 0 || in.fail()); });
}

inline bool read_parents(Reader& r, std::vector<MessageId>& parents) {
    std::uint32_t count = 0;
    if (!r.array(count)) return false;
    if (count > max_parents) return r.fail();
    parents.resize(count);
    for (auto& parent : parents) {
        if (!r.fixed_bin(parent.data(), parent.size())) return false;
    }
    return true;
}

inline bool read_flag(Reader& r, bool& out) {
    std::uint64_t value = 0;
    if (!r.uint(value)) return false;
    if (value > 1) return r.fail();
    out = value == 1;
    return true;
}


}  // namespace liminal::detail::wire
