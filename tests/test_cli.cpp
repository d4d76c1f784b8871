// Multi-process tests through `liminal-cli node` and `liminal-cli send`.

#include "support/child.hpp"
#include "support/sanitizers.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using liminal::test::Child;
using liminal::test::run_command;

namespace {

const std::string cli = LIMINAL_CLI_PATH;

// `ready <name> key=value...` as a map, with the name under "name".
std::map<std::string, std::string> parse_ready(const std::string& line) {
    std::map<std::string, std::string> out;
    std::istringstream in(line);
    std::string word;
    in >> word;  // "ready"
    in >> out["name"];
    while (in >> word) {
        const auto eq = word.find('=');
        if (eq != std::string::npos) out[word.substr(0, eq)] = word.substr(eq + 1);
    }
    return out;
}

struct CliNode {
    std::unique_ptr<Child> child;
    std::map<std::string, std::string> ready;
};

CliNode start_node(const std::string& name, const std::vector<std::string>& seeds, bool inbox = false,
                   const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {cli, "node", "--name", name, "--listen", "tcp://127.0.0.1:*", "--cookie",
                                     "cli-test-cookie-7d2e9", "--events", "--heartbeat-ms", "200", "--heartbeat-timeout-ms",
                                     "1000", "--log-level", "warn"};
    for (const auto& seed : seeds) {
        argv.push_back("--seed");
        argv.push_back(seed);
    }
    if (inbox) argv.push_back("--inbox");
    argv.insert(argv.end(), extra.begin(), extra.end());
    CliNode node{std::make_unique<Child>(argv), {}};
    const auto line = node.child->read_line(10s);
    REQUIRE(line);
    REQUIRE(line->rfind("ready " + name + " creation=", 0) == 0);
    node.ready = parse_ready(*line);
    return node;
}

// Waits until `node` printed peer-up for each of `names`.
bool wait_peers_up(CliNode& node, std::vector<std::string> names, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!names.empty()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        const auto line = node.child->wait_for_line("peer-up ", left);
        if (!line) return false;
        std::erase_if(names, [&](const std::string& n) { return line->rfind("peer-up " + n + " ", 0) == 0; });
    }
    return true;
}

long rss_mib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
    }
    return -1;
}

}  // namespace

TEST_CASE("cli: --help exits 0 and a bad flag exits 2", "[cli]") {
    auto help = run_command({cli, "node", "--help"}, 10s);
    CHECK(help.code == 0);
    CHECK_THAT(help.out, Catch::Contains("--seed") && Catch::Contains("--cookie-file") && Catch::Contains("ready <name>"));
    CHECK(run_command({cli, "node", "--no-such-flag"}, 10s).code == 2);
    CHECK(run_command({cli, "node", "--name", "a@127.0.0.1", "--listen", "tcp://127.0.0.1:*"}, 10s).code == 2);
    CHECK(run_command({cli}, 10s).code == 2);
    CHECK(run_command({cli, "send", "not-a-pid", "x", "--seed", "tcp://127.0.0.1:1", "--cookie", "c"}, 10s).code == 2);
    // A bind failure is a runtime failure, not a usage error.
    CHECK(run_command({cli, "node", "--name", "a@127.0.0.1", "--listen", "tcp://256.0.0.1:1", "--cookie", "c"}, 10s).code == 1);
}

