// `liminal-cli node`: run a node in the foreground until SIGINT/SIGTERM.

#include "commands.hpp"

#include <atomic>
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
    }
    return "";
}

std::string describe(const GroupEvent& event) {
    std::string line = std::string(event.kind == GroupEvent::Kind::join ? "group-join " : "group-leave ") +
                       event.scope + " " + event.group + " " + event.node;
    for (const auto& pid : event.pids) line += " " + pid.to_string();
    return line;
}

}  // namespace

CLI::App* NodeCommand::add(CLI::App& app) {
    auto* cmd = app.add_subcommand("node", "Run a liminal node in the foreground until SIGINT or SIGTERM");
    cmd->add_option("--name", name, "Node name, name@host, unique in the cluster")->required();
    cmd->add_option("--listen", listen, "ROUTER endpoint to bind, e.g. tcp://127.0.0.1:7400 (port * = any)")
        ->required();
    cmd->add_option("--gossip", gossip, "PUB endpoint to bind (default: the --listen host, any port)");
    cmd->add_option("--advertise", advertise, "Host advertised to peers when binding 0.0.0.0 (default: the name's host)");
    cluster.add_seeds(*cmd, false);
    cluster.add_cookie(*cmd);
    cluster.add_log_level(*cmd);
    cmd->add_option("--heartbeat-ms", heartbeat_ms, "ZMTP heartbeat interval")->check(CLI::Range(10, 600000))->capture_default_str();
    cmd->add_option("--heartbeat-timeout-ms", heartbeat_timeout_ms, "Silence after which a peer is marked down")
        ->check(CLI::Range(10, 3600000))
        ->capture_default_str();
    cmd->add_option("--max-frame-bytes", max_frame_bytes, "Largest frame accepted from a peer")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 31))
        ->capture_default_str();
    cmd->add_option("--mailbox-capacity", mailbox_capacity, "Messages a process mailbox holds before dropping")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_flag("--inbox", inbox,
                  "Spawn a process, add inbox=<pid> to the ready line and print each message it receives as "
                  "'message <sender-pid> <payload>'");
    cmd->add_flag("--events", events,
                  "Print peer events: 'peer-up <name> creation=<n> router=<ep>', "
                  "'peer-down <name> creation=<n> reason=<r>', 'peer-rejected <endpoint> <why>'");
    cmd->add_option("--subscribe", subscribe,
                    "Subscribe a process to CHANNEL (repeatable) and print each message as "
                    "'<channel> <sender-pid> <payload>'");
    cmd->add_flag("--json", json, "Print --subscribe messages as one JSON object per line");
    cmd->add_option("--monitor", monitor,
                    "Print the groups of SCOPE (repeatable; channels are scope 'channels') and every change: "
                    "'group-join|group-leave <scope> <group> <node> <pid>...'");
    cmd->footer(
        "On start, prints exactly one line to stdout:\n"
        "  ready <name> creation=<n> router=<endpoint> pub=<endpoint>[ inbox=<pid>]\n"
        "SIGINT/SIGTERM say BYE to every peer and exit 0.");
    return cmd;
}

int NodeCommand::run() {
    Options options;
    options.name = name;
    options.cookie = cluster.resolve_cookie();
    options.listen = listen;
    options.gossip = gossip.empty() ? "tcp://" + host_of(listen) + ":*" : gossip;
    options.advertise_host = advertise;
    options.seeds = cluster.seeds;
    options.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);
    options.heartbeat_timeout = std::chrono::milliseconds(heartbeat_timeout_ms);
    options.limits.max_frame_bytes = max_frame_bytes;
    options.limits.mailbox_capacity = mailbox_capacity;
    options.logger = cluster.logger(name);

    block_stop_signals();
    Node node(std::move(options));
    Process process;
    std::string ready = "ready " + node.name() + " creation=" + std::to_string(node.creation()) +
                        " router=" + node.router_endpoint() + " pub=" + node.pub_endpoint();
    if (inbox) {
        process = node.spawn();
        ready += " inbox=" + process.pid().to_string();
    }
    print_line(ready);
    if (inbox) {
        process.on_message([](Message m) { print_line("message " + m.from().to_string() + " " + printable(m.payload())); });
    }
    Process subscriber;
    if (!subscribe.empty()) {
        subscriber = node.spawn();
        subscriber.on_message([json = json](Message m) {
            if (json)
                print_line(message_json(m));
            else
                print_line(m.envelope()->channel + " " + m.from().to_string() + " " + printable(m.payload()));
        });
        for (const auto& channel : subscribe) node.subscribe(channel, subscriber.pid());
    }
    // Printers start after the ready line, so it is always the first line.
    std::atomic<bool> done{false};
    std::vector<std::thread> printers;
    constexpr auto poll = std::chrono::milliseconds(200);
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
    wait_for_signal(-1);
    done.store(true);
    for (auto& printer : printers) printer.join();
    node.stop();
    return exit_ok;
}

}  // namespace liminal::cli
