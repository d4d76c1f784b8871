// liminal-perf: cluster scenarios, with the other nodes in child processes
// where that is more honest (their CPU is not the measured process's).
//
//   liminal-perf fanout [nodes] [subscribers] [messages] [size]   (4 1 50000 64)
//   liminal-perf backfill [memberships] [groups]                   (100000 1000)
//   liminal-perf churn [nodes] [seconds] [groups]                  (3 3 100)
//   liminal-perf purge [nodes] [memberships]                       (3 10000)
//   liminal-perf idle [nodes] [seconds]                            (3 3)
//
// Child nodes are this program again (`liminal-perf member ...`), and the
// scenario is coordinated over the cluster itself: every node runs a control
// process in group ("perf", "control") and reports to the parent's by
// directed sends.

#include "perf_common.hpp"
#include "perf_node.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC: comparable across processes
constexpr auto control_group = "control";
constexpr auto control_scope = "perf";

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "liminal-perf: %s\n", what.c_str());
    std::exit(1);
}

std::size_t arg(int argc, char** argv, int index, std::size_t fallback) {
    if (argc <= index) return fallback;
    try {
        return std::stoull(argv[index]);
    } catch (const std::exception&) {
        fail(std::string("not a number: ") + argv[index]);
    }
}

// Resident set size in bytes (Linux).
std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// User + system CPU time of this process, in microseconds.
double cpu_us() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
    return us(usage.ru_utime) + us(usage.ru_stime);
}

std::uint64_t now_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count());
}

std::vector<std::string> words(std::string_view text) {
    std::istringstream in{std::string(text)};
    std::vector<std::string> out;
    for (std::string word; in >> word;) out.push_back(word);
    return out;
}

// A child `liminal-perf member ...`; SIGKILLed if still running when dropped.
class Child {
public:
    explicit Child(std::vector<std::string> args) {
        args.insert(args.begin(), {"liminal-perf", "member"});
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (::posix_spawn(&pid_, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0)
            fail("cannot start a child node");
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    void kill(int signal) const { ::kill(pid_, signal); }
    // Reaps the child; false if it exited with an error.
    bool reap() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

private:
    pid_t pid_ = -1;
};

// One node's part in the coordination: a control process in ("perf",
// "control"), and the parent's control pid once it is known.
class Control {
public:
    explicit Control(liminal::Node& node) : node_(node), process_(node.spawn()) {
        node_.join(control_scope, control_group, process_.pid());
    }

    const liminal::Pid& pid() const { return process_.pid(); }

    // The next control message, or fail() after `timeout`.
    liminal::Message next(std::chrono::seconds timeout, const char* waiting_for) {
        auto message = process_.receive(timeout);
        if (!message) fail(std::string("no ") + waiting_for + " within " + std::to_string(timeout.count()) + " s");
        return *message;
    }
    // A control message if one is waiting.
    std::optional<liminal::Message> poll() { return process_.try_receive(); }
    // Collects one `kind` message from each of `count` nodes (they carry their
    // index second); returns their words by index.
    std::map<std::size_t, std::vector<std::string>> collect(const std::string& kind, std::size_t count,
                                                            std::chrono::seconds timeout) {
        std::map<std::size_t, std::vector<std::string>> out;
        const auto deadline = Clock::now() + timeout;
        while (out.size() < count) {
            const auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now());
            auto message = next(std::max(left, std::chrono::seconds(1)), kind.c_str());
            auto w = words(message.payload());
            if (w.size() >= 2 && w[0] == kind) {
                senders_[std::stoull(w[1])] = message.from();
                out[std::stoull(w[1])] = std::move(w);
            }
            if (Clock::now() > deadline) fail("timed out collecting '" + kind + "'");
        }
        return out;
    }
    // Parent: tells every child that reported.
    void broadcast(const std::string& text) {
        for (const auto& [index, pid] : senders_) node_.send(process_.pid(), pid, text);
    }
    // Child: the parent's control pid (the only other member that is not a child's).
    liminal::Pid parent(const std::string& parent_node, std::chrono::seconds timeout) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            for (const auto& pid : node_.members(control_scope, control_group)) {
                if (pid.node == parent_node) return pid;
            }
            if (Clock::now() > deadline) fail("the parent's control process never appeared");
            node_.next_event(std::chrono::milliseconds(5));  // wakes on peer events; bounded
        }
    }
    void tell(const liminal::Pid& to, const std::string& text) { node_.send(process_.pid(), to, text); }

