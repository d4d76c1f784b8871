// liminal-cli status, peers, groups, members, stats, verify and top: what an
// operator asks a running node through its admin endpoint; and fault, which
// a test injects into a node started with --faults.

#include "commands.hpp"
#include "table.hpp"

#include <liminal/admin.hpp>

#include <nlohmann/json.hpp>

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <set>

namespace liminal::cli {
namespace {

using json = nlohmann::json;

// Thrown when a node refused a request or answered with an error.
struct Refused : std::runtime_error {
    using std::runtime_error::runtime_error;
};

json ask(const AdminCommands::Flags& flags, const std::string& endpoint, json request) {
    const auto timeout = std::chrono::milliseconds(static_cast<long>(flags.timeout_s * 1000));
    json reply = json::parse(admin_request(endpoint, flags.cluster.resolve_cookie(), request.dump(), timeout));
    if (!reply.value("ok", false)) throw Refused(endpoint + ": " + reply.value("error", std::string("refused")));
    return reply;
}

// A count in a node's reply (get<> would convert a float out of range as UB).
std::uint64_t count_of(const json& value) {
    if (!value.is_number_unsigned()) throw Refused("the reply holds " + value.dump() + " where a count belongs");
    return value.get<std::uint64_t>();
}

std::string str(const json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number_float()) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.1f", value.get<double>());
        return buffer;
    }
    return value.dump();
}

std::string since(std::int64_t unix_ms) {
    if (unix_ms <= 0) return "-";
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const double seconds = static_cast<double>(now - unix_ms) / 1000.0;
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, seconds < 120 ? "%.0fs ago" : "%.0fm ago", seconds < 120 ? seconds : seconds / 60);
    return buffer;
}

int print_faults(const json& r) {
    std::string partitioned;
    for (const auto& name : r["partitioned"]) partitioned += (partitioned.empty() ? "" : ", ") + name.get<std::string>();
    std::printf("partitioned from: %s\n", partitioned.empty() ? "none" : partitioned.c_str());
    std::printf("incoming gossip dropped: %.0f%%\n", r.value("gossip_drop_rate", 0.0) * 100);
    return exit_ok;
}

// "cannot reach P; O1, O2 can", one line per peer of a node's partial_partitions.
std::vector<std::string> unreachable(const json& partial) {
    std::vector<std::string> lines;
    for (const auto& p : partial) {
        std::string by;
        for (const auto& name : p["seen_up_by"]) by += (by.empty() ? "" : ", ") + name.get<std::string>();
        lines.push_back("cannot reach " + str(p["peer"]) + "; " + by + " can");
    }
    return lines;
}

int print_status(const json& r) {
    std::vector<std::vector<std::string>> rows = {
        {"name", str(r["name"])},
        {"creation", str(r["creation"])},
        {"uptime", str(r["uptime_s"]) + " s"},
        {"router", str(r["router"])},
        {"pub", str(r["pub"])},
        {"admin", str(r["admin"])},
        {"peers", str(r["peers"]["up"]) + " up, " + str(r["peers"]["down"]) + " down, " + str(r["peers"]["connecting"]) +
                      " connecting"},
        {"membership", "seq " + str(r["membership"]["seq"]) + ", " + str(r["membership"]["groups"]) + " groups, " +
                           str(r["membership"]["local"]) + " local and " + str(r["membership"]["remote"]) +
                           " remote members"}};
    for (const auto& line : unreachable(r.value("partial_partitions", json::array())))
        rows.push_back({"partial partition", line});
    for (const auto& [key, value] : r["counters"].items()) rows.push_back({key, str(value)});
    std::fputs(format_table({"FIELD", "VALUE"}, rows).c_str(), stdout);
    return exit_ok;
}

int print_peers(const json& r) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : r["peers"]) {
        rows.push_back({p["name"].get<std::string>().empty() ? "(seed)" : str(p["name"]), str(p["creation"]),
                        str(p["state"]), since(p["since_unix_ms"].get<std::int64_t>()), str(p["last_seq_applied"]),
                        str(p["messages_in"]), human_bytes(p["bytes_in"].get<double>()), str(p["messages_out"]),
                        human_bytes(p["bytes_out"].get<double>()), str(p["router"])});
    }
    std::fputs(format_table({"NAME", "CREATION", "STATE", "SINCE", "LAST-SEQ", "MSGS-IN", "BYTES-IN", "MSGS-OUT",
                             "BYTES-OUT", "ROUTER"},
                            rows)
                   .c_str(),
               stdout);
    return exit_ok;
}

