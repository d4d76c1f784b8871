#pragma once
// A bounds-checked msgpack reader for liminal's own schema. It reads only the
// types liminal puts on the wire, never allocates, never throws, and stops at
// the first problem: after an error every read fails and error() says why.

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

}  // namespace liminal::detail::wire