TEST_CASE("cli: three processes mesh, SIGKILL is seen, a restart is a new creation", "[cli]") {
    auto a = start_node("a@127.0.0.1", {});
    auto b = start_node("b@127.0.0.1", {a.ready["router"]});
    auto c = start_node("c@127.0.0.1", {a.ready["router"]});
    REQUIRE(wait_peers_up(a, {"b@127.0.0.1", "c@127.0.0.1"}));
    REQUIRE(wait_peers_up(b, {"a@127.0.0.1", "c@127.0.0.1"}));
    REQUIRE(wait_peers_up(c, {"a@127.0.0.1", "b@127.0.0.1"}));

    const auto killed_at = std::chrono::steady_clock::now();
    c.child->signal(SIGKILL);
    const std::string down = "peer-down c@127.0.0.1 creation=" + c.ready["creation"];
    REQUIRE(a.child->wait_for_line(down, 5s));
    REQUIRE(b.child->wait_for_line(down, 5s));
    // Within the heartbeat timeout (1 s) plus scheduling slack.
    CHECK(std::chrono::steady_clock::now() - killed_at < 2500ms);

    auto c2 = start_node("c@127.0.0.1", {b.ready["router"]});
    CHECK(c2.ready["creation"] != c.ready["creation"]);
    const std::string up = "peer-up c@127.0.0.1 creation=" + c2.ready["creation"];
    REQUIRE(a.child->wait_for_line(up, 10s));
    REQUIRE(b.child->wait_for_line(up, 10s));

    // SIGTERM: BYE to every peer and exit 0.
    c2.child->signal(SIGTERM);
    CHECK(c2.child->wait_exit(5s) == 0);
    REQUIRE(a.child->wait_for_line("peer-down c@127.0.0.1 creation=" + c2.ready["creation"] + " reason=bye", 5s));
}

TEST_CASE("cli: a frozen node is marked down by heartbeat timeout and back up when it resumes", "[cli]") {
    auto a = start_node("a@127.0.0.1", {});
    auto b = start_node("b@127.0.0.1", {a.ready["router"]});
    REQUIRE(wait_peers_up(a, {"b@127.0.0.1"}));
    REQUIRE(wait_peers_up(b, {"a@127.0.0.1"}));

    // SIGSTOP keeps b's TCP connections open: only the heartbeat can tell.
    const auto stopped_at = std::chrono::steady_clock::now();
    b.child->signal(SIGSTOP);
    REQUIRE(a.child->wait_for_line("peer-down b@127.0.0.1 creation=" + b.ready["creation"] + " reason=link_lost", 5s));
    const auto detected = std::chrono::steady_clock::now() - stopped_at;
    CHECK(detected >= 900ms);   // not before the 1 s heartbeat timeout...
    CHECK(detected < 3000ms);   // ...and soon after it

    b.child->signal(SIGCONT);
    // ZeroMQ reconnects and HELLO runs again: the same incarnation comes back.
    REQUIRE(a.child->wait_for_line("peer-up b@127.0.0.1 creation=" + b.ready["creation"], 10s));
}

TEST_CASE("cli: send delivers to a pid printed by another node", "[cli]") {
    auto a = start_node("a@127.0.0.1", {});
    auto b = start_node("b@127.0.0.1", {a.ready["router"]}, true);
    REQUIRE(wait_peers_up(b, {"a@127.0.0.1"}));
    const std::string inbox = b.ready["inbox"];
    REQUIRE_FALSE(inbox.empty());
    const auto sent = run_command({cli, "send", inbox, "hello across", "--seed", a.ready["router"], "--cookie", "cli-test-cookie-7d2e9"}, 15s);
    CHECK(sent.code == 0);
    CHECK_THAT(sent.out, Catch::Contains("sent to " + inbox));
    const auto line = b.child->wait_for_line("message ", 5s);
    REQUIRE(line);
    CHECK_THAT(*line, Catch::EndsWith(" hello across"));

    // A pid of a node that does not exist fails after the timeout, with exit 1.
    const auto missing = run_command({cli, "send", "<zz@127.0.0.1.1.1>", "x", "--seed", a.ready["router"], "--cookie",
                                      "cli-test-cookie-7d2e9", "--timeout", "0.5"},
                                     15s);
    CHECK(missing.code == 1);
}

TEST_CASE("cli: a wrong cookie is rejected", "[cli]") {
    auto a = start_node("a@127.0.0.1", {});
    const auto sent = run_command({cli, "send", "<a@127.0.0.1.1.1>", "x", "--seed", a.ready["router"], "--cookie",
                                   "wrong", "--timeout", "1"},
                                  15s);
    CHECK(sent.code == 1);
    REQUIRE(a.child->wait_for_line("peer-rejected ", 5s));
}