int print_groups(const json& r) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& g : r["groups"]) {
        std::string nodes;
        for (const auto& n : g["nodes"]) {
            if (!nodes.empty()) nodes += ',';
            nodes += n.get<std::string>();
        }
        rows.push_back({str(g["scope"]), str(g["group"]), str(g["local"]), str(g["remote"]), nodes});
    }
    std::fputs(format_table({"SCOPE", "GROUP", "LOCAL", "REMOTE", "NODES"}, rows).c_str(), stdout);
    return exit_ok;
}

int print_members(const json& r) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : r["members"]) rows.push_back({str(m["pid"]), str(m["node"]), m["local"].get<bool>() ? "yes" : "no"});
    std::fputs(format_table({"PID", "NODE", "LOCAL"}, rows).c_str(), stdout);
    return exit_ok;
}

int print_stats(const json& r) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [key, value] : r["counters"].items()) rows.push_back({key, str(value)});
    std::string out = format_table({"COUNTER", "TOTAL"}, rows);
    rows.clear();
    for (const auto& p : r["peers"]) {
        rows.push_back({str(p["name"]), str(p["state"]), str(p["messages_in"]), str(p["bytes_in"]),
                        str(p["messages_out"]), str(p["bytes_out"]), str(p["messages_dropped"]), str(p["slow_consumers"])});
    }
    out += "\n" + format_table({"PEER", "STATE", "MSGS-IN", "BYTES-IN", "MSGS-OUT", "BYTES-OUT", "DROPPED", "SLOW"}, rows);
    rows.clear();
    for (const auto& c : r["channels"]) {
        rows.push_back({str(c["channel"]), str(c["published"]), str(c["nodes_sent"]), str(c["received"]),
                        str(c["delivered"]), str(c["dropped"]), str(c["nodes_dropped"])});
    }
    out += "\n" + format_table({"CHANNEL", "PUBLISHED", "NODES-SENT", "RECEIVED", "DELIVERED", "DROPPED", "NODES-DROPPED"},
                                rows);
    std::fputs(out.c_str(), stdout);
    return exit_ok;
}