private:
    liminal::Node& node_;
    liminal::Process process_;
    std::map<std::size_t, liminal::Pid> senders_;
};

// "g<index>", built by appending (g++ 12 warns falsely about "g" + std::string).
std::string group_name(std::size_t index) {
    std::string name = "g";
    name += std::to_string(index);
    return name;
}

std::string node_name(std::size_t index) { return "member-" + std::to_string(index) + "@127.0.0.1"; }
constexpr auto parent_name = "perf-parent@127.0.0.1";

// ---- fan-out --------------------------------------------------------------

int fanout_member(liminal::Node& node, Control& control, const liminal::Pid& parent, std::size_t index,
                  std::size_t subscribers, std::size_t messages) {
    const std::size_t expected = subscribers * messages;
    std::atomic<std::size_t> received{0};
    liminal::perf::Flag all;
    std::vector<liminal::Process> subs;
    for (std::size_t i = 0; i < subscribers; ++i) {
        subs.push_back(node.spawn());
        subs.back().on_message([&](liminal::Message) {
            if (received.fetch_add(1, std::memory_order_relaxed) + 1 == expected) all.set();
        });
        node.subscribe("fanout", subs.back().pid());
    }
    if (!node.sync_membership(std::chrono::seconds(30)).ok) fail("member: no convergence");
    control.tell(parent, "ready " + std::to_string(index));
    const bool complete = all.wait(std::chrono::seconds(120));
    control.tell(parent, "received " + std::to_string(index) + " " + std::to_string(received.load()));
    control.next(std::chrono::seconds(120), "exit");
    return complete ? 0 : 1;
}

int fanout(std::size_t nodes, std::size_t subscribers, std::size_t messages, std::size_t size) {
    liminal::Node node(liminal::perf::node_options(parent_name));
    Control control(node);
    std::vector<std::unique_ptr<Child>> children;
    for (std::size_t i = 0; i < nodes; ++i) {
        children.push_back(std::make_unique<Child>(std::vector<std::string>{
            "fanout", node.router_endpoint(), std::to_string(i), std::to_string(subscribers), std::to_string(messages)}));
    }
    control.collect("ready", nodes, std::chrono::seconds(60));
    if (node.remote_members(liminal::channels_scope, "fanout").size() != nodes * subscribers) {
        if (!node.sync_membership(std::chrono::seconds(30)).ok) fail("no convergence");
    }
    const std::string payload(size, 'x');
    const double cpu_before = cpu_us();
    const auto start = Clock::now();
    for (std::size_t i = 0; i < messages; ++i) {
        while (node.publish("fanout", payload).would_block) {
        }
    }
    const auto published = Clock::now();
    const auto received = control.collect("received", nodes, std::chrono::seconds(180));
    const auto done = Clock::now();
    const double cpu = cpu_us() - cpu_before;
    std::size_t delivered = 0;
    for (const auto& [index, w] : received) delivered += std::stoull(w.at(2));
    control.broadcast("exit");
    bool children_ok = true;
    for (auto& child : children) children_ok = child->reap() && children_ok;

    const double publish_s = std::chrono::duration<double>(published - start).count();
    const double total_s = std::chrono::duration<double>(done - start).count();
    std::printf("nodes: %zu, subscribers per node: %zu, messages: %zu of %zu [B]\n", nodes, subscribers, messages, size);
    std::printf("publisher cpu: %.3f [us/msg] (user+sys of the publishing process until all were delivered)\n",
                cpu / static_cast<double>(messages));
    std::printf("publish rate: %.0f [msg/s]\n", static_cast<double>(messages) / publish_s);
    std::printf("deliveries: %zu of %zu, %.0f [msg/s] end to end\n", delivered, nodes * subscribers * messages,
                static_cast<double>(delivered) / total_s);
    return delivered == nodes * subscribers * messages && children_ok ? 0 : 1;
}

