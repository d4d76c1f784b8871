// liminal-cli node's configuration: TOML, environment, validation.

#include "config.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

using namespace liminal::cli;

namespace {

// A TOML file of its own in the temporary directory (mkstemps: parallel test
// processes never share one), removed afterwards.
struct TempToml {
    std::string path;
    explicit TempToml(const std::string& text) {
        const char* dir = std::getenv("TMPDIR");
        std::string name = std::string(dir && *dir ? dir : "/tmp") + "/liminal-test-XXXXXX.toml";
        const int fd = ::mkstemps(name.data(), 5);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::ofstream(path) << text;
    }
    ~TempToml() { std::remove(path.c_str()); }
};

std::string error_of(const std::string& text) {
    TempToml file(text);
    NodeSettings settings;
    try {
        load_toml(settings, file.path);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a full config file is read", "[config]") {
    TempToml file(R"(
[cluster]
node_name = "a@127.0.0.1"
listen = "tcp://127.0.0.1:7400"
gossip = "tcp://127.0.0.1:7401"
advertise = "10.0.0.5"
source = "10.0.0.6"
seeds = ["tcp://127.0.0.1:7500", "tcp://127.0.0.1:7600"]
cookie_file = "/etc/liminal/cookie"
heartbeat_ms = 500
heartbeat_timeout_ms = 2500
forget_after_ms = 60000
admin = "ipc:///tmp/a.admin"

[limits]
mailbox_capacity = 1000
max_frame_bytes = 65536
send_hwm = 100
receive_hwm = 200
peer_queue_bytes = 1048576
outbound_queue_bytes = 2097152
mailbox_bytes = 4194304
overflow = "drop_oldest"
peer_overflow = "block"
block_timeout_ms = 250

[log]
level = "debug"
format = "json"
)");
    NodeSettings s;
    load_toml(s, file.path);
    CHECK(s.name == "a@127.0.0.1");
    CHECK(s.listen == "tcp://127.0.0.1:7400");
    CHECK(s.gossip == "tcp://127.0.0.1:7401");
    CHECK(s.advertise == "10.0.0.5");
    CHECK(s.source == "10.0.0.6");
    CHECK(s.seeds == std::vector<std::string>{"tcp://127.0.0.1:7500", "tcp://127.0.0.1:7600"});
    CHECK(s.cookie_file == "/etc/liminal/cookie");
    CHECK(s.heartbeat_ms == 500);
    CHECK(s.heartbeat_timeout_ms == 2500);
    CHECK(s.forget_after_ms == 60000);
    CHECK(s.admin == "ipc:///tmp/a.admin");
    CHECK(s.limits.mailbox_capacity == 1000);
    CHECK(s.limits.max_frame_bytes == 65536);
    CHECK(s.limits.send_hwm == 100);
    CHECK(s.limits.receive_hwm == 200);
    CHECK(s.limits.peer_queue_bytes == 1048576);
    CHECK(s.limits.outbound_queue_bytes == 2097152);
    CHECK(s.limits.mailbox_bytes == 4194304);
    CHECK(s.limits.overflow == liminal::OverflowPolicy::drop_oldest);
    CHECK(s.limits.peer_overflow == liminal::OverflowPolicy::block);
    CHECK(s.limits.block_timeout == std::chrono::milliseconds(250));
    CHECK(s.log_level == "debug");
    CHECK(s.log_format == "json");
    CHECK_NOTHROW(check(s));
}

TEST_CASE("unknown keys and bad values are rejected with the key named", "[config]") {
    CHECK_THAT(error_of("[cluster]\nnode_nam = \"a@h\"\n"), Catch::StartsWith("cluster.node_nam: unknown key"));
    CHECK_THAT(error_of("[clustre]\n"), Catch::StartsWith("clustre: unknown"));
    CHECK_THAT(error_of("[cluster]\nheartbeat_ms = \"fast\"\n"), Catch::StartsWith("cluster.heartbeat_ms: expected an integer"));
    CHECK_THAT(error_of("[cluster]\nheartbeat_ms = 0\n"), Catch::StartsWith("cluster.heartbeat_ms: must be between"));
    CHECK_THAT(error_of("[cluster]\nseeds = \"tcp://x:1\"\n"), Catch::StartsWith("cluster.seeds: expected an array"));
    CHECK_THAT(error_of("[cluster]\nseeds = [\"tcp://x:1\", 5]\n"), Catch::StartsWith("cluster.seeds[1]: expected a string"));
    CHECK_THAT(error_of("[limits]\noverflow = \"drop_all\"\n"), Catch::StartsWith("limits.overflow: must be one of"));
    CHECK_THAT(error_of("[limits]\npeer_overflow = \"wait\"\n"), Catch::StartsWith("limits.peer_overflow: must be one of"));
    // Every queue is bounded: a high-water mark of 0 (ZeroMQ's "no limit") is refused.
    CHECK_THAT(error_of("[limits]\nsend_hwm = 0\n"), Catch::StartsWith("limits.send_hwm: must be between"));
    CHECK_THAT(error_of("[limits]\nmax_frame_bytes = 10\n"), Catch::StartsWith("limits.max_frame_bytes: must be between"));
    CHECK_THAT(error_of("[log]\nlevel = \"loud\"\n"), Catch::StartsWith("log.level: must be one of"));
    CHECK_THAT(error_of("[log]\ncolour = true\n"), Catch::StartsWith("log.colour: unknown key"));
    CHECK_THAT(error_of("cluster = 5\n"), Catch::StartsWith("cluster: expected a table"));
    CHECK_THAT(error_of("[cluster\n"), Catch::Contains("line 1"));
}

TEST_CASE("a file that cannot be read is named, TOML text loads as a file does", "[config]") {
    NodeSettings settings;
    CHECK_THROWS_WITH(load_toml(settings, "/nonexistent/liminal.toml"),
                      "/nonexistent/liminal.toml: cannot read the file");
    parse_toml(settings, "[cluster]\nnode_name = \"a@h\"\n", "inline");
    CHECK(settings.name == "a@h");
    CHECK_THROWS_WITH(parse_toml(settings, "[cluster]\nnode_name = 5\n", "inline"),
                      "cluster.node_name: expected a string");
}

TEST_CASE("the environment overrides the file", "[config]") {
    NodeSettings s;
    s.name = "from-file@h";
    s.seeds = {"tcp://file:1"};
    s.cookie_file = "/file";
    const std::map<std::string, std::string> env = {{"LIMINAL_CLUSTER_NODE_NAME", "env@h"},
                                                    {"LIMINAL_CLUSTER_LISTEN", "tcp://127.0.0.1:9"},
                                                    {"LIMINAL_CLUSTER_SEEDS", "tcp://a:1,tcp://b:2"},
                                                    {"LIMINAL_CLUSTER_COOKIE", "secret"}};
    apply_environment(s, [&](const char* name) -> const char* {
        const auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
    CHECK(s.name == "env@h");
    CHECK(s.listen == "tcp://127.0.0.1:9");
    CHECK(s.seeds == std::vector<std::string>{"tcp://a:1", "tcp://b:2"});
    CHECK(s.cookie == "secret");
    CHECK(s.cookie_file.empty());
    CHECK_NOTHROW(check(s));
}

TEST_CASE("merged settings must name the node, an endpoint and one cookie", "[config]") {
    NodeSettings s;
    CHECK_THROWS_WITH(check(s), Catch::StartsWith("cluster.node_name: required"));
    s.name = "a@h";
    CHECK_THROWS_WITH(check(s), Catch::StartsWith("cluster.listen: required"));
    s.listen = "tcp://127.0.0.1:1";
    CHECK_THROWS_WITH(check(s), Catch::StartsWith("cluster.cookie: a cookie is required"));
    s.cookie = "c";
    s.cookie_file = "f";
    CHECK_THROWS_WITH(check(s), Catch::StartsWith("cluster.cookie: give cookie or cookie_file"));
    s.cookie_file.clear();
    s.seeds = {"127.0.0.1:1"};
    CHECK_THROWS_WITH(check(s), Catch::StartsWith("cluster.seeds:"));
    s.seeds.clear();
    s.heartbeat_timeout_ms = 5;
    CHECK_THROWS_WITH(check(s), Catch::StartsWith("cluster.heartbeat_timeout_ms"));
    s.heartbeat_timeout_ms = 3000;
    s.forget_after_ms = 2000;  // a peer given up before it could even be declared down
    CHECK_THROWS_WITH(check(s), Catch::StartsWith("cluster.forget_after_ms: must be at least"));
}

TEST_CASE("cluster.security defaults to the cluster secret, plaintext only when spelled out", "[config][trust]") {
    NodeSettings defaults;
    CHECK(defaults.security == liminal::Security::cluster_secret);
    TempToml plain("[cluster]\nsecurity = \"insecure-plaintext\"\n");
    NodeSettings settings;
    load_toml(settings, plain.path);
    CHECK(settings.security == liminal::Security::insecure_plaintext);
    CHECK_THAT(error_of("[cluster]\nsecurity = \"plaintext\"\n"),
               Catch::Contains("cluster.security") && Catch::Contains("insecure-plaintext"));
    CHECK_THAT(error_of("[cluster]\nsecurity = false\n"), Catch::Contains("cluster.security"));
}

TEST_CASE("cluster.security node-keys needs both key files", "[config][trust]") {
    TempToml file("[cluster]\nsecurity = \"node-keys\"\nkey_file = \"/k\"\ntrusted_keys = \"/t\"\n"
                  "seeds = [\"a@h=tcp://127.0.0.1:7400\"]\n");
    NodeSettings settings;
    load_toml(settings, file.path);
    CHECK(settings.security == liminal::Security::node_keys);
    CHECK(settings.key_file == "/k");
    CHECK(settings.trusted_keys == "/t");
    settings.name = "b@h";
    settings.listen = "tcp://127.0.0.1:*";
    settings.cookie = "x";
    CHECK_NOTHROW(check(settings));
    settings.trusted_keys.clear();
    CHECK_THROWS_WITH(check(settings), Catch::Contains("cluster.trusted_keys"));
    settings.trusted_keys = "/t";
    settings.seeds = {"a@h=udp://x"};
    CHECK_THROWS_WITH(check(settings), Catch::Contains("cluster.seeds"));
}
