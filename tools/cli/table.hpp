#pragma once
// Aligned text tables for the operator commands.

#include <string>
#include <vector>

namespace liminal::cli {

// Prints `header` and `rows` as left-aligned columns separated by two spaces.
std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// "12.3 KiB", "4.0 MiB": bytes for people.
std::string human_bytes(double bytes);

}  // namespace liminal::cli