TEST_CASE("cli: subscribers on two node processes get a publish from a third exactly once", "[cli][channels]") {
    auto a = start_node("a@127.0.0.1", {}, false, {"--monitor", "channels"});
    auto b = start_node("b@127.0.0.1", {a.ready["router"]}, false, {"--subscribe", "news"});
    auto c = start_node("c@127.0.0.1", {a.ready["router"]}, false, {"--subscribe", "news", "--json"});
    REQUIRE(wait_peers_up(a, {"b@127.0.0.1", "c@127.0.0.1"}));

    const auto pub = run_command({cli, "pub", "news", "--seed", a.ready["router"], "--cookie", "cli-test-cookie-7d2e9", "--count",
                                  "5", "--size", "16", "--wait-members", "2"},
                                 20s, true);
    INFO(pub.out);
    REQUIRE(pub.code == 0);
    CHECK_THAT(pub.out, Catch::Contains("published 5 messages to news on 2 nodes"));
    for (int i = 0; i < 5; ++i) {
        const auto line = b.child->wait_for_line("news ", 5s);
        REQUIRE(line);
        CHECK_THAT(*line, Catch::EndsWith(" " + std::to_string(i) + std::string(15, 'x')));
        const auto json = c.child->wait_for_line("{", 5s);
        REQUIRE(json);
        CHECK_THAT(*json, Catch::Contains("\"channel\":\"news\"") && Catch::Contains("\"seq\":" + std::to_string(i + 1)));
    }
    CHECK_FALSE(b.child->wait_for_line("news ", 300ms));  // nothing twice

    // SIGKILL c: a purges its subscriber and says so.
    REQUIRE(a.child->seen_or_wait("group-join channels news c@127.0.0.1 ", 5s));
    c.child->signal(SIGKILL);
    REQUIRE(a.child->wait_for_line("group-leave channels news c@127.0.0.1 ", 5s));
    const auto after = run_command({cli, "pub", "news", "after", "--seed", a.ready["router"], "--cookie", "cli-test-cookie-7d2e9"}, 20s);
    CHECK(after.code == 0);
    CHECK_THAT(after.out, Catch::Contains("on 1 nodes"));
}

TEST_CASE("cli: a directed send to a subscriber's pid is printed, in text and JSON, and the node lives on",
          "[cli][channels][bounded]") {
    auto a = start_node("a@127.0.0.1", {}, false, {"--monitor", "channels"});
    auto b = start_node("b@127.0.0.1", {a.ready["router"]}, false, {"--subscribe", "news"});
    auto c = start_node("c@127.0.0.1", {a.ready["router"]}, false, {"--subscribe", "news", "--json"});
    // The subscribers' pids are public: a's monitor prints them.
    std::map<std::string, std::string> pid_of;
    for (const std::string node : {"b@127.0.0.1", "c@127.0.0.1"}) {
        const auto join = a.child->seen_or_wait("group-join channels news " + node + " ", 10s);
        REQUIRE(join);
        pid_of[node] = join->substr(join->rfind(' ') + 1);
    }
    for (const auto& [node, pid] : pid_of) {
        const auto sent = run_command({cli, "send", pid, "not a publish\n", "--seed", a.ready["router"], "--cookie",
                                       "cli-test-cookie-7d2e9"},
                                      15s);
        REQUIRE(sent.code == 0);
    }
    const auto text = b.child->wait_for_line("message <cli-", 5s);
    REQUIRE(text);
    CHECK_THAT(*text, Catch::EndsWith(" not a publish\\n"));
    const auto json = c.child->wait_for_line("{", 5s);
    REQUIRE(json);
    CHECK_THAT(*json, Catch::Contains("\"kind\":\"send\"") && Catch::Contains("\"payload\":\"not a publish\\n\""));
    CHECK_THAT(*json, !Catch::Contains("\"channel\""));
    // Both still serve: a publish reaches each.
    const auto pub = run_command({cli, "pub", "news", "still here", "--seed", a.ready["router"], "--cookie",
                                  "cli-test-cookie-7d2e9", "--wait-members", "2"},
                                 20s);
    CHECK(pub.code == 0);
    CHECK(b.child->wait_for_line("news <cli-", 5s));
    CHECK(c.child->wait_for_line("{", 5s));
}

