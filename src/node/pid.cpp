#include <liminal/pid.hpp>

#include <charconv>
#include <optional>

namespace liminal {
namespace {

bool parse_u64(std::string_view text, std::uint64_t& out) {
    if (text.empty() || text.size() > 20) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

bool is_valid_node_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 128) return false;
    const auto at = name.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 == name.size()) return false;
    if (name.find('@', at + 1) != std::string_view::npos) return false;
    for (const char c : name) {
        if (c <= ' ' || c > '~' || c == '<' || c == '>') return false;
    }
    return true;
}

std::string Pid::to_string() const {
    return "<" + node + "." + std::to_string(creation) + "." + std::to_string(id) + ">";
}

std::optional<Pid> Pid::parse(std::string_view text) {
    if (text.size() < 2 || text.front() != '<' || text.back() != '>') return std::nullopt;
    text = text.substr(1, text.size() - 2);
    // The node name itself contains dots (its host), so split from the right.
    const auto last = text.rfind('.');
    if (last == std::string_view::npos) return std::nullopt;
    const auto middle = text.rfind('.', last - 1);
    if (middle == std::string_view::npos || last == 0) return std::nullopt;
    Pid pid;
    if (!parse_u64(text.substr(last + 1), pid.id)) return std::nullopt;
    if (!parse_u64(text.substr(middle + 1, last - middle - 1), pid.creation)) return std::nullopt;
    pid.node = std::string(text.substr(0, middle));
    if (!is_valid_node_name(pid.node) || !pid.valid()) return std::nullopt;
    return pid;
}

}  // namespace liminal
