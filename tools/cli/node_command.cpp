// `liminal-cli node`: run a node in the foreground until SIGINT/SIGTERM.

#include "commands.hpp"

#include "node/test_hooks.hpp"

#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>

namespace liminal::cli {
namespace {

std::string host_of(const std::string& endpoint) {
    const auto start = endpoint.find("://");
    const auto colon = endpoint.rfind(':');
    if (start == std::string::npos || colon == std::string::npos || colon <= start + 3) return "";
    return endpoint.substr(start + 3, colon - start - 3);
}

std::string describe(const PeerEvent& event) {
    switch (event.kind) {
    case PeerEventKind::up:
        return "peer-up " + event.name + " creation=" + std::to_string(event.creation) + " router=" + event.endpoint;
    case PeerEventKind::down:
        return "peer-down " + event.name + " creation=" + std::to_string(event.creation) +
               " reason=" + to_string(event.reason);
    case PeerEventKind::rejected:
        return "peer-rejected " + event.endpoint + " " + event.detail;
    case PeerEventKind::slow_consumer:
        return "slow-consumer " + event.name + " " + event.detail;
    case PeerEventKind::partial_partition:
        return "partial-partition " + event.name + " " + event.detail;
    }
    return "";
}

std::string describe(const GroupEvent& event) {
    if (event.kind == GroupEvent::Kind::lost) return "group-events-lost (this printer fell behind; restart it for an exact view)";
    std::string line = std::string(event.kind == GroupEvent::Kind::join ? "group-join " : "group-leave ") +
                       event.scope + " " + event.group + " " + event.node;
    for (const auto& pid : event.pids) line += " " + pid.to_string();
    return line;
}

}  // namespace

CLI::App* NodeCommand::add(CLI::App& app) {
    auto* cmd = app.add_subcommand("node", "Run a liminal node in the foreground until SIGINT or SIGTERM");
    auto& s = settings;
    cmd->add_option("--config", config, "TOML file ([cluster], [limits], [log]); see examples/node.toml")
        ->check(CLI::ExistingFile);
    flags.push_back(cmd->add_option("--name", s.name, "Node name, name@host, unique in the cluster"));
    flags.push_back(cmd->add_option("--listen", s.listen, "ROUTER endpoint to bind, e.g. tcp://127.0.0.1:7400 (port * = any)"));
    flags.push_back(cmd->add_option("--gossip", s.gossip, "PUB endpoint to bind (default: the --listen host, any port)"));
    flags.push_back(cmd->add_option("--advertise", s.advertise, "Host advertised to peers when binding 0.0.0.0 (default: the name's host)"));
    flags.push_back(cmd->add_option("--source", s.source,
                                    "Address this node's outgoing connections come from, e.g. 10.0.0.5 (default: as the OS routes)"));
    flags.push_back(cmd->add_option("--seed", s.seeds, "ROUTER endpoint of a node to join through (repeatable)"));
    flags.push_back(cmd->add_option("--admin", s.admin, "Admin endpoint to bind: ipc://PATH or tcp://127.0.0.1:PORT"));
    cookie_flags.add_cookie(*cmd);
    cookie_flags.add_security(*cmd);
    flags.push_back(cmd->add_option("--key-file", s.key_file,
                                    "This node's own keypair (liminal-cli keygen): per-node keys instead of keys "
                                    "from the cookie; needs --trusted-keys")
                        ->check(CLI::ExistingFile));
    flags.push_back(cmd->add_option("--trusted-keys", s.trusted_keys,
                                    "File of 'PUBLIC_KEY name@host' lines: the only nodes this one talks to, each "
                                    "bound to its name; re-read on SIGHUP. Seeds are then NAME=ENDPOINT")
                        ->check(CLI::ExistingFile));
    flags.push_back(cmd->add_option("--log-level", s.log_level, "Log level on stderr")
                        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"})));
    flags.push_back(cmd->add_option("--heartbeat-ms", s.heartbeat_ms, "ZMTP heartbeat interval (default 1000)")
                        ->check(CLI::Range(10, 600000)));
    flags.push_back(cmd->add_option("--heartbeat-timeout-ms", s.heartbeat_timeout_ms,
                                    "Silence after which a peer is marked down (default 3000)")
                        ->check(CLI::Range(10, 3600000)));
    flags.push_back(cmd->add_option("--forget-after-ms", s.forget_after_ms,
                                    "Give up on a peer (not a seed) that has not been up for this long: close "
                                    "its link and forget it (default 300000)")
                        ->check(CLI::Range(std::int64_t{10}, std::int64_t{7} * 24 * 3600 * 1000)));
    flags.push_back(cmd->add_option("--max-frame-bytes", s.limits.max_frame_bytes, "Largest message (and frame) sent or accepted (default 1 MiB)")
                        ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 31)));
    flags.push_back(cmd->add_option("--mailbox-capacity", s.limits.mailbox_capacity,
                                    "Messages a process mailbox holds before dropping (default 100000)")
                        ->check(CLI::PositiveNumber));
    cmd->add_flag("--inbox", inbox,
                  "Spawn a process, add inbox=<pid> to the ready line and print each message it receives as "
                  "'message <sender-pid> <payload>' (a publish to it as '<channel> <sender-pid> <payload>')");
    cmd->add_flag("--events", events,
                  "Print peer events: 'peer-up <name> creation=<n> router=<ep>', "
                  "'peer-down <name> creation=<n> reason=<r>', 'peer-rejected <endpoint> <why>'");
    cmd->add_option("--subscribe", subscribe,
                    "Subscribe a process to CHANNEL (repeatable) and print each message as "
                    "'<channel> <sender-pid> <payload>' (a directed send to it as 'message <sender-pid> <payload>')");
    cmd->add_flag("--json", json, "Print --inbox and --subscribe messages as one JSON object per line");
    cmd->add_option("--monitor", monitor,
                    "Print the groups of SCOPE (repeatable; channels are scope 'channels') and every change: "
                    "'group-join|group-leave <scope> <group> <node> <pid>...'");
    flags.push_back(cmd->add_flag("--faults", s.faults,
                                  "Accept liminal-cli fault partition|heal|drop-gossip on the admin endpoint "
                                  "(an application's tests split a cluster without root; off by default)"));
    cmd->add_flag("--test-hooks", test_hooks, "Let the admin endpoint corrupt this node's view (tests of verify only)")
        ->group("");
    cmd->footer(
        "Settings come from, in increasing precedence: defaults, --config FILE, the environment\n"
        "(LIMINAL_CLUSTER_NODE_NAME, LIMINAL_CLUSTER_LISTEN, LIMINAL_CLUSTER_SEEDS comma-separated,\n"
        "LIMINAL_CLUSTER_COOKIE), then flags. --name, --listen and a cookie are required from one of them.\n"
        "Every connection is encrypted with keys derived from the cookie (make one with 'liminal-cli cookie');\n"
        "--insecure-plaintext turns that off; --key-file with --trusted-keys gives each node a key of its\n"
        "own bound to its name (SIGHUP re-reads the trusted keys).\n"
        "On start, prints exactly one line to stdout:\n"
        "  ready <name> creation=<n> router=<endpoint> pub=<endpoint>[ inbox=<pid>]\n"
        "SIGINT/SIGTERM say BYE to every peer and exit 0.");
    return cmd;
}