std::string label(const std::string& value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

// The Prometheus text exposition format (version 0.0.4).
int print_prometheus(const json& r) {
    const std::string node = label(r["node"]);
    std::string out;
    for (const auto& [key, value] : r["counters"].items()) {
        // in_flight_*, links, sessions: what is there now (gauges); the rest only grow.
        const bool gauge = key.rfind("in_flight_", 0) == 0 || key == "links" || key == "sessions";
        const std::string metric = "liminal_" + key + (gauge ? "" : "_total");
        out += "# HELP " + metric + " liminal node " + (gauge ? "gauge " : "counter ") + key + "\n# TYPE " + metric +
               (gauge ? " gauge\n" : " counter\n");
        out += metric + "{node=\"" + node + "\"} " + str(value) + "\n";
    }
    for (const char* field : {"messages_in", "bytes_in", "messages_out", "bytes_out", "messages_dropped", "slow_consumers"}) {
        const std::string metric = std::string("liminal_peer_") + field + "_total";
        out += "# HELP " + metric + " per-peer " + field + "\n# TYPE " + metric + " counter\n";
        for (const auto& p : r["peers"]) {
            out += metric + "{node=\"" + node + "\",peer=\"" + label(p["name"]) + "\"} " + str(p[field]) + "\n";
        }
    }
    for (const char* field : {"published", "nodes_sent", "received", "delivered", "dropped", "nodes_dropped"}) {
        const std::string metric = std::string("liminal_channel_") + field + "_total";
        out += "# HELP " + metric + " per-channel " + field + "\n# TYPE " + metric + " counter\n";
        for (const auto& c : r["channels"]) {
            out += metric + "{node=\"" + node + "\",channel=\"" + label(c["channel"]) + "\"} " + str(c[field]) + "\n";
        }
    }
    std::fputs(out.c_str(), stdout);
    return exit_ok;
}

// verify: every node's view of every origin against the origin's own.
struct View {
    std::uint64_t creation = 0;
    std::map<std::pair<std::string, std::string>, std::set<std::uint64_t>> groups;
    std::size_t size() const {
        std::size_t n = 0;
        for (const auto& [key, ids] : groups) n += ids.size();
        return n;
    }
};

std::map<std::string, View> parse_views(const json& reply) {
    std::map<std::string, View> out;
    for (const auto& o : reply["origins"]) {
        View view;
        view.creation = o["creation"];
        for (const auto& g : o["groups"]) {
            auto& ids = view.groups[{g["scope"], g["group"]}];
            for (const auto& id : g["ids"]) ids.insert(count_of(id));
        }
        out[o["origin"]] = std::move(view);
    }
    return out;
}

std::string pids(const std::string& origin, std::uint64_t creation, const std::vector<std::uint64_t>& ids) {
    std::string out;
    for (const auto id : ids) out += " " + Pid{origin, creation, id}.to_string();
    return out;
}

int verify(const AdminCommands::Flags& flags) {
    std::map<std::string, std::map<std::string, View>> views;  // node -> origin -> view
    std::vector<std::string> problems;
    for (const auto& endpoint : flags.admin) {
        const json reply = ask(flags, endpoint, {{"cmd", "view"}});
        views[reply["node"]] = parse_views(reply);
        for (const auto& line : unreachable(reply.value("partial_partitions", json::array())))
            problems.push_back("partial partition: " + str(reply["node"]) + " " + line);
    }
    std::set<std::string> origins;
    for (const auto& [node, by_origin] : views) {
        for (const auto& [origin, view] : by_origin) origins.insert(origin);
    }
    std::size_t memberships = 0;
    for (const auto& origin : origins) {
        // The reference is the origin's own view when it was asked, else the first node's.
        std::string reference_node = views.contains(origin) ? origin : "";
        if (reference_node.empty()) {
            for (const auto& [node, by_origin] : views) {
                if (by_origin.contains(origin)) {
                    reference_node = node;
                    break;
                }
            }
        }
        const View reference = views[reference_node][origin];
        memberships += reference.size();
        for (const auto& [node, by_origin] : views) {
            if (node == reference_node || node == origin) continue;
            const auto found = by_origin.find(origin);
            const View empty;
            const View& seen = found == by_origin.end() ? empty : found->second;
            if (found == by_origin.end() && reference.size() == 0) continue;
            if (found != by_origin.end() && seen.creation != reference.creation) {
                problems.push_back("origin " + origin + ": " + node + " holds creation " + std::to_string(seen.creation) +
                                   ", " + reference_node + " holds " + std::to_string(reference.creation));
            }
            std::set<std::pair<std::string, std::string>> keys;
            for (const auto& [key, ids] : reference.groups) keys.insert(key);
            for (const auto& [key, ids] : seen.groups) keys.insert(key);
            for (const auto& key : keys) {
                const auto r = reference.groups.find(key);
                const auto s = seen.groups.find(key);
                std::vector<std::uint64_t> missing, extra;
                if (r != reference.groups.end()) {
                    for (const auto id : r->second) {
                        if (s == seen.groups.end() || !s->second.contains(id)) missing.push_back(id);
                    }
                }
                if (s != seen.groups.end()) {
                    for (const auto id : s->second) {
                        if (r == reference.groups.end() || !r->second.contains(id)) extra.push_back(id);
                    }
                }
                const std::string where = "origin " + origin + ", group " + key.first + "/" + key.second + ": " + node;
                if (!missing.empty())
                    problems.push_back(where + " lacks" + pids(origin, reference.creation, missing) + " (held by " +
                                       reference_node + ")");
                if (!extra.empty())
                    problems.push_back(where + " has extra" + pids(origin, seen.creation, extra) + " (not held by " +
                                       reference_node + ")");
            }
        }
    }
    if (flags.json) {
        std::puts(json{{"agree", problems.empty()}, {"nodes", views.size()}, {"origins", origins.size()},
                       {"memberships", memberships}, {"differences", problems}}
                      .dump()
                      .c_str());
    } else if (problems.empty()) {
        std::printf("all %zu nodes agree on %zu origins (%zu memberships)\n", views.size(), origins.size(), memberships);
    } else {
        std::printf("%zu differences between %zu nodes:\n", problems.size(), views.size());
        for (const auto& p : problems) std::printf("  %s\n", p.c_str());
    }
    return problems.empty() ? exit_ok : exit_failure;
}

// top: a screen refreshed every second until q or Ctrl-C; a single snapshot
// when stdout is not a terminal.
std::string top_screen(const json& status, const json& stats, const json* previous, double seconds) {
    std::string out = "liminal top — " + str(status["name"]) + "  uptime " + str(status["uptime_s"]) + " s  peers " +
                      str(status["peers"]["up"]) + " up / " + str(status["peers"]["down"]) + " down\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : stats["peers"]) {
        rows.push_back({str(p["name"]), str(p["state"]), str(p["messages_in"]), str(p["messages_out"])});
    }
    out += format_table({"PEER", "STATE", "MSGS-IN", "MSGS-OUT"}, rows) + "\n";
    rows.clear();
    std::map<std::string, json> before;
    if (previous != nullptr) {
        for (const auto& c : (*previous)["channels"]) before[c["channel"]] = c;
    }
    for (const auto& c : stats["channels"]) {
        const std::string name = c["channel"];
        const auto rate = [&](const char* field) {
            if (!before.contains(name) || seconds <= 0) return std::string("-");
            const double delta = c[field].get<double>() - before[name][field].get<double>();
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "%.0f/s", delta / seconds);
            return std::string(buffer);
        };
        rows.push_back({name, rate("published"), rate("received"), rate("delivered"), str(c["dropped"])});
    }
    out += format_table({"CHANNEL", "PUBLISHED", "RECEIVED", "DELIVERED", "DROPPED"}, rows) + "\n";
    const auto& counters = stats["counters"];
    std::uint64_t dropped = 0;
    for (const auto& [key, value] : counters.items()) {
        if (key.rfind("dropped_", 0) == 0) dropped += count_of(value);
    }
    out += "dropped " + std::to_string(dropped) + "  malformed " + str(counters["malformed_frames"]) + "  resyncs " +
           str(counters["resyncs_requested"]) + "  purged " + str(counters["members_purged"]) + "\n";
    return out;
}