TEST_CASE("cli: a subscriber whose stdout is never read keeps serving admin and peers, bounded", "[cli][bounded]") {
    const std::string admin = "ipc:///tmp/liminal-test-" + std::to_string(::getpid()) + "-blocked.sock";
    auto a = start_node("a@127.0.0.1", {});
    // b prints every message of `flood` to a pipe this test never reads once
    // the ready line is in: the pipe fills after some 64 KiB.
    auto b = start_node("b@127.0.0.1", {a.ready["router"]}, false, {"--subscribe", "flood", "--admin", admin});
    REQUIRE(wait_peers_up(a, {"b@127.0.0.1"}));
    Child pub({cli, "pub", "flood", "--size", "1024", "--count", "150000", "--seed", a.ready["router"], "--cookie",
               "cli-test-cookie-7d2e9", "--wait-members", "1", "--timeout", "20"});
    const auto stats = [&] {
        return run_command({cli, "stats", "--json", "--admin", admin, "--cookie", "cli-test-cookie-7d2e9", "--timeout", "3"},
                           10s);
    };
    // While the flood runs and after: every admin request is answered.
    long peak = 0;
    int answered = 0;
    std::uint64_t mailbox_full = 0;
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < until) {
        const auto reply = stats();
        REQUIRE(reply.code == 0);
        ++answered;
        const auto at = reply.out.find("\"dropped_mailbox_full\":");
        REQUIRE(at != std::string::npos);
        mailbox_full = std::stoull(reply.out.substr(at + 23));
        peak = std::max(peak, rss_mib(b.child->pid()));
    }
    CHECK(pub.wait_exit(60s) == 0);
    INFO("b's peak RSS " << peak << " MiB over " << answered << " admin answers, " << mailbox_full << " dropped");
    CHECK(answered >= 5);
    // The printer is stuck, so the mailbox filled and the rest was dropped, counted.
    CHECK(mailbox_full > 0);
    if (liminal::test::rss_is_checked) CHECK(peak < 512);
    // Its peer never saw it go.
    CHECK_FALSE(a.child->wait_for_line("peer-down b@127.0.0.1", 100ms));
    // And it stops when told, stuck reader or not.
    b.child->signal(SIGTERM);
    CHECK(b.child->wait_exit(5s) == 0);
}

TEST_CASE("cli: sub waits for the barrier, then prints exactly what is published", "[cli][channels]") {
    auto a = start_node("a@127.0.0.1", {});
    Child sub({cli, "sub", "alerts", "--seed", a.ready["router"], "--cookie", "cli-test-cookie-7d2e9", "--count", "2", "--timeout", "20"});
    // The subscription is visible cluster-wide once sub passed its barrier; pub waits for it too.
    const auto pub = run_command({cli, "pub", "alerts", "disk full", "--seed", a.ready["router"], "--cookie", "cli-test-cookie-7d2e9",
                                  "--count", "2"},
                                 20s);
    CHECK(pub.code == 0);
    const auto first = sub.read_line(10s);
    REQUIRE(first);
    CHECK_THAT(*first, Catch::StartsWith("alerts <cli-") && Catch::EndsWith(" disk full"));
    REQUIRE(sub.read_line(10s));
    CHECK(sub.wait_exit(10s) == 0);

    // With nobody publishing, --count is not reached: exit 1 at the timeout.
    CHECK(run_command({cli, "sub", "quiet", "--seed", a.ready["router"], "--cookie", "cli-test-cookie-7d2e9", "--count", "1",
                       "--timeout", "1"},
                      20s)
              .code == 1);
    // pub with no subscriber: exit 1 after the timeout.
    CHECK(run_command({cli, "pub", "quiet", "x", "--seed", a.ready["router"], "--cookie", "cli-test-cookie-7d2e9", "--timeout", "1"}, 20s)
              .code == 1);
}

