#include "config.hpp"

#include <liminal/pid.hpp>

#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace liminal::cli {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& why) { throw ConfigError(key + ": " + why); }

std::string read_string(const toml::node& node, const std::string& key) {
    const auto value = node.value<std::string>();
    if (!node.is_string() || !value) fail(key, "expected a string");
    return *value;
}

std::int64_t read_int(const toml::node& node, const std::string& key, std::int64_t min, std::int64_t max) {
    if (!node.is_integer()) fail(key, "expected an integer");
    const auto value = *node.value<std::int64_t>();
    if (value < min || value > max) fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return value;
}

bool read_bool(const toml::node& node, const std::string& key) {
    if (!node.is_boolean()) fail(key, "expected true or false");
    return *node.value<bool>();
}

std::string read_choice(const toml::node& node, const std::string& key, const std::set<std::string>& choices) {
    const std::string value = read_string(node, key);
    if (!choices.contains(value)) {
        std::string list;
        for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
        fail(key, "must be one of " + list + ", got '" + value + "'");
    }
    return value;
}

void load_cluster(NodeSettings& s, const toml::table& table) {
    for (const auto& [raw_key, node] : table) {
        const std::string name(raw_key.str());
        const std::string key = "cluster." + name;
        if (name == "node_name") s.name = read_string(node, key);
        else if (name == "listen") s.listen = read_string(node, key);
        else if (name == "gossip") s.gossip = read_string(node, key);
        else if (name == "advertise") s.advertise = read_string(node, key);
        else if (name == "source") s.source = read_string(node, key);
        else if (name == "faults") s.faults = read_bool(node, key);
        else if (name == "admin") s.admin = read_string(node, key);
        else if (name == "cookie") s.cookie = read_string(node, key);
        else if (name == "cookie_file") s.cookie_file = read_string(node, key);
        else if (name == "security") {
            const std::string mode = read_choice(node, key, {"cluster-secret", "node-keys", "insecure-plaintext"});
            s.security = mode == "node-keys"            ? Security::node_keys
                         : mode == "insecure-plaintext" ? Security::insecure_plaintext
                                                        : Security::cluster_secret;
        }
        else if (name == "key_file") s.key_file = read_string(node, key);
        else if (name == "trusted_keys") s.trusted_keys = read_string(node, key);
        else if (name == "heartbeat_ms") s.heartbeat_ms = static_cast<int>(read_int(node, key, 10, 600000));
        else if (name == "heartbeat_timeout_ms") s.heartbeat_timeout_ms = static_cast<int>(read_int(node, key, 10, 3600000));
        else if (name == "forget_after_ms") s.forget_after_ms = read_int(node, key, 10, 7LL * 24 * 3600 * 1000);
        else if (name == "seeds") {
            const auto* array = node.as_array();
            if (array == nullptr) fail(key, "expected an array of strings");
            s.seeds.clear();
            for (std::size_t i = 0; i < array->size(); ++i) {
                s.seeds.push_back(read_string(*array->get(i), key + "[" + std::to_string(i) + "]"));
            }
        } else {
            fail(key, "unknown key");
        }
    }
}

OverflowPolicy read_policy(const toml::node& node, const std::string& key) {
    const std::string name = read_choice(node, key, {"drop_newest", "drop_oldest", "block", "disconnect"});
    if (name == "drop_oldest") return OverflowPolicy::drop_oldest;
    if (name == "block") return OverflowPolicy::block;
    if (name == "disconnect") return OverflowPolicy::disconnect;
    return OverflowPolicy::drop_newest;
}

void load_limits(NodeSettings& s, const toml::table& table) {
    constexpr std::int64_t big = std::int64_t{1} << 40;
    for (const auto& [raw_key, value] : table) {
        const toml::node& node = value;  // a lambda may not capture a structured binding (clang 14)
        const std::string name(raw_key.str());
        const std::string key = "limits." + name;
        auto& l = s.limits;
        const auto bytes = [&] { return static_cast<std::size_t>(read_int(node, key, 1, big)); };
        if (name == "mailbox_capacity") l.mailbox_capacity = static_cast<std::size_t>(read_int(node, key, 1, big));
        else if (name == "mailbox_bytes") l.mailbox_bytes = bytes();
        else if (name == "max_frame_bytes") l.max_frame_bytes = static_cast<std::size_t>(read_int(node, key, 1024, std::int64_t{1} << 31));
        else if (name == "send_hwm") l.send_hwm = static_cast<int>(read_int(node, key, 1, 1'000'000));
        else if (name == "receive_hwm") l.receive_hwm = static_cast<int>(read_int(node, key, 1, 1'000'000));
        else if (name == "peer_queue_bytes") l.peer_queue_bytes = bytes();
        else if (name == "outbound_queue_bytes") l.outbound_queue_bytes = bytes();
        else if (name == "monitor_queue_bytes") l.monitor_queue_bytes = bytes();
        else if (name == "overflow") l.overflow = read_policy(node, key);
        else if (name == "peer_overflow") l.peer_overflow = read_policy(node, key);
        else if (name == "block_timeout_ms") l.block_timeout = std::chrono::milliseconds(read_int(node, key, 0, 3'600'000));
        else fail(key, "unknown key");
    }
}