int top(const AdminCommands::Flags& flags) {
    const std::string& endpoint = flags.admin.front();
    json status = ask(flags, endpoint, {{"cmd", "status"}});
    json stats = ask(flags, endpoint, {{"cmd", "stats"}});
    if (!isatty(STDOUT_FILENO)) {
        std::fputs(top_screen(status, stats, nullptr, 0).c_str(), stdout);
        return exit_ok;
    }
    block_stop_signals();
    termios saved{};
    const bool raw = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (raw) {
        termios t = saved;
        t.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
    }
    auto last = std::chrono::steady_clock::now();
    json previous;
    bool have_previous = false;
    for (;;) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - last).count();
        std::fputs(("\x1b[H\x1b[2J" + top_screen(status, stats, have_previous ? &previous : nullptr, seconds) +
                    "\n(q to quit)\n")
                       .c_str(),
                   stdout);
        std::fflush(stdout);
        previous = stats;
        have_previous = true;
        last = std::chrono::steady_clock::now();
        pollfd input{STDIN_FILENO, POLLIN, 0};
        const bool key = ::poll(&input, 1, 1000) > 0;
        char c = 0;
        if ((key && ::read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q')) || wait_for_signal(0) != 0) break;
        status = ask(flags, endpoint, {{"cmd", "status"}});
        stats = ask(flags, endpoint, {{"cmd", "stats"}});
    }
    if (raw) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return exit_ok;
}

}  // namespace