// ---- backfill -------------------------------------------------------------

int backfill(std::size_t memberships, std::size_t groups) {
    if (groups == 0 || memberships < groups) fail("backfill: need memberships >= groups > 0");
    liminal::Node a(liminal::perf::node_options("holder@127.0.0.1"));
    // memberships / groups processes, each in every group: the pg shape of
    // many workers in many groups.
    const std::size_t per_group = memberships / groups;
    std::vector<liminal::Process> processes;
    std::vector<liminal::Pid> pids;
    for (std::size_t i = 0; i < per_group; ++i) {
        processes.push_back(a.spawn());
        pids.push_back(processes.back().pid());
    }
    for (std::size_t g = 0; g < groups; ++g) a.join("default", "group-" + std::to_string(g), pids);
    const std::size_t total = per_group * groups;

    const std::size_t rss_before = rss_bytes();
    const auto start = Clock::now();
    auto b_options = liminal::perf::node_options("newcomer@127.0.0.1");
    b_options.seeds = {a.router_endpoint()};
    liminal::Node b(b_options);
    const auto deadline = start + std::chrono::seconds(120);
    while (b.stats().snapshots_applied == 0) {
        if (Clock::now() > deadline) fail("backfill: no snapshot within 120 s");
        b.next_event(std::chrono::milliseconds(1));
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    const std::size_t rss_after = rss_bytes();
    std::size_t seen = 0;
    for (const auto& group : b.which_groups("default")) seen += b.remote_members("default", group).size();
    if (seen != total) fail("backfill: view has " + std::to_string(seen) + " of " + std::to_string(total));
    std::printf("memberships: %zu in %zu groups\n", total, groups);
    std::printf("backfill complete: %.1f [ms] from the newcomer's start\n", ms);
    std::printf("memory: %.0f [B] per remote membership (RSS growth, newcomer node included)\n",
                static_cast<double>(rss_after - std::min(rss_after, rss_before)) / static_cast<double>(total));
    return 0;
}

// ---- churn ----------------------------------------------------------------

// An order-independent digest of a node's whole view of the churn groups.
std::pair<std::uint64_t, std::size_t> churn_view(liminal::Node& node, std::size_t groups) {
    std::uint64_t hash = 0;
    std::size_t count = 0;
    for (std::size_t g = 0; g < groups; ++g) {
        for (const auto& pid : node.members("churn", group_name(g))) {
            std::string key = group_name(g);
            key += '/';
            key += pid.to_string();
            hash += std::hash<std::string>{}(key) * 0x9e3779b97f4a7c15ULL;
            ++count;
        }
    }
    return {hash, count};
}

int churn_member(liminal::Node& node, Control& control, const liminal::Pid& parent, std::size_t index,
                 std::size_t groups) {
    std::vector<liminal::Process> processes;
    for (int i = 0; i < 50; ++i) processes.push_back(node.spawn());
    control.tell(parent, "ready " + std::to_string(index));
    control.next(std::chrono::seconds(60), "go");
    // Churn until the parent says stop: the loop looks between batches.
    std::mt19937_64 random(index + 1);
    std::size_t operations = 0;
    std::vector<std::vector<bool>> joined(processes.size(), std::vector<bool>(groups, false));
    for (;;) {
        for (int i = 0; i < 100; ++i) {
            const auto p = random() % processes.size();
            const auto g = random() % groups;
            const std::string group = group_name(g);
            if (joined[p][g])
                node.leave("churn", group, processes[p].pid());
            else
                node.join("churn", group, processes[p].pid());
            joined[p][g] = !joined[p][g];
            ++operations;
        }
        if (control.poll()) break;
    }
    const auto stopped = now_us();
    if (!node.sync_membership(std::chrono::seconds(30)).ok) fail("member: no convergence after churn");
    control.tell(parent, "synced " + std::to_string(index) + " " + std::to_string(operations) + " " +
                             std::to_string(now_us() - stopped));
    control.next(std::chrono::seconds(60), "report");
    const auto [hash, count] = churn_view(node, groups);
    control.tell(parent, "view " + std::to_string(index) + " " + std::to_string(hash) + " " + std::to_string(count));
    control.next(std::chrono::seconds(60), "exit");
    return 0;
}

int churn(std::size_t nodes, std::size_t seconds, std::size_t groups) {
    liminal::Node node(liminal::perf::node_options(parent_name));
    Control control(node);
    std::vector<std::unique_ptr<Child>> children;
    for (std::size_t i = 0; i < nodes; ++i) {
        children.push_back(std::make_unique<Child>(
            std::vector<std::string>{"churn", node.router_endpoint(), std::to_string(i), std::to_string(groups)}));
    }
    control.collect("ready", nodes, std::chrono::seconds(60));
    control.broadcast("go");
    const auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the measured interval, not a wait for a condition
    control.broadcast("stop");
    const auto stop = Clock::now();
    const auto synced = control.collect("synced", nodes, std::chrono::seconds(60));
    const double converged_ms = std::chrono::duration<double, std::milli>(Clock::now() - stop).count();
    std::size_t operations = 0;
    for (const auto& [index, w] : synced) operations += std::stoull(w.at(2));
    // The parent's own view must match too: every child's changes reached it
    // when the children's barriers passed.
    control.broadcast("report");
    const auto views = control.collect("view", nodes, std::chrono::seconds(60));
    const auto mine = churn_view(node, groups);
    bool equal = true;
    for (const auto& [index, w] : views)
        equal = equal && std::stoull(w.at(2)) == mine.first && std::stoull(w.at(3)) == mine.second;
    control.broadcast("exit");
    for (auto& child : children) child->reap();
    const double churn_s = std::chrono::duration<double>(stop - start).count();
    std::printf("nodes: %zu (+1 observer), groups: %zu, churn for %.1f [s]\n", nodes, groups, churn_s);
    std::printf("churn: %.0f [joins+leaves/s] across the cluster\n", static_cast<double>(operations) / churn_s);
    std::printf("converged: %.1f [ms] after the churn stopped (every node's barrier passed)\n", converged_ms);
    std::printf("views equal: %s (%zu memberships on every node)\n", equal ? "yes" : "NO", mine.second);
    return equal ? 0 : 1;
}

// ---- purge ----------------------------------------------------------------

// True once `node` holds the victim's whole view (memberships / 100 groups
// of 100 pids) and its own link to the victim is up. Killing the victim
// before then would time how long a node takes to drop a view it never
// linked to (two heartbeat timeouts), or a purge of nothing.
bool holds_victim(const liminal::Node& node, std::size_t memberships) {
    std::string victim;
    for (std::size_t g = 0; g < memberships / 100; ++g) {
        const auto members = node.remote_members("purge", group_name(g));
        if (members.size() != 100) return false;
        victim = members.front().node;
    }
    for (const auto& peer : node.peers())
        if (peer.name == victim) return peer.state == liminal::PeerState::up;
    return false;
}

void wait_for_victim(liminal::Node& node, std::size_t memberships, const char* who) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!holds_victim(node, memberships)) {
        if (Clock::now() > deadline) fail(std::string(who) + ": the victim's view was not held within 60 s");
        node.next_event(std::chrono::milliseconds(5));  // a peer event wakes it at once
    }
}

