#pragma once
// Where the admin endpoint may bind: parsed, not pattern-matched. Only this
// host may reach it: ipc://PATH, or tcp:// on a loopback address
// (127.0.0.0/8, localhost, [::1]) with a port or `*`. ZeroMQ's
// `tcp://source;destination` form is refused: its destination part would
// bind wherever it names.

#include <string>

namespace liminal::detail {

// The endpoint to bind for `endpoint` (`localhost` becomes 127.0.0.1, which
// ZeroMQ can bind); throws StartFailed naming Options::admin otherwise.
std::string parse_admin_endpoint(const std::string& endpoint);

}  // namespace liminal::detail
