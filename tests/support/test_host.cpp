// A test host: one node in a process of its own, on its own loopback
// address, driven line by line on stdin, for the partition tests
// (test_partition.cpp), which split such hosts with a firewall.
//
//   test_host NAME ADDRESS [SEED] [HEARTBEAT_MS TIMEOUT_MS DIGEST_MS]
//
// The node binds its ROUTER and PUB on ADDRESS (any port) and makes its
// outgoing connections from ADDRESS. It prints `ready <router endpoint>`,
// then answers each command with one line:
//   join GROUP KEY... the processes named KEY (each spawned on first use)
//                     join GROUP (scope "default") in one call: `joined <pid> ...`
//   leave GROUP KEY...  they leave it in one call: `left true` (or `left false`:
//                     none was a member)
//   spawn KEY         a process named KEY, in no group: `spawned <pid>`
//   close KEY         the process closes: `closed <pid>`
//   members GROUP     `members <pid> ...`, sorted
//   view              `view <group>=<pid>,<pid>;...`: every group of "default"
//   peers             `peers <name>=<up|down|connecting> ...`
//   sync MS           sync_membership: `sync ok` or `sync lagging <name> ...`
//   stats             `stats members_purged=N purges=N resyncs_requested=N`
// An unknown command gets `error <command>`. EOF or `quit` stops the node
// (BYE) and exits 0.

#include <liminal/liminal.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr const char* cookie = "test-host-cookie-4d1f8e6a0b73";

const char* state_name(liminal::PeerState state) {
    switch (state) {
    case liminal::PeerState::up: return "up";
    case liminal::PeerState::down: return "down";
    default: return "connecting";
    }
}

std::string sorted_pids(std::vector<liminal::Pid> pids, char separator) {
    std::vector<std::string> texts;
    for (const auto& pid : pids) texts.push_back(pid.to_string());
    std::sort(texts.begin(), texts.end());
    std::string out;
    for (const auto& text : texts) {
        if (!out.empty()) out += separator;
        out += text;
    }
    return out;
}

void answer(const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4 && argc != 7) {
        std::fprintf(stderr, "usage: test_host NAME ADDRESS [SEED] [HEARTBEAT_MS TIMEOUT_MS DIGEST_MS]\n");
        return 2;
    }
    const std::string address = argv[2];
    liminal::Options options;
    options.name = argv[1];
    options.cookie = cookie;
    options.listen = "tcp://" + address + ":*";
    options.gossip = "tcp://" + address + ":*";
    options.source_address = address;
    if (argc >= 4 && std::string(argv[3]) != "-") options.seeds = {argv[3]};
    if (argc == 7) {
        options.heartbeat_interval = std::chrono::milliseconds(std::stoi(argv[4]));
        options.heartbeat_timeout = std::chrono::milliseconds(std::stoi(argv[5]));
        options.digest_interval = std::chrono::milliseconds(std::stoi(argv[6]));
    }
    liminal::Node node(options);
    std::map<std::string, liminal::Process> processes;  // by the test's name for them
    const auto pids_of = [&](std::istringstream& in) {
        std::vector<liminal::Pid> pids;
        for (std::string key; in >> key;) {
            auto it = processes.find(key);
            if (it == processes.end()) it = processes.emplace(key, node.spawn()).first;
            pids.push_back(it->second.pid());
        }
        return pids;
    };
    answer("ready " + node.router_endpoint());

    for (std::string line; std::getline(std::cin, line);) {
        std::istringstream in(line);
        std::string command, arg;
        in >> command >> arg;
        if (command == "quit") break;
        if (command == "join") {
            const auto pids = pids_of(in);
            node.join("default", arg, pids);
            std::string out = "joined";
            for (const auto& pid : pids) out += " " + pid.to_string();
            answer(out);
        } else if (command == "leave") {
            const auto pids = pids_of(in);
            answer(node.leave("default", arg, pids) ? "left true" : "left false");
        } else if (command == "spawn" && !arg.empty() && processes.count(arg) == 0) {
            answer("spawned " + processes.emplace(arg, node.spawn()).first->second.pid().to_string());
        } else if (command == "close" && processes.count(arg) > 0) {
            answer("closed " + processes.at(arg).pid().to_string());
            processes.at(arg).close();
        } else if (command == "members") {
            answer("members " + sorted_pids(node.members("default", arg), ' '));
        } else if (command == "view") {
            std::string out;
            for (const auto& group : node.which_groups("default")) {
                if (!out.empty()) out += ';';
                out += group + "=" + sorted_pids(node.members("default", group), ',');
            }
            answer("view " + out);
        } else if (command == "peers") {
            std::string out = "peers";
            for (const auto& peer : node.peers()) out += " " + peer.name + "=" + state_name(peer.state);
            answer(out);
        } else if (command == "partial") {
            // Each peer this node cannot reach while others can: P=O1,O2.
            std::string out = "partial";
            for (const auto& peer : node.peers()) {
                if (peer.seen_up_by.empty()) continue;
                out += " " + peer.name + "=";
                for (std::size_t i = 0; i < peer.seen_up_by.size(); ++i) out += (i ? "," : "") + peer.seen_up_by[i];
            }
            answer(out);
        } else if (command == "sync") {
            const auto result = node.sync_membership(std::chrono::milliseconds(std::stoi(arg.empty() ? "5000" : arg)));
            std::string out = result.ok ? "sync ok" : "sync lagging";
            for (const auto& name : result.lagging) out += " " + name;
            answer(out);
        } else if (command == "stats") {
            const auto s = node.stats();
            answer("stats members_purged=" + std::to_string(s.members_purged) + " purges=" + std::to_string(s.purges) +
                   " resyncs_requested=" + std::to_string(s.resyncs_requested) +
                   " partial_partitions=" + std::to_string(s.partial_partitions));
        } else {
            answer("error " + line);
        }
    }
    node.stop();
    return 0;
}
