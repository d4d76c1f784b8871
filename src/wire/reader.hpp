#pragma once
// A bounds-checked msgpack reader for liminal's own schema. It reads only the
// types liminal puts on the wire, never allocates, never throws, and stops at
// the first problem: after an error every read fails and error() says why.
// Defined here, inline: it is the receive hot path.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace liminal::detail::wire {

enum class ReadError : std::uint8_t {
    none,
    truncated,   // the input ended inside a value
    malformed,   // a value of another type than the schema says, or out of range
};

class Reader {
public:
    explicit Reader(std::string_view input) noexcept
        : pos_(reinterpret_cast<const std::uint8_t*>(input.data())), end_(pos_ + input.size()) {}

    bool array(std::uint32_t& count) noexcept;
    bool map(std::uint32_t& count) noexcept;
    bool uint(std::uint64_t& value) noexcept;
    bool str(std::string_view& value) noexcept;
    bool bin(std::string_view& value) noexcept;
    // A bin of exactly `size` bytes, copied into `out`.
    bool fixed_bin(std::uint8_t* out, std::size_t size) noexcept;
    // Steps over one value of any msgpack type, nested ones included (a
    // field a later protocol version appended), without recursing or
    // allocating: at most one step per input byte.
    bool skip() noexcept;

    bool at_end() const noexcept { return pos_ == end_; }
    std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - pos_); }
    ReadError error() const noexcept { return error_; }
    bool ok() const noexcept { return error_ == ReadError::none; }
    // Marks the input as malformed (for schema checks made by the caller).
    bool fail(ReadError error = ReadError::malformed) noexcept;

private:
    bool take(std::size_t n, const std::uint8_t*& out) noexcept;
    bool be(std::size_t n, std::uint64_t& value) noexcept;
    bool length(std::uint8_t tag, std::uint8_t fix_mask, std::uint8_t fix_tag, std::uint32_t fix_max,
                std::uint8_t tag8, std::uint8_t tag16, std::uint8_t tag32, std::uint32_t& out) noexcept;

    const std::uint8_t* pos_;
    const std::uint8_t* end_;
    ReadError error_ = ReadError::none;
};

// Definitions.
inline bool Reader::fail(ReadError error) noexcept {
    if (error_ == ReadError::none) error_ = error;
    pos_ = end_;
    return false;
}

inline bool Reader::take(std::size_t n, const std::uint8_t*& out) noexcept {
    if (error_ != ReadError::none) return false;
    if (remaining() < n) return fail(ReadError::truncated);
    out = pos_;
    pos_ += n;
    return true;
}

inline bool Reader::be(std::size_t n, std::uint64_t& value) noexcept {
    const std::uint8_t* p = nullptr;
    if (!take(n, p)) return false;
    value = 0;
    for (std::size_t i = 0; i < n; ++i) value = (value << 8) | p[i];
    return true;
}

// Reads the length of a str/bin/array/map whose tag is already consumed.
// `fix_*` describe the fix-sized form (absent when fix_mask is 0).
inline bool Reader::length(std::uint8_t tag, std::uint8_t fix_mask, std::uint8_t fix_tag, std::uint32_t fix_max,
                    std::uint8_t tag8, std::uint8_t tag16, std::uint8_t tag32, std::uint32_t& out) noexcept {
    std::uint64_t value = 0;
    if (fix_mask != 0 && (tag & static_cast<std::uint8_t>(~fix_mask)) == fix_tag) {
        out = tag & fix_mask;
        return out <= fix_max || fail();
    }
    if (tag8 != 0 && tag == tag8) {
        if (!be(1, value)) return false;
    } else if (tag == tag16) {
        if (!be(2, value)) return false;
    } else if (tag == tag32) {
        if (!be(4, value)) return false;
    } else {
        return fail();
    }
    out = static_cast<std::uint32_t>(value);
    return true;
}

inline bool Reader::array(std::uint32_t& count) noexcept {
    const std::uint8_t* tag = nullptr;
    if (!take(1, tag)) return false;
    if (!length(*tag, 0x0f, 0x90, 15, 0, 0xdc, 0xdd, count)) return false;
    // Every element takes at least one byte: a count beyond the input is a lie.
    return count <= remaining() || fail(ReadError::truncated);
}

