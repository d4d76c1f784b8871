#pragma once
// Hex helpers for golden-byte tests.

#include <cstdint>
#include <string>
#include <string_view>

namespace liminal::test {

inline std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const char c : bytes) {
        const auto b = static_cast<std::uint8_t>(c);
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

// Spaces are ignored, so vectors can be written in groups.
inline std::string from_hex(std::string_view hex) {
    std::string out;
    int high = -1;
    for (const char c : hex) {
        if (c == ' ') continue;
        const int v = c <= '9' ? c - '0' : c - 'a' + 10;
        if (high < 0) {
            high = v;
        } else {
            out += static_cast<char>(high * 16 + v);
            high = -1;
        }
    }
    return out;
}

inline std::string repeat_hex(std::string_view byte, int count) {
    std::string out;
    for (int i = 0; i < count; ++i) out += byte;
    return out;
}

}  // namespace liminal::test