int purge_member(liminal::Node& node, Control& control, const liminal::Pid& parent, std::size_t index,
                 std::size_t memberships, bool victim) {
    std::vector<liminal::Process> processes;
    if (victim) {
        // 100 processes in memberships / 100 groups each.
        for (int i = 0; i < 100; ++i) processes.push_back(node.spawn());
        std::vector<liminal::Pid> pids;
        for (const auto& p : processes) pids.push_back(p.pid());
        for (std::size_t g = 0; g < memberships / 100; ++g) node.join("purge", group_name(g), pids);
        if (!node.sync_membership(std::chrono::seconds(60)).ok) fail("victim: no convergence");
        control.tell(parent, "ready " + std::to_string(index));
        control.next(std::chrono::seconds(120), "the end");  // SIGKILL comes first
        return 0;
    }
    wait_for_victim(node, memberships, "survivor");
    control.tell(parent, "ready " + std::to_string(index));
    // Purged once every membership of the victim is gone.
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (node.stats().members_purged < memberships) {
        if (Clock::now() > deadline) fail("survivor: no purge within 120 s");
        node.next_event(std::chrono::milliseconds(1));  // a peer event wakes it at once
    }
    control.tell(parent, "purged " + std::to_string(index) + " " + std::to_string(now_us()));
    control.next(std::chrono::seconds(60), "exit");
    return 0;
}