void AdminCommands::add(CLI::App& app) {
    const auto add_common = [&](CLI::App* cmd, bool many) {
        auto* admin = cmd->add_option("--admin", flags.admin, many ? "Admin endpoint of a node (repeat for each node)"
                                                                    : "Admin endpoint of the node");
        admin->required();
        if (!many) admin->expected(1);
        flags.cluster.add_cookie(*cmd);
        cmd->add_option("--timeout", flags.timeout_s, "Seconds to wait for an answer")
            ->check(CLI::PositiveNumber)
            ->capture_default_str();
        cmd->footer("Exit 0 on success, 1 when a node is unreachable or refuses, 2 on a usage error.");
    };
    const auto with_json = [&](CLI::App* cmd) { cmd->add_flag("--json", flags.json, "Print the node's JSON answer"); };

    auto* status = app.add_subcommand("status", "A node's name, creation, uptime, endpoints, peers, membership, key counters");
    add_common(status, false);
    with_json(status);
    auto* peers = app.add_subcommand("peers", "Each peer: name, creation, state, since when, last seq applied, traffic");
    add_common(peers, false);
    with_json(peers);
    auto* groups = app.add_subcommand("groups", "Each group: local and remote member counts, the nodes holding members");
    add_common(groups, false);
    with_json(groups);
    groups->add_option("--scope", flags.scope, "Only this scope (channels are scope 'channels'; default: all)");
    auto* members = app.add_subcommand("members", "Each member pid of GROUP with its node and whether it is local");
    members->add_option("group", flags.group, "Group name")->required();
    add_common(members, false);
    with_json(members);
    members->add_option("--scope", flags.scope, "Scope (default: 'default'; channels: 'channels')");
    auto* stats = app.add_subcommand("stats", "Every counter: in total, per peer and per channel");
    add_common(stats, false);
    with_json(stats);
    stats->add_flag("--prometheus", flags.prometheus, "Print the Prometheus text exposition format");
    auto* verify = app.add_subcommand("verify", "Check that every node's membership view agrees with every other's");
    add_common(verify, true);
    with_json(verify);
    verify->footer("Exit 0 when all views agree, 1 when they differ (the differences are listed), a node reports a partial "
                   "partition (who cannot reach whom), or a node is unreachable.");
    auto* top = app.add_subcommand("top", "A live view of a node, refreshed every second (q or Ctrl-C quits)");
    add_common(top, false);
    auto* fault = app.add_subcommand("fault", "Inject a fault into a node started with --faults (for tests)");
    fault->require_subcommand(1);
    fault->footer("The node must run with --faults (faults = true); others refuse. A partition cuts the node off\n"
                  "from one peer as a network split between the two would: the pair see each other down, third\n"
                  "nodes still see both. No root or firewall is needed.");
    auto* partition = fault->add_subcommand("partition", "Cut the node off from --peer until healed");
    partition->add_option("--peer", flags.peer, "The peer's node name, name@host")->required();
    auto* heal = fault->add_subcommand("heal", "End a partition (--peer), or every fault, gossip drops included");
    heal->add_option("--peer", flags.peer, "Only the partition from this peer");
    auto* drop = fault->add_subcommand("drop-gossip", "Drop this share of incoming gossip frames");
    drop->add_option("--rate", flags.rate, "From 0 (none) to 1 (all)")->required()->check(CLI::Range(0.0, 1.0));
    for (auto* cmd : {partition, heal, drop}) {
        add_common(cmd, false);
        with_json(cmd);
        cmd->callback([this, cmd] { flags.fault = cmd->get_name(); });
    }
    commands = {{Kind::status, status}, {Kind::peers, peers},   {Kind::groups, groups}, {Kind::members, members},
                {Kind::stats, stats},   {Kind::verify, verify}, {Kind::top, top},       {Kind::fault, fault}};
}

std::optional<AdminCommands::Kind> AdminCommands::chosen() const {
    for (const auto& [kind, cmd] : commands) {
        if (cmd->parsed()) return kind;
    }
    return std::nullopt;
}

int AdminCommands::run(Kind kind) {
    if (flags.json && flags.prometheus) throw UsageError("give --json or --prometheus, not both");
    try {
        if (kind == Kind::verify) return verify(flags);
        if (kind == Kind::top) return top(flags);
        const std::string& endpoint = flags.admin.front();
        json request;
        switch (kind) {
        case Kind::status: request = {{"cmd", "status"}}; break;
        case Kind::peers: request = {{"cmd", "peers"}}; break;
        case Kind::groups: request = {{"cmd", "groups"}, {"args", {{"scope", flags.scope}}}}; break;
        case Kind::members:
            request = {{"cmd", "members"}, {"args", {{"scope", flags.scope.empty() ? "default" : flags.scope}, {"group", flags.group}}}};
            break;
        case Kind::stats: request = {{"cmd", "stats"}}; break;
        case Kind::fault: {
            json args = {{"action", flags.fault}};
            if (!flags.peer.empty()) args["peer"] = flags.peer;
            if (flags.fault == "drop-gossip") args["rate"] = flags.rate;
            request = {{"cmd", "fault"}, {"args", args}};
            break;
        }
        default: break;
        }
        const json reply = ask(flags, endpoint, request);
        if (flags.json) {
            std::puts(reply.dump().c_str());
            return exit_ok;
        }
        switch (kind) {
        case Kind::status: return print_status(reply);
        case Kind::peers: return print_peers(reply);
        case Kind::groups: return print_groups(reply);
        case Kind::members: return print_members(reply);
        case Kind::stats: return flags.prometheus ? print_prometheus(reply) : print_stats(reply);
        case Kind::fault: return print_faults(reply);
        default: return exit_usage;
        }
    } catch (const Refused& e) {
        std::fprintf(stderr, "liminal-cli: %s\n", e.what());
        return exit_failure;
    }
}

}  // namespace liminal::cli
