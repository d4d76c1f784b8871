#pragma once
// Real partitions for tests: test hosts (support/test_host.cpp, a node in a
// process of its own on its own loopback address) and a firewall that
// splits them with nftables. Needs root and nft; Firewall::unavailable()
// says what is missing where they cannot run.

#include "support/child.hpp"
#include "support/wait.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace liminal::test {

inline std::string nft_path() {
    for (const char* path : {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"}) {
        if (::access(path, X_OK) == 0) return path;
    }
    return {};
}

// Drops every packet between two addresses, both ways, as a silent split
// does (no RST, no ICMP): in a table of its own, removed when it goes. The
// packets are dropped where they arrive (the input hook), not where they
// leave: a drop on output fails the sender's own writes (EPERM), which a
// split network never does.
class Firewall {
public:
    // Why partition tests cannot run here; empty when they can.
    static std::string unavailable() {
        if (::geteuid() != 0) return "not root (nftables rules need CAP_NET_ADMIN)";
        if (nft_path().empty()) return "nft not found (apt-get install nftables)";
        const std::string probe = "liminal_probe_" + std::to_string(::getpid());
        const auto made = run_command({nft_path(), "add", "table", "inet", probe}, std::chrono::seconds(10), true);
        run_command({nft_path(), "delete", "table", "inet", probe}, std::chrono::seconds(10), true);
        if (made.code != 0) return "nft cannot add a table here: " + made.out;
        return {};
    }

    Firewall() : table_("liminal_test_" + std::to_string(::getpid())) {
        nft({"add", "table", "inet", table_});
        nft({"add", "chain", "inet", table_, "in", "{ type filter hook input priority 0; policy accept; }"});
    }
    ~Firewall() { run_command({nft_path(), "delete", "table", "inet", table_}, std::chrono::seconds(10), true); }
    Firewall(const Firewall&) = delete;
    Firewall& operator=(const Firewall&) = delete;

    void cut(const std::string& a, const std::string& b) {
        nft({"add", "rule", "inet", table_, "in", "ip", "saddr", a, "ip", "daddr", b, "drop"});
        nft({"add", "rule", "inet", table_, "in", "ip", "saddr", b, "ip", "daddr", a, "drop"});
    }
    // Every cut ends.
    void heal() { nft({"flush", "chain", "inet", table_, "in"}); }

private:
    void nft(std::vector<std::string> args) {
        args.insert(args.begin(), nft_path());
        const auto result = run_command(args, std::chrono::seconds(10), true);
        if (result.code != 0) throw std::runtime_error("nft failed: " + result.out);
    }
    std::string table_;
};

// Loopback addresses of this test process's hosts: 127.A.B.N, with A.B from
// the pid, so that tests running side by side never cut each other.
inline std::string host_address(int n) {
    const int pid = static_cast<int>(::getpid());
    return "127." + std::to_string(10 + pid % 240) + "." + std::to_string(pid / 240 % 250) + "." + std::to_string(n);
}

struct HostTimings {
    int heartbeat_ms = 200;
    int heartbeat_timeout_ms = 1000;
    int digest_ms = 1000;
};

// A test host and its command line: see support/test_host.cpp.
class Host {
public:
    Host(std::string name, std::string address, const std::string& seed, HostTimings timings = {})
        : name(std::move(name)), address(std::move(address)),
          child_({LIMINAL_TEST_HOST, this->name, this->address, seed.empty() ? "-" : seed,
                  std::to_string(timings.heartbeat_ms), std::to_string(timings.heartbeat_timeout_ms),
                  std::to_string(timings.digest_ms)},
                 false, true) {
        const auto ready = child_.wait_for_line("ready ", std::chrono::seconds(10));
        if (!ready) throw std::runtime_error("test host " + this->name + " did not start");
        router = ready->substr(6);
    }

    // One command, its one line of answer.
    std::string ask(const std::string& command, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        if (!child_.write_line(command)) throw std::runtime_error(name + " is gone");
        const auto line = child_.read_line(timeout);
        if (!line) throw std::runtime_error(name + " did not answer " + command);
        return *line;
    }
    // The processes named `keys` (spawned on first use) join `group` in one
    // call; their pids.
    std::vector<std::string> join(const std::string& group, const std::vector<std::string>& keys) {
        std::string command = "join " + group;
        for (const auto& key : keys) command += " " + key;
        return words(after("joined", ask(command)));
    }
    std::string join(const std::string& group, const std::string& key) { return join(group, std::vector{key}).at(0); }
    // False: none of them was a member.
    bool leave(const std::string& group, const std::vector<std::string>& keys) {
        std::string command = "leave " + group;
        for (const auto& key : keys) command += " " + key;
        return after("left ", ask(command)) == "true";
    }
    bool leave(const std::string& group, const std::string& key) { return leave(group, std::vector{key}); }
    std::string spawn(const std::string& key) { return after("spawned ", ask("spawn " + key)); }
    std::string close(const std::string& key) { return after("closed ", ask("close " + key)); }
    std::vector<std::string> members(const std::string& group) { return words(after("members", ask("members " + group))); }
    bool holds(const std::string& group, const std::string& pid) {
        const auto all = members(group);
        return std::find(all.begin(), all.end(), pid) != all.end();
    }
    std::string view() { return after("view ", ask("view")); }
    // Each peer's state: "up", "down" or "connecting".
    std::map<std::string, std::string> peers() { return pairs(after("peers", ask("peers"))); }
    std::string peer_state(const std::string& peer) {
        const auto all = peers();
        const auto it = all.find(peer);
        return it == all.end() ? "unknown" : it->second;
    }
    // The peers this host cannot reach while others can, each with who can ("O1,O2").
    std::map<std::string, std::string> partial() { return pairs(after("partial", ask("partial"))); }
    bool sync(int timeout_ms = 5000) {
        return ask("sync " + std::to_string(timeout_ms), std::chrono::milliseconds(timeout_ms + 5000)) == "sync ok";
    }

    const std::string name;
    const std::string address;
    std::string router;

private:
    static std::vector<std::string> words(const std::string& text) {
        std::istringstream in(text);
        std::vector<std::string> out;
        for (std::string word; in >> word;) out.push_back(word);
        return out;
    }
    // "k1=v1 k2=v2" as a map.
    static std::map<std::string, std::string> pairs(const std::string& text) {
        std::istringstream in(text);
        std::map<std::string, std::string> out;
        for (std::string item; in >> item;) {
            const auto equals = item.find('=');
            out[item.substr(0, equals)] = item.substr(equals + 1);
        }
        return out;
    }
    static std::string after(const std::string& prefix, const std::string& line) {
        if (line.rfind(prefix, 0) != 0) throw std::runtime_error("unexpected answer: " + line);
        return line.substr(std::min(line.size(), prefix.size() + (line.size() > prefix.size() && line[prefix.size()] == ' ')));
    }
    Child child_;
};

// Every host sees every other one as `state`.
inline bool all_see(std::vector<Host*> hosts, const std::string& state,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return wait_until(
        [&] {
            for (Host* host : hosts) {
                for (Host* other : hosts) {
                    if (host != other && host->peer_state(other->name) != state) return false;
                }
            }
            return true;
        },
        timeout);
}

// Every host has the same view.
inline bool views_agree(std::vector<Host*> hosts, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return wait_until(
        [&] {
            const std::string first = hosts.front()->view();
            for (Host* host : hosts) {
                if (host->view() != first) return false;
            }
            return true;
        },
        timeout);
}

// Skips the test (with the reason) where partitions cannot be made.
#define LIMINAL_REQUIRE_FIREWALL()                                                             \
    do {                                                                                        \
        if (const std::string why = ::liminal::test::Firewall::unavailable(); !why.empty()) {   \
            WARN("skipped: partition tests need nftables as root: " << why);                   \
            return;                                                                             \
        }                                                                                       \
    } while (false)

}  // namespace liminal::test