int purge(std::size_t nodes, std::size_t memberships) {
    if (nodes < 2 || memberships < 100) fail("purge: need at least 2 nodes and 100 memberships");
    memberships -= memberships % 100;
    liminal::Node node(liminal::perf::node_options(parent_name));
    Control control(node);
    std::vector<std::unique_ptr<Child>> children;
    // The last child is the victim; the survivors must see all of its
    // memberships before it dies.
    for (std::size_t i = 0; i < nodes; ++i) {
        children.push_back(std::make_unique<Child>(std::vector<std::string>{
            "purge", node.router_endpoint(), std::to_string(i), std::to_string(memberships),
            i + 1 == nodes ? "victim" : "survivor"}));
    }
    control.collect("ready", nodes, std::chrono::seconds(120));
    if (!node.sync_membership(std::chrono::seconds(60)).ok) fail("no convergence");
    wait_for_victim(node, memberships, "observer");
    const auto killed = now_us();
    children.back()->kill(SIGKILL);
    children.back()->reap();
    const auto purged = control.collect("purged", nodes - 1, std::chrono::seconds(120));
    double worst_ms = 0;
    for (const auto& [index, w] : purged)
        worst_ms = std::max(worst_ms, static_cast<double>(std::stoull(w.at(2)) - killed) / 1000.0);
    // The observer purges on its own I/O thread, which may take the
    // survivors' reports before its own link's disconnect: wait for it too.
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (node.stats().members_purged < memberships && Clock::now() < deadline)
        node.next_event(std::chrono::milliseconds(1));
    const bool parent_purged = node.stats().members_purged >= memberships;
    if (!parent_purged) std::fprintf(stderr, "liminal-perf purge: the observer never purged the victim\n");
    control.broadcast("exit");
    for (std::size_t i = 0; i + 1 < children.size(); ++i) children[i]->reap();
    std::printf("nodes: %zu (+1 observer), victim memberships: %zu\n", nodes, memberships);
    std::printf("purged on every survivor: %.1f [ms] after SIGKILL (slowest of %zu)\n", worst_ms, nodes - 1);
    return parent_purged ? 0 : 1;
}

// ---- idle -----------------------------------------------------------------