int NodeCommand::run() {
    // Flags were parsed into `settings`; keep them aside, rebuild from the
    // bottom up, then lay the flags that were given on top.
    const NodeSettings from_flags = settings;
    NodeSettings merged;
    try {
        if (!config.empty()) load_toml(merged, config);
    } catch (const ConfigError& e) {
        throw UsageError(std::string("--config ") + e.what());
    }
    apply_environment(merged, [](const char* name) { return std::getenv(name); });
    const auto given = [&](const char* flag) {
        for (const auto* option : flags) {
            if (option->check_lname(flag + 2) && option->count() > 0) return true;
        }
        return false;
    };
    if (given("--name")) merged.name = from_flags.name;
    if (given("--listen")) merged.listen = from_flags.listen;
    if (given("--gossip")) merged.gossip = from_flags.gossip;
    if (given("--advertise")) merged.advertise = from_flags.advertise;
    if (given("--source")) merged.source = from_flags.source;
    if (given("--faults")) merged.faults = from_flags.faults;
    if (given("--seed")) merged.seeds = from_flags.seeds;
    if (given("--admin")) merged.admin = from_flags.admin;
    if (given("--key-file")) merged.key_file = from_flags.key_file;
    if (given("--trusted-keys")) merged.trusted_keys = from_flags.trusted_keys;
    if (!merged.key_file.empty() || !merged.trusted_keys.empty()) merged.security = Security::node_keys;
    if (given("--log-level")) merged.log_level = from_flags.log_level;
    if (given("--heartbeat-ms")) merged.heartbeat_ms = from_flags.heartbeat_ms;
    if (given("--heartbeat-timeout-ms")) merged.heartbeat_timeout_ms = from_flags.heartbeat_timeout_ms;
    if (given("--forget-after-ms")) merged.forget_after_ms = from_flags.forget_after_ms;
    if (given("--max-frame-bytes")) merged.limits.max_frame_bytes = from_flags.limits.max_frame_bytes;
    if (given("--mailbox-capacity")) merged.limits.mailbox_capacity = from_flags.limits.mailbox_capacity;
    if (cookie_flags.insecure_plaintext) merged.security = Security::insecure_plaintext;
    if (!cookie_flags.cookie.empty() || !cookie_flags.cookie_file.empty()) {
        merged.cookie = cookie_flags.cookie;
        merged.cookie_file = cookie_flags.cookie_file;
    }
    try {
        check(merged);
    } catch (const ConfigError& e) {
        throw UsageError(e.what());
    }
    ClusterFlags cookie_source;
    cookie_source.cookie = merged.cookie;
    cookie_source.cookie_file = merged.cookie_file;
    cookie_source.log_level = merged.log_level;

    Options options;
    options.name = merged.name;
    options.cookie = cookie_source.resolve_cookie();
    options.security = merged.security;
    options.key_file = merged.key_file;
    options.trusted_keys = merged.trusted_keys;
    const Security options_security = options.security;
    options.listen = merged.listen;
    options.gossip = merged.gossip.empty() ? "tcp://" + host_of(merged.listen) + ":*" : merged.gossip;
    options.advertise_host = merged.advertise;
    options.source_address = merged.source;
    options.faults = merged.faults;
    options.seeds = merged.seeds;
    options.admin = merged.admin;
    options.heartbeat_interval = std::chrono::milliseconds(merged.heartbeat_ms);
    options.heartbeat_timeout = std::chrono::milliseconds(merged.heartbeat_timeout_ms);
    options.forget_after = std::chrono::milliseconds(merged.forget_after_ms);
    options.limits = merged.limits;
    options.logger = cookie_source.logger(merged.name, merged.log_format == "json");

    block_stop_signals();
    // --test-hooks is for liminal's own tests: the hooks are not public Options.
    detail::TestHooks hooks;
    hooks.admin_test_hooks = test_hooks;
    Node node = detail::TestAccess::make_node(std::move(options), hooks);
    Process process;
    std::string ready = "ready " + node.name() + " creation=" + std::to_string(node.creation()) +
                        " router=" + node.router_endpoint() + " pub=" + node.pub_endpoint();
    if (inbox) {
        process = node.spawn();
        ready += " inbox=" + process.pid().to_string();
    }
    print_line(ready);
    Process subscriber;
    if (!subscribe.empty()) {
        subscriber = node.spawn();
        for (const auto& channel : subscribe) node.subscribe(channel, subscriber.pid());
    }
    // Printers start after the ready line, so it is always the first line.
    std::atomic<bool> done{false};
    std::vector<std::thread> printers;
    constexpr auto poll = std::chrono::milliseconds(200);
    // Messages are printed by threads of their own, never by the node's I/O
    // thread: a reader that stops reading blocks only its printer, and what
    // cannot wait is dropped and counted by the bounded mailbox.
    const auto print_messages = [&](Process& from) {
        printers.emplace_back([&, process = &from] {
            while (!done.load()) {
                if (auto message = process->receive(poll)) print_line(describe_message(*message, json));
            }
        });
    };
    if (inbox) print_messages(process);
    if (subscriber.is_open()) print_messages(subscriber);
    if (events) {
        printers.emplace_back([&] {
            while (!done.load()) {
                if (auto event = node.next_event(poll)) print_line(describe(*event));
            }
        });
    }
    std::vector<Monitor> monitors;
    for (const auto& scope : monitor) monitors.push_back(node.monitor(scope));
    for (std::size_t i = 0; i < monitors.size(); ++i) {
        // The snapshot as joins, one line per group and node.
        for (const auto& group : monitors[i].snapshot()) {
            std::map<std::string, std::vector<Pid>> by_node;
            for (const auto& pid : group.pids) by_node[pid.node].push_back(pid);
            for (auto& [owner, pids] : by_node) {
                print_line(describe(GroupEvent{GroupEvent::Kind::join, monitor[i], group.group, owner,
                                               std::move(pids), owner == node.name()}));
            }
        }
        printers.emplace_back([&, i] {
            while (!done.load()) {
                if (auto event = monitors[i].next(poll)) print_line(describe(*event));
            }
        });
    }
    // SIGHUP reloads the trusted keys (node keys); SIGINT and SIGTERM stop.
    while (wait_for_signal(-1) == SIGHUP) {
        if (options_security != Security::node_keys) continue;
        try {
            node.reload_trusted_keys();
        } catch (const Error& e) {
            std::fprintf(stderr, "liminal-cli: SIGHUP: %s (the keys in force stay)\n", e.what());
        }
    }
    done.store(true);
    stop_printing();  // a printer blocked on a reader that does not read gives up
    for (auto& printer : printers) printer.join();
    node.stop();
    return exit_ok;
}

}  // namespace liminal::cli