inline bool Reader::map(std::uint32_t& count) noexcept {
    const std::uint8_t* tag = nullptr;
    if (!take(1, tag)) return false;
    if (!length(*tag, 0x0f, 0x80, 15, 0, 0xde, 0xdf, count)) return false;
    return count <= remaining() / 2 || fail(ReadError::truncated);
}

inline bool Reader::uint(std::uint64_t& value) noexcept {
    const std::uint8_t* tag = nullptr;
    if (!take(1, tag)) return false;
    if (*tag <= 0x7f) {
        value = *tag;
        return true;
    }
    switch (*tag) {
    case 0xcc: return be(1, value);
    case 0xcd: return be(2, value);
    case 0xce: return be(4, value);
    case 0xcf: return be(8, value);
    default: return fail();
    }
}

inline bool Reader::str(std::string_view& value) noexcept {
    const std::uint8_t* tag = nullptr;
    if (!take(1, tag)) return false;
    std::uint32_t size = 0;
    if (!length(*tag, 0x1f, 0xa0, 31, 0xd9, 0xda, 0xdb, size)) return false;
    const std::uint8_t* p = nullptr;
    if (!take(size, p)) return false;
    value = std::string_view(reinterpret_cast<const char*>(p), size);
    return true;
}

inline bool Reader::bin(std::string_view& value) noexcept {
    const std::uint8_t* tag = nullptr;
    if (!take(1, tag)) return false;
    std::uint32_t size = 0;
    if (!length(*tag, 0, 0, 0, 0xc4, 0xc5, 0xc6, size)) return false;
    const std::uint8_t* p = nullptr;
    if (!take(size, p)) return false;
    value = std::string_view(reinterpret_cast<const char*>(p), size);
    return true;
}

inline bool Reader::skip() noexcept {
    std::uint64_t pending = 1;  // values still to step over
    while (pending > 0) {
        --pending;
        const std::uint8_t* tag = nullptr;
        if (!take(1, tag)) return false;
        const std::uint8_t t = *tag;
        std::uint64_t n = 0;
        const std::uint8_t* unused = nullptr;
        if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) continue;  // fixints, nil, bools
        if ((t & 0xf0) == 0x80) {
            pending += 2u * (t & 0x0fu);  // fixmap
        } else if ((t & 0xf0) == 0x90) {
            pending += t & 0x0fu;  // fixarray
        } else if ((t & 0xe0) == 0xa0) {
            if (!take(t & 0x1fu, unused)) return false;  // fixstr
        } else {
            switch (t) {
            case 0xc4: case 0xd9: if (!be(1, n) || !take(n, unused)) return false; break;  // bin8, str8
            case 0xc5: case 0xda: if (!be(2, n) || !take(n, unused)) return false; break;
            case 0xc6: case 0xdb: if (!be(4, n) || !take(n, unused)) return false; break;
            case 0xc7: if (!be(1, n) || !take(n + 1, unused)) return false; break;  // ext8: a type byte, then data
            case 0xc8: if (!be(2, n) || !take(n + 1, unused)) return false; break;
            case 0xc9: if (!be(4, n) || !take(n + 1, unused)) return false; break;
            case 0xca: case 0xce: case 0xd2: if (!take(4, unused)) return false; break;  // float32, (u)int32
            case 0xcb: case 0xcf: case 0xd3: if (!take(8, unused)) return false; break;
            case 0xcc: case 0xd0: if (!take(1, unused)) return false; break;
            case 0xcd: case 0xd1: if (!take(2, unused)) return false; break;
            case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:  // fixext 1, 2, 4, 8, 16
                if (!take(1 + (std::size_t{1} << (t - 0xd4)), unused)) return false;
                break;
            case 0xdc: if (!be(2, n)) return false; pending += n; break;  // array16
            case 0xdd: if (!be(4, n)) return false; pending += n; break;
            case 0xde: if (!be(2, n)) return false; pending += 2 * n; break;  // map16
            case 0xdf: if (!be(4, n)) return false; pending += 2 * n; break;
            default: return fail();  // 0xc1: never used
            }
        }
        // Every value takes at least one byte: more than the input holds is a lie.
        if (pending > remaining()) return fail(ReadError::truncated);
    }
    return true;
}

inline bool Reader::fixed_bin(std::uint8_t* out, std::size_t size) noexcept {
    std::string_view bytes;
    if (!bin(bytes)) return false;
    if (bytes.size() != size) return fail();
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(bytes[i]);
    return true;
}

}  // namespace liminal::detail::wire
