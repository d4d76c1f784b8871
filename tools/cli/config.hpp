#pragma once
// `liminal-cli node` settings: defaults, then a TOML file (--config), then
// LIMINAL_CLUSTER_* environment variables, then flags, each overriding the
// one before.

#include <liminal/options.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace liminal::cli {

// A bad configuration; the message names the key (e.g. "cluster.heartbeat_ms").
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct NodeSettings {
    std::string name;
    std::string listen;
    std::string gossip;
    std::string advertise;
    std::string source;  // Options::source_address
    bool faults = false; // Options::faults: liminal-cli fault is accepted
    std::string admin;
    std::vector<std::string> seeds;
    std::string cookie;
    std::string cookie_file;
    Security security = Security::cluster_secret;  // cluster.security: "cluster-secret" | "node-keys" | "insecure-plaintext"
    std::string key_file;      // cluster.key_file (node keys)
    std::string trusted_keys;  // cluster.trusted_keys (node keys)
    int heartbeat_ms = 1000;
    int heartbeat_timeout_ms = 3000;
    std::int64_t forget_after_ms = 300000;  // cluster.forget_after_ms: give up on a peer not up this long
    Limits limits;
    std::string log_level = "info";
    std::string log_format = "text";  // or "json"
};

// Reads a TOML file into `settings`. Throws ConfigError for a file that does
// not parse, an unknown table or key, or a value of the wrong type or range.
void load_toml(NodeSettings& settings, const std::string& path);
// The same for TOML text; `source` names it in errors.
void parse_toml(NodeSettings& settings, std::string_view text, const std::string& source);

// Applies LIMINAL_CLUSTER_NODE_NAME, _LISTEN, _SEEDS (comma-separated) and
// _COOKIE through `lookup` (getenv in production).
void apply_environment(NodeSettings& settings, const std::function<const char*(const char*)>& lookup);

// Checks what the merged settings must hold: a name, a listen endpoint, one
// cookie source. Throws ConfigError.
void check(const NodeSettings& settings);

}  // namespace liminal::cli
