#pragma once
// Process ids: (node name, node creation, local number).

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace liminal {

// A process id. `node` is the owning node's `name@host`, `creation` the
// incarnation of that node (new at every start, never 0) and `id` the number
// of the process within that incarnation (never 0). A pid whose creation is
// not the node's current one is stale: nothing is ever delivered to it.
struct Pid {
    std::string node;
    std::uint64_t creation = 0;
    std::uint64_t id = 0;

    // True for a pid that names some process (the default-constructed pid does not).
    bool valid() const noexcept { return !node.empty() && creation != 0 && id != 0; }

    // Text form `<name@host.creation.id>`, for example `<a@127.0.0.1.1732650000123456.7>`.
    std::string to_string() const;

    // Parses the text form; returns nullopt when `text` is not one.
    static std::optional<Pid> parse(std::string_view text);

    friend auto operator<=>(const Pid&, const Pid&) = default;
    friend bool operator==(const Pid&, const Pid&) = default;
};

// True for a node name of the form `name@host`: both parts non-empty, at most
// 128 bytes in all, printable ASCII without spaces, `<`, `>` or a second `@`.
bool is_valid_node_name(std::string_view name) noexcept;

}  // namespace liminal

template <>
struct std::hash<liminal::Pid> {
    std::size_t operator()(const liminal::Pid& pid) const noexcept {
        std::size_t h = std::hash<std::string>{}(pid.node);
        h ^= std::hash<std::uint64_t>{}(pid.creation) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        h ^= std::hash<std::uint64_t>{}(pid.id) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        return h;
    }
};