TEST_CASE("cli: cookie writes a fresh 256-bit cookie only its owner can read", "[cli][trust]") {
    const std::string path = "/tmp/liminal-test-cookie-" + std::to_string(::getpid());
    ::unlink(path.c_str());
    REQUIRE(run_command({cli, "cookie", "--out", path}, 10s).code == 0);
    struct stat info{};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    CHECK(first.size() == 64);
    CHECK(first.find_first_not_of("0123456789abcdef") == std::string::npos);
    // Never over an existing file unless asked; then a different cookie.
    const auto again = run_command({cli, "cookie", "--out", path}, 10s, true);
    CHECK(again.code == 1);
    CHECK_THAT(again.out, Catch::Contains("--force"));
    REQUIRE(run_command({cli, "cookie", "--out", path, "--force"}, 10s).code == 0);
    std::ifstream in2(path);
    std::string second;
    std::getline(in2, second);
    CHECK(second.size() == 64);
    CHECK(second != first);
    // Without --out it prints one.
    const auto printed = run_command({cli, "cookie"}, 10s);
    CHECK(printed.code == 0);
    CHECK(printed.out.size() == 65);
    ::unlink(path.c_str());
}

TEST_CASE("cli: an --insecure-plaintext cluster works, and refuses an encrypted node", "[cli][trust]") {
    auto a = start_node("a@127.0.0.1", {}, true, {"--insecure-plaintext"});
    const auto plain = run_command({cli, "send", a.ready["inbox"], "in the clear", "--seed", a.ready["router"],
                                    "--cookie", "cli-test-cookie-7d2e9", "--insecure-plaintext"},
                                   15s);
    CHECK(plain.code == 0);
    CHECK(a.child->wait_for_line("message ", 5s));
    // The same cookie, but encrypted: the handshakes do not match.
    const auto encrypted = run_command({cli, "send", a.ready["inbox"], "x", "--seed", a.ready["router"], "--cookie",
                                        "cli-test-cookie-7d2e9", "--timeout", "1"},
                                       15s, true);
    CHECK(encrypted.code == 1);
    CHECK_THAT(encrypted.out, Catch::Contains("encrypted handshake failed"));
    CHECK_FALSE(a.child->wait_for_line("message ", 500ms));
}