int idle(std::size_t nodes, std::size_t seconds) {
    std::vector<std::unique_ptr<liminal::Node>> cluster;
    std::vector<liminal::Process> subscribers;
    for (std::size_t i = 0; i < nodes; ++i) {
        auto options = liminal::perf::node_options(node_name(i));
        if (i > 0) options.seeds = {cluster.front()->router_endpoint()};
        cluster.push_back(std::make_unique<liminal::Node>(options));
        subscribers.push_back(cluster.back()->spawn());
        cluster.back()->subscribe("idle", subscribers.back().pid());
    }
    for (auto& node : cluster) {
        if (!node->sync_membership(std::chrono::seconds(30)).ok) fail("idle: no convergence");
    }
    const double cpu_before = cpu_us();
    const auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the measured interval
    const double wall_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    const double cpu = cpu_us() - cpu_before;
    std::printf("nodes: %zu meshed, one subscriber each, no traffic for %zu [s]\n", nodes, seconds);
    std::printf("idle cpu: %.2f [%% of one core] for all %zu nodes (digests and heartbeats only)\n",
                100.0 * cpu / wall_us, nodes);
    return 0;
}

// ---- child nodes ----------------------------------------------------------

int member(int argc, char** argv) {
    // member <scenario> <seed> <index> <args...>
    if (argc < 5) fail("member: missing arguments");
    const std::string scenario = argv[2];
    const std::size_t index = arg(argc, argv, 4, 0);
    auto options = liminal::perf::node_options(node_name(index));
    options.seeds = {argv[3]};
    liminal::Node node(options);
    Control control(node);
    const auto parent = control.parent(parent_name, std::chrono::seconds(30));
    // The parent must know our control process before we report to it.
    if (!node.sync_membership(std::chrono::seconds(30)).ok) fail("member: no convergence");
    if (scenario == "fanout") return fanout_member(node, control, parent, index, arg(argc, argv, 5, 1), arg(argc, argv, 6, 1));
    if (scenario == "churn") return churn_member(node, control, parent, index, arg(argc, argv, 5, 100));
    if (scenario == "purge")
        return purge_member(node, control, parent, index, arg(argc, argv, 5, 10000), argc > 6 && std::string(argv[6]) == "victim");
    fail("member: unknown scenario " + scenario);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string scenario = argc > 1 ? argv[1] : "";
    if (scenario == "fanout")
        return fanout(arg(argc, argv, 2, 4), arg(argc, argv, 3, 1), arg(argc, argv, 4, 50'000), arg(argc, argv, 5, 64));
    if (scenario == "backfill") return backfill(arg(argc, argv, 2, 100'000), arg(argc, argv, 3, 1'000));
    if (scenario == "churn") return churn(arg(argc, argv, 2, 3), arg(argc, argv, 3, 3), arg(argc, argv, 4, 100));
    if (scenario == "purge") return purge(arg(argc, argv, 2, 3), arg(argc, argv, 3, 10'000));
    if (scenario == "idle") return idle(arg(argc, argv, 2, 3), arg(argc, argv, 3, 3));
    if (scenario == "member") return member(argc, argv);
    std::fprintf(stderr,
                 "usage: liminal-perf <scenario> [arguments]\n"
                 "  fanout [nodes=4] [subscribers=1] [messages=50000] [size=64]\n"
                 "      one publisher, subscribers on every other node (child processes): the publisher's\n"
                 "      CPU per message and the delivery rate\n"
                 "  backfill [memberships=100000] [groups=1000]\n"
                 "      a newcomer joins a node holding the memberships: time until its view is complete,\n"
                 "      memory per remote membership\n"
                 "  churn [nodes=3] [seconds=3] [groups=100]\n"
                 "      nodes join and leave groups flat out, then stop: rate, time to converge, and whether\n"
                 "      every view is equal\n"
                 "  purge [nodes=3] [memberships=10000]\n"
                 "      SIGKILL to a node holding the memberships: time until every survivor purged them\n"
                 "  idle [nodes=3] [seconds=3]\n"
                 "      a meshed cluster with no traffic: CPU used\n");
    return 2;
}
