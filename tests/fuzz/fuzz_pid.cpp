// Pid parsing: any text either is refused or parses to a valid pid whose
// text form parses back to the same pid; a node name inside a parsed pid is
// one is_valid_node_name accepts.

#include "fuzz.hpp"

#include <liminal/pid.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto pid = liminal::Pid::parse(liminal::fuzz::bytes(data, size));
    if (!pid) return 0;
    LIMINAL_FUZZ_CHECK(pid->valid());
    LIMINAL_FUZZ_CHECK(liminal::is_valid_node_name(pid->node));
    const auto again = liminal::Pid::parse(pid->to_string());
    LIMINAL_FUZZ_CHECK(again && *again == *pid);
    return 0;
}