TEST_CASE("cli: keygen, node keys, and SIGHUP revoking a node", "[cli][trust][node-keys]") {
    const std::string dir = "/tmp/liminal-test-keys-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::string trusted;
    for (const std::string name : {"a@127.0.0.1", "b@127.0.0.1"}) {
        const auto made = run_command({cli, "keygen", "--name", name, "--out", dir + "/" + name + ".key"}, 10s);
        REQUIRE(made.code == 0);
        CHECK_THAT(made.out, Catch::EndsWith(" " + name + "\n"));
        trusted += made.out;
        struct stat info{};
        REQUIRE(::stat((dir + "/" + name + ".key").c_str(), &info) == 0);
        CHECK((info.st_mode & 0777) == 0600);
    }
    std::ofstream(dir + "/trusted") << trusted;
    const auto keyed = [&](const std::string& name) {
        return std::vector<std::string>{"--key-file", dir + "/" + name + ".key", "--trusted-keys", dir + "/trusted"};
    };
    auto a = start_node("a@127.0.0.1", {}, false, keyed("a@127.0.0.1"));
    auto b_flags = keyed("b@127.0.0.1");
    b_flags.insert(b_flags.end(), {"--seed", "a@127.0.0.1=" + a.ready["router"]});
    auto b = start_node("b@127.0.0.1", {}, true, b_flags);
    REQUIRE(wait_peers_up(a, {"b@127.0.0.1"}));
    // A seed without its name cannot be used with node keys: a usage error before anything binds.
    auto bare = keyed("b@127.0.0.1");
    bare.insert(bare.begin(), {cli, "node", "--name", "b@127.0.0.1", "--listen", "tcp://127.0.0.1:*", "--cookie",
                               "cli-test-cookie-7d2e9", "--seed", a.ready["router"]});
    const auto refused = run_command(bare, 10s, true);
    CHECK(refused.code != 0);
    CHECK_THAT(refused.out, Catch::Contains("NAME=ENDPOINT"));
    // b's key leaves a's trusted keys; SIGHUP makes a cut b off.
    std::ofstream(dir + "/trusted") << trusted.substr(0, trusted.find('\n') + 1);
    a.child->signal(SIGHUP);
    const auto down = a.child->wait_for_line("peer-down b@127.0.0.1", 5s);
    REQUIRE(down);
    CHECK_THAT(*down, Catch::Contains("reason=revoked"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("cli: 10,000 unauthenticated connections and junk cost a node little, and a real node still joins",
          "[cli][trust][flood]") {
    constexpr int connections = 10000;
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < connections + 200) {
        WARN("skipped: needs " << connections + 200 << " file descriptors (ulimit -n is " << files.rlim_cur << ")");
        return;
    }
    auto a = start_node("a@127.0.0.1", {});
    const pid_t node = a.child->pid();
    const long idle = rss_mib(node);
    const int port = std::stoi(a.ready["router"].substr(a.ready["router"].rfind(':') + 1));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::vector<int> flood;
    long peak = idle;
    // A ZMTP greeting claiming CURVE, then a mebibyte of junk, on some of them.
    std::string junk = std::string("\xff\0\0\0\0\0\0\0\0\x7f\x03\x00", 12) + "CURVE" + std::string(47, '\0');
    junk += std::string(1u << 20, '\xc1');
    // Every connection opened at once (non-blocking): the kernel completes
    // them as fast as the node accepts.
    for (int i = 0; i < connections; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) break;
        (void)::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
        flood.push_back(fd);
    }
    REQUIRE(flood.size() == connections);
    // Wait until each has connected or failed, sampling the node's memory.
    std::size_t connected = 0, junked = 0;
    std::vector<bool> done(flood.size(), false);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::size_t settled = 0;
    while (settled < flood.size() && std::chrono::steady_clock::now() < deadline) {
        std::vector<pollfd> waiting;
        std::vector<std::size_t> which;
        for (std::size_t i = 0; i < flood.size(); ++i) {
            if (done[i]) continue;
            waiting.push_back({flood[i], POLLOUT, 0});
            which.push_back(i);
        }
        ::poll(waiting.data(), waiting.size(), 50);  // also the sampling interval
        for (std::size_t k = 0; k < waiting.size(); ++k) {
            if (waiting[k].revents == 0) continue;
            const std::size_t i = which[k];
            done[i] = true;
            ++settled;
            int error = 0;
            socklen_t size = sizeof error;
            ::getsockopt(flood[i], SOL_SOCKET, SO_ERROR, &error, &size);
            if (error != 0) continue;
            ++connected;
            if (junked < 16 && ::send(flood[i], junk.data(), junk.size(), MSG_NOSIGNAL) > 0) ++junked;
        }
        peak = std::max(peak, rss_mib(node));
    }
    CHECK(connected > connections / 2);
    CHECK(junked == 16);
    // A real node seeded while the flood holds its connections.
    auto b = start_node("b@127.0.0.1", {a.ready["router"]});
    for (int i = 0; i < 10; ++i) peak = std::max(peak, rss_mib(node));
    INFO("idle " << idle << " MiB, peak " << peak << " MiB, " << connected << " connections");
    if (liminal::test::rss_is_checked) CHECK(peak - idle <= 64);
    else WARN("RSS not checked in this build (ThreadSanitizer's shadow memory)");
    for (const int fd : flood) ::close(fd);
    const auto stopped = std::chrono::steady_clock::now();
    REQUIRE(wait_peers_up(b, {"a@127.0.0.1"}, 10s));
    CHECK(std::chrono::steady_clock::now() - stopped < 10s);
}