void load_log(NodeSettings& s, const toml::table& table) {
    for (const auto& [raw_key, node] : table) {
        const std::string name(raw_key.str());
        const std::string key = "log." + name;
        if (name == "level") s.log_level = read_choice(node, key, {"trace", "debug", "info", "warn", "error", "off"});
        else if (name == "format") s.log_format = read_choice(node, key, {"text", "json"});
        else fail(key, "unknown key");
    }
}

void load_tables(NodeSettings& settings, const toml::table& root) {
    for (const auto& [raw_key, node] : root) {
        const std::string name(raw_key.str());
        const auto* table = node.as_table();
        if (name != "cluster" && name != "limits" && name != "log") fail(name, "unknown table or key");
        if (table == nullptr) fail(name, "expected a table ([" + name + "])");
        if (name == "cluster") load_cluster(settings, *table);
        else if (name == "limits") load_limits(settings, *table);
        else load_log(settings, *table);
    }
}

}  // namespace

void load_toml(NodeSettings& settings, const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    if (!file || file.bad()) throw ConfigError(path + ": cannot read the file");
    parse_toml(settings, text.str(), path);
}

void parse_toml(NodeSettings& settings, std::string_view text, const std::string& source) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        std::ostringstream where;
        where << e.source().begin;
        throw ConfigError(source + ": " + std::string(e.description()) + " (" + where.str() + ")");
    }
    load_tables(settings, root);
}

void apply_environment(NodeSettings& settings, const std::function<const char*(const char*)>& lookup) {
    if (const char* v = lookup("LIMINAL_CLUSTER_NODE_NAME")) settings.name = v;
    if (const char* v = lookup("LIMINAL_CLUSTER_LISTEN")) settings.listen = v;
    if (const char* v = lookup("LIMINAL_CLUSTER_COOKIE")) {
        settings.cookie = v;
        settings.cookie_file.clear();
    }
    if (const char* v = lookup("LIMINAL_CLUSTER_SEEDS")) {
        settings.seeds.clear();
        std::stringstream list(v);
        std::string seed;
        while (std::getline(list, seed, ',')) {
            if (!seed.empty()) settings.seeds.push_back(seed);
        }
    }
}

void check(const NodeSettings& settings) {
    if (settings.name.empty()) throw ConfigError("cluster.node_name: required (or --name, LIMINAL_CLUSTER_NODE_NAME)");
    if (!is_valid_node_name(settings.name)) throw ConfigError("cluster.node_name: '" + settings.name + "' is not name@host");
    if (settings.listen.empty()) throw ConfigError("cluster.listen: required (or --listen, LIMINAL_CLUSTER_LISTEN)");
    if (settings.listen.rfind("tcp://", 0) != 0) throw ConfigError("cluster.listen: must be a tcp:// endpoint");
    if (!settings.cookie.empty() && !settings.cookie_file.empty())
        throw ConfigError("cluster.cookie: give cookie or cookie_file, not both");
    if (settings.cookie.empty() && settings.cookie_file.empty())
        throw ConfigError("cluster.cookie: a cookie is required (cookie, cookie_file, --cookie, --cookie-file or "
                          "LIMINAL_CLUSTER_COOKIE)");
    if (settings.security == Security::node_keys && (settings.key_file.empty() || settings.trusted_keys.empty()))
        throw ConfigError("cluster.security: node-keys needs cluster.key_file and cluster.trusted_keys (or --key-file "
                          "and --trusted-keys)");
    if (settings.heartbeat_timeout_ms < settings.heartbeat_ms)
        throw ConfigError("cluster.heartbeat_timeout_ms: must be at least cluster.heartbeat_ms");
    if (settings.forget_after_ms < settings.heartbeat_timeout_ms)
        throw ConfigError("cluster.forget_after_ms: must be at least cluster.heartbeat_timeout_ms");
    for (const auto& seed : settings.seeds) {
        // ENDPOINT, or NAME=ENDPOINT (node keys).
        const auto equals = seed.find('=');
        const std::string endpoint = equals == std::string::npos ? seed : seed.substr(equals + 1);
        if (endpoint.rfind("tcp://", 0) != 0)
            throw ConfigError("cluster.seeds: '" + seed + "' is not a tcp:// endpoint (or NAME=tcp://...)");
    }
}

}  // namespace liminal::cli
