#pragma once
// What every fuzz target shares: a check that stops the run with a message
// (libFuzzer then keeps the input that broke it), and a view of the input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define LIMINAL_FUZZ_CHECK(condition)                                                        \
    do {                                                                                     \
        if (!(condition)) {                                                                  \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                    \
        }                                                                                    \
    } while (false)

namespace liminal::fuzz {

inline std::string_view bytes(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Splits the input into pieces, each `[length: 2 bytes, big-endian][bytes]`;
// a last piece shorter than its length is taken as it is.
class Pieces {
public:
    explicit Pieces(std::string_view input) : rest_(input) {}
    bool next(std::string_view& piece) {
        if (rest_.size() < 2) return false;
        const std::size_t length = (static_cast<std::uint8_t>(rest_[0]) << 8) | static_cast<std::uint8_t>(rest_[1]);
        rest_.remove_prefix(2);
        piece = rest_.substr(0, length);
        rest_.remove_prefix(piece.size());
        return true;
    }

private:
    std::string_view rest_;
};

}  // namespace liminal::fuzz
