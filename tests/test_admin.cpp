// The admin endpoint: in-process bad input, and the operator commands
// against a cluster of liminal-cli node processes.

#include "support/child.hpp"
#include "support/cluster.hpp"
#include "support/raw.hpp"

#include "wire/proof.hpp"

#include <liminal/admin.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <csignal>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

using namespace std::chrono_literals;
using liminal::test::Child;
using liminal::test::run_command;
using json = nlohmann::json;

namespace {

const std::string cli = LIMINAL_CLI_PATH;
const std::string cookie = "admin-test-cookie-8c41f";

// One raw REQ round trip, no proof, from a holder of the test cookie (the
// admin endpoint is encrypted with the cluster's keys).
std::string raw_request(const std::string& endpoint, const std::vector<std::string>& frames) {
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::req);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::rcvtimeo, 5000);
    liminal::test::secure_as(socket, liminal::test::Holder::member);
    socket.connect(endpoint);
    for (std::size_t i = 0; i < frames.size(); ++i)
        socket.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    zmq::message_t reply;
    REQUIRE(socket.recv(reply));
    return reply.to_string();
}

std::string error_of(const std::string& reply) {
    const json j = json::parse(reply);
    CHECK_FALSE(j["ok"].get<bool>());
    return j.value("error", "");
}

struct CliNode {
    std::unique_ptr<Child> child;
    std::string router, admin, name, creation, inbox;
};

CliNode start(const std::string& name, const std::vector<std::string>& extra) {
    const std::string admin = "ipc:///tmp/liminal-test-" + std::to_string(::getpid()) + "-" + name + ".admin";
    std::vector<std::string> argv = {cli, "node", "--name", name, "--listen", "tcp://127.0.0.1:*", "--cookie", cookie,
                                     "--admin", admin, "--log-level", "warn", "--heartbeat-ms", "200",
                                     "--heartbeat-timeout-ms", "1000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    CliNode node{std::make_unique<Child>(argv), "", admin, name, "", ""};
    const auto line = node.child->read_line(10s);
    REQUIRE(line);
    std::istringstream in(*line);
    std::string word;
    while (in >> word) {
        if (word.rfind("router=", 0) == 0) node.router = word.substr(7);
        if (word.rfind("creation=", 0) == 0) node.creation = word.substr(9);
        if (word.rfind("inbox=", 0) == 0) node.inbox = word.substr(6);
    }
    return node;
}

json run_json(std::vector<std::string> argv) {
    argv.insert(argv.begin(), cli);
    argv.insert(argv.end(), {"--cookie", cookie, "--json"});
    const auto result = run_command(argv, 20s);
    INFO(result.out);
    REQUIRE(result.code == 0);
    return json::parse(result.out);
}

// A node with an admin endpoint at `endpoint`; the kind of liminal::Error its
// start threw, if any, and the endpoint it bound.
struct AdminStart {
    std::optional<liminal::ErrorKind> error;
    std::string what;
    std::string bound;
    bool answers = false;  // a proven status request got an answer
};

// A node with an admin endpoint on an ephemeral loopback port.
liminal::Node admin_node(const std::string& name) {
    auto options = liminal::test::node_options(name);
    options.admin = "tcp://127.0.0.1:*";
    return liminal::Node(options);
}

AdminStart start_admin(const std::string& endpoint) {
    auto options = liminal::test::node_options("a@127.0.0.1");
    options.admin = endpoint;
    AdminStart out;
    try {
        liminal::Node node(options);
        out.bound = node.admin_endpoint();
        const json status = json::parse(liminal::admin_request(out.bound, liminal::test::test_cookie, R"({"cmd":"status"})", 5s));
        out.answers = status.value("ok", false);
    } catch (const liminal::Error& e) {
        out.error = e.kind();
        out.what = e.what();
    }
    return out;
}

liminal::detail::wire::Nonce nonce_of(const std::string& hex) {
    liminal::detail::wire::Nonce nonce{};
    REQUIRE(hex.size() == 2 * nonce.size());
    for (std::size_t i = 0; i < nonce.size(); ++i)
        nonce[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    return nonce;
}

// A proven request for `cmd` with the nonce `hex`, as frames for raw_request.
std::vector<std::string> proven(const std::string& cmd, const std::string& hex) {
    const std::string body = json{{"cmd", cmd}, {"nonce", hex}}.dump();
    const auto proof = liminal::detail::wire::make_admin_proof(liminal::detail::wire::cluster_keys(liminal::test::test_cookie).admin, nonce_of(hex), body);
    return {body, std::string(proof.begin(), proof.end())};
}

}  // namespace

TEST_CASE("admin: malformed and unproven requests get an error reply, never a crash", "[admin]") {
    auto options = liminal::test::node_options("a@127.0.0.1");
    options.admin = "tcp://127.0.0.1:*";
    liminal::Node node(options);
    const std::string ep = node.admin_endpoint();
    REQUIRE(ep.rfind("tcp://127.0.0.1:", 0) == 0);
    CHECK_THAT(error_of(raw_request(ep, {"not json"})), Catch::Contains("not JSON"));
    CHECK_THAT(error_of(raw_request(ep, {"[1,2]"})), Catch::Contains("cmd"));
    CHECK_THAT(error_of(raw_request(ep, {R"({"cmd":5})"})), Catch::Contains("cmd"));
    CHECK_THAT(error_of(raw_request(ep, {R"({"cmd":"status"})"})), Catch::Contains("refused"));
    CHECK_THAT(error_of(raw_request(ep, {R"({"cmd":"status","nonce":"00"})", "x"})), Catch::Contains("refused"));
    CHECK_THAT(error_of(raw_request(ep, {"a", "b", "c"})), Catch::Contains("body and a proof"));
    CHECK_THAT(error_of(raw_request(ep, {std::string(2 << 20, '{')})), Catch::Contains("too large"));
    // A nonce is single use: the same proven request, sent twice, is answered once.
    const json challenge = json::parse(raw_request(ep, {R"({"cmd":"challenge"})"}));
    REQUIRE(challenge["ok"].get<bool>());
    const std::vector<std::string> frames = proven("status", challenge["nonce"].get<std::string>());
    const json first = json::parse(raw_request(ep, frames));
    CHECK(first["ok"].get<bool>());
    CHECK(first["name"] == "a@127.0.0.1");
    CHECK_THAT(error_of(raw_request(ep, frames)), Catch::Contains("refused"));
    // The real client works, and answers unknown commands with an error.
    const json status = json::parse(liminal::admin_request(ep, liminal::test::test_cookie, R"({"cmd":"status"})", 5s));
    CHECK(status["ok"].get<bool>());
    CHECK(status["name"] == "a@127.0.0.1");
    const json unknown = json::parse(liminal::admin_request(ep, liminal::test::test_cookie, R"({"cmd":"explode"})", 5s));
    CHECK_THAT(unknown["error"].get<std::string>(), Catch::Contains("unknown command"));
    CHECK_THROWS_WITH(liminal::admin_request(ep, "wrong-cookie", R"({"cmd":"status"})", 5s),
                      Catch::Contains("wrong cookie"));
    // The node counts it once its I/O thread has read the handshake's failure.
    CHECK(liminal::test::wait_until([&] { return node.stats().refused_connections >= 1; }, 5s));
    const json hooks = json::parse(liminal::admin_request(ep, liminal::test::test_cookie, R"({"cmd":"test-inject","args":{}})", 5s));
    CHECK_THAT(hooks["error"].get<std::string>(), Catch::Contains("test hooks are off"));
    CHECK_THROWS_AS(liminal::admin_request("tcp://127.0.0.1:1", "x", R"({"cmd":"status"})", 300ms), liminal::Error);
    auto bad = liminal::test::node_options("b@127.0.0.1");
    bad.admin = "tcp://0.0.0.0:*";
    CHECK_THROWS_WITH(liminal::Node(bad), Catch::Contains("not a loopback address"));
}

TEST_CASE("admin: the endpoint is parsed, only this host can reach it", "[admin][trust]") {
    // Refused before anything binds, naming the option.
    for (const std::string endpoint :
         {"tcp://127.0.0.1:5555;0.0.0.0:5555", "tcp://127.0.0.1:*;[::]:*", "tcp://0.0.0.0:*", "tcp://*:*",
          "tcp://10.1.2.3:*", "tcp://127.0.0.1.example.com:*", "tcp://127.1:*", "tcp://[::]:*",
          "tcp://[::ffff:10.0.0.1]:*", "tcp://127.0.0.1:", "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536",
          "tcp://127.0.0.1:80x", "tcp://127.0.0.1", "udp://127.0.0.1:5", "ipc://", "inproc://admin"}) {
        INFO(endpoint);
        const auto started = start_admin(endpoint);
        CHECK(started.error == liminal::ErrorKind::start_failed);
        CHECK_THAT(started.what, Catch::Contains("Options::admin"));
    }
    CHECK_THAT(start_admin("tcp://127.0.0.1:5;0.0.0.0:5").what, Catch::Contains("source;destination"));
    // Every loopback form binds and answers.
    const auto localhost = start_admin("tcp://localhost:*");
    CHECK(localhost.answers);
    CHECK(localhost.bound.rfind("tcp://127.0.0.1:", 0) == 0);
    const auto other_loopback = start_admin("tcp://127.0.0.2:*");
    CHECK(other_loopback.answers);
    const auto ipv6 = start_admin("tcp://[::1]:*");
    CHECK(ipv6.answers);
    CHECK(ipv6.bound.rfind("tcp://[::1]:", 0) == 0);
}

TEST_CASE("admin: a flood of unproven challenges cannot starve an operator", "[admin][trust]") {
    liminal::Node node = admin_node("a@127.0.0.1");
    const std::string ep = node.admin_endpoint();
    // The operator takes a challenge; then 6,000 unproven challenges arrive.
    const std::string operator_nonce = json::parse(raw_request(ep, {R"({"cmd":"challenge"})"}))["nonce"];
    zmq::context_t context;
    zmq::socket_t flood(context, zmq::socket_type::dealer);
    liminal::test::secure_as(flood, liminal::test::Holder::member);
    flood.set(zmq::sockopt::linger, 0);
    flood.set(zmq::sockopt::sndhwm, 0);
    flood.set(zmq::sockopt::rcvhwm, 0);
    flood.set(zmq::sockopt::rcvtimeo, 5000);
    flood.connect(ep);
    constexpr int challenges = 6000;
    for (int i = 0; i < challenges; ++i) {
        flood.send(zmq::message_t(), zmq::send_flags::sndmore);  // the REQ delimiter
        flood.send(zmq::str_buffer(R"({"cmd":"challenge"})"));
    }
    int answered = 0;
    for (zmq::message_t part; answered < challenges && flood.recv(part);) {
        if (!part.more()) ++answered;
    }
    CHECK(answered == challenges);
    // The operator's nonce still works, once, and so does a new request.
    const json first = json::parse(raw_request(ep, proven("status", operator_nonce)));
    CHECK(first.value("ok", false));
    CHECK_THAT(error_of(raw_request(ep, proven("status", operator_nonce))), Catch::Contains("refused"));
    const json status = json::parse(liminal::admin_request(ep, liminal::test::test_cookie, R"({"cmd":"status"})", 5s));
    CHECK(status.value("ok", false));
}

TEST_CASE("admin: a nonce the node did not hand out is refused, even with a valid proof", "[admin][trust]") {
    liminal::Node node = admin_node("a@127.0.0.1");
    const std::string ep = node.admin_endpoint();
    const std::string issued = json::parse(raw_request(ep, {R"({"cmd":"challenge"})"}))["nonce"];
    // The same issue time and random part with a guessed tag, and a nonce of
    // another node's: both carry a correct cookie proof, and both are refused.
    std::string forged = issued;
    forged[forged.size() - 1] = forged.back() == '0' ? '1' : '0';
    CHECK_THAT(error_of(raw_request(ep, proven("status", forged))), Catch::Contains("refused"));
    liminal::Node other = admin_node("b@127.0.0.1");
    const std::string foreign = json::parse(raw_request(other.admin_endpoint(), {R"({"cmd":"challenge"})"}))["nonce"];
    CHECK_THAT(error_of(raw_request(ep, proven("status", foreign))), Catch::Contains("refused"));
    CHECK(json::parse(raw_request(ep, proven("status", issued))).value("ok", false));
}

TEST_CASE("admin: every operator command against a three-process cluster", "[admin][cli]") {
    auto a = start("a@127.0.0.1", {"--test-hooks"});
    auto b = start("b@127.0.0.1", {"--seed", a.router, "--subscribe", "news"});
    auto c = start("c@127.0.0.1", {"--seed", a.router, "--subscribe", "news", "--inbox"});
    const std::vector<std::string> all = {"--admin", a.admin, "--admin", b.admin, "--admin", c.admin};

    // status and peers: wait (bounded) until a sees both peers up.
    json status;
    for (const auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
        status = run_json({"status", "--admin", a.admin});
        if (status["peers"]["up"] == 2) break;
    }
    REQUIRE(status["peers"]["up"] == 2);
    CHECK(status["name"] == "a@127.0.0.1");
    CHECK(std::to_string(status["creation"].get<std::uint64_t>()) == a.creation);
    const json peers = run_json({"peers", "--admin", a.admin});
    REQUIRE(peers["peers"].size() == 2);
    for (const auto& p : peers["peers"]) CHECK(p["state"] == "up");

    // members seen from another node, once b's and c's subscriptions reached a.
    json members;
    for (const auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
        members = run_json({"members", "news", "--scope", "channels", "--admin", a.admin});
        if (members["members"].size() == 2) break;
    }
    REQUIRE(members["members"].size() == 2);
    std::string c_pid;
    for (const auto& m : members["members"]) {
        CHECK_FALSE(m["local"].get<bool>());
        if (m["node"] == "c@127.0.0.1") c_pid = m["pid"];
    }
    REQUIRE_FALSE(c_pid.empty());
    const json groups = run_json({"groups", "--admin", a.admin, "--scope", "channels"});
    REQUIRE(groups["groups"].size() == 1);
    CHECK(groups["groups"][0]["remote"] == 2);

    // send delivers to the inbox pid printed by c.
    const auto sent = run_command({cli, "send", c.inbox, "hello c", "--seed", a.router, "--cookie", cookie}, 20s);
    CHECK(sent.code == 0);
    REQUIRE(c.child->wait_for_line("message ", 5s));

    // verify agrees; then a's view is made wrong and verify names the difference.
    const auto agree = run_command({cli, "verify", "--admin", a.admin, "--admin", b.admin, "--admin", c.admin,
                                    "--cookie", cookie},
                                   20s);
    INFO(agree.out);
    CHECK(agree.code == 0);
    CHECK_THAT(agree.out, Catch::Contains("all 3 nodes agree"));
    // The view is made wrong for an origin no peer gossips about, so that no
    // digest repairs it before verify looks (a real origin's next digest would).
    const json injected = json::parse(liminal::admin_request(
        a.admin, cookie,
        json{{"cmd", "test-inject"},
             {"args", {{"origin", "ghost@127.0.0.1"}, {"creation", 7}, {"scope", "jobs"}, {"group", "ghosts"},
                       {"id", 4242}}}}
            .dump(),
        5s));
    REQUIRE(injected["ok"].get<bool>());
    // Found by fuzz_admin: an id that is a float out of range was converted
    // as it came (undefined behaviour); it is refused, and nothing injected.
    for (const auto* bad : {"5.8e24", "-1", "1.5", "\"7\""}) {
        const json refused = json::parse(liminal::admin_request(
            a.admin, cookie,
            R"({"cmd":"test-inject","args":{"origin":"ghost@127.0.0.1","creation":7,"scope":"jobs","group":"odd","id":)" +
                std::string(bad) + "}}",
            5s));
        INFO(bad << ": " << refused.dump());
        CHECK_FALSE(refused["ok"].get<bool>());
        CHECK_THAT(refused["error"].get<std::string>(), Catch::Contains("\"id\" is not an unsigned integer"));
    }
    const auto differ = run_command({cli, "verify", "--admin", a.admin, "--admin", b.admin, "--admin", c.admin,
                                     "--cookie", cookie},
                                    20s);
    INFO(differ.out);
    CHECK(differ.code == 1);
    CHECK_THAT(differ.out, Catch::Contains("origin ghost@127.0.0.1, group jobs/ghosts: b@127.0.0.1 lacks "
                                           "<ghost@127.0.0.1.7.4242> (held by a@127.0.0.1)") &&
                               Catch::Contains("c@127.0.0.1 lacks <ghost@127.0.0.1.7.4242>"));

    // SIGKILL c: the purge shows in members and stats.
    c.child->signal(SIGKILL);
    json after;
    for (const auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
        after = run_json({"members", "news", "--scope", "channels", "--admin", a.admin});
        if (after["members"].size() == 1) break;
    }
    REQUIRE(after["members"].size() == 1);
    CHECK(after["members"][0]["node"] == "b@127.0.0.1");
    const json stats = run_json({"stats", "--admin", a.admin});
    CHECK(stats["counters"]["purges"].get<int>() >= 1);
    CHECK(stats["counters"]["members_purged"].get<int>() >= 1);
    const auto prometheus = run_command({cli, "stats", "--admin", a.admin, "--cookie", cookie, "--prometheus"}, 20s);
    CHECK(prometheus.code == 0);
    CHECK_THAT(prometheus.out, Catch::Contains("# TYPE liminal_members_purged_total counter") &&
                                   Catch::Contains("liminal_members_purged_total{node=\"a@127.0.0.1\"} "));
    // What is queued now is a gauge, without _total.
    CHECK_THAT(prometheus.out, Catch::Contains("# TYPE liminal_in_flight_peers gauge") &&
                                   Catch::Contains("liminal_in_flight_mailboxes{node=\"a@127.0.0.1\"} ") &&
                                   !Catch::Contains("in_flight_peers_total") &&
                                   Catch::Contains("# TYPE liminal_sessions gauge"));
    // stats --json carries every term of the ledger.
    for (const char* key : {"accepted", "received", "in_flight_peers", "in_flight_mailboxes", "sends_remote",
                            "publish_frames_out", "would_block", "dropped_queue_full", "dropped_slow_consumer"})
        CHECK(stats["counters"].contains(key));

    // top falls back to a snapshot when stdout is not a terminal.
    const auto top = run_command({cli, "top", "--admin", a.admin, "--cookie", cookie}, 20s);
    CHECK(top.code == 0);
    CHECK_THAT(top.out, Catch::Contains("liminal top") && Catch::Contains("b@127.0.0.1"));

    // Refusals and unreachable endpoints: exit 1 with a message, never a hang.
    const auto refused = run_command({cli, "status", "--admin", a.admin, "--cookie", "wrong"}, 20s, true);
    CHECK(refused.code == 1);
    CHECK_THAT(refused.out, Catch::Contains("wrong cookie"));
    const auto gone = run_command({cli, "status", "--admin", "ipc:///tmp/liminal-nobody.admin", "--cookie", cookie,
                                   "--timeout", "0.5"},
                                  20s, true);
    CHECK(gone.code == 1);
    CHECK_THAT(gone.out, Catch::Contains("no answer"));
}

TEST_CASE("admin: node --config, environment overrides, and invalid configs", "[admin][config]") {
    const std::string path = "liminal-admin-test-" + std::to_string(::getpid()) + ".toml";
    {
        std::ofstream(path) << "[cluster]\nnode_name = \"cfg@127.0.0.1\"\nlisten = \"tcp://127.0.0.1:*\"\n"
                               "cookie = \"" << cookie << "\"\n[log]\nlevel = \"warn\"\n";
    }
    // The file names the node; the flag overrides the file's name.
    Child node({cli, "node", "--config", path, "--name", "flag@127.0.0.1"});
    const auto ready = node.read_line(10s);
    REQUIRE(ready);
    CHECK_THAT(*ready, Catch::StartsWith("ready flag@127.0.0.1 "));
    node.signal(SIGTERM);
    CHECK(node.wait_exit(5s) == 0);

    {
        std::ofstream(path) << "[cluster]\nnode_name = \"cfg@127.0.0.1\"\nlisten = \"tcp://127.0.0.1:*\"\n"
                               "cookie = \"c\"\nheartbeat_ms = \"often\"\n";
    }
    const auto bad = run_command({cli, "node", "--config", path}, 10s, true);
    CHECK(bad.code == 2);
    CHECK_THAT(bad.out, Catch::Contains("cluster.heartbeat_ms"));
    {
        std::ofstream(path) << "[cluster]\nnode_name = \"cfg@127.0.0.1\"\nlistne = \"tcp://127.0.0.1:*\"\n";
    }
    const auto unknown = run_command({cli, "node", "--config", path}, 10s, true);
    CHECK(unknown.code == 2);
    CHECK_THAT(unknown.out, Catch::Contains("cluster.listne: unknown key"));
    std::remove(path.c_str());
}

TEST_CASE("admin: a client that never reads its replies cannot starve an operator, and its drops are counted", "[admin][trust]") {
    liminal::Node node = admin_node("a@127.0.0.1");
    const std::string ep = node.admin_endpoint();
    zmq::context_t context;
    zmq::socket_t flood(context, zmq::socket_type::dealer);
    liminal::test::secure_as(flood, liminal::test::Holder::member);
    flood.set(zmq::sockopt::linger, 0);
    flood.set(zmq::sockopt::sndhwm, 0);
    flood.set(zmq::sockopt::rcvhwm, 1);  // and it never reads: its replies have nowhere to go
    flood.connect(ep);
    // More replies than the kernel's socket buffers on both sides hold.
    constexpr int challenges = 300000;
    for (int i = 0; i < challenges; ++i) {
        flood.send(zmq::message_t(), zmq::send_flags::sndmore);
        flood.send(zmq::str_buffer(R"({"cmd":"challenge"})"));
    }
    REQUIRE(liminal::test::wait_until([&] { return node.stats().admin_replies_dropped > 0; }, 30s));
    // The operator is answered meanwhile, promptly.
    const auto start = std::chrono::steady_clock::now();
    const json status = json::parse(liminal::admin_request(ep, liminal::test::test_cookie, R"({"cmd":"status"})", 5s));
    CHECK(status.value("ok", false));
    CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("admin: a client without the cookie's keys gets no answer at all, and is counted", "[admin][trust]") {
    liminal::Node node = admin_node("a@127.0.0.1");
    zmq::context_t context;
    std::vector<zmq::socket_t> clients;
    for (const auto holder : {liminal::test::Holder::stranger, liminal::test::Holder::guesser}) {
        zmq::socket_t& socket = clients.emplace_back(context, zmq::socket_type::req);
        socket.set(zmq::sockopt::linger, 0);
        liminal::test::secure_as(socket, holder);
        socket.connect(node.admin_endpoint());
        socket.send(zmq::str_buffer(R"({"cmd":"challenge"})"), zmq::send_flags::dontwait);
    }
    REQUIRE(liminal::test::wait_until([&] { return node.stats().refused_connections >= 2; }, 5s));
    // Nothing reached the admin service: no challenge came back to either.
    for (auto& socket : clients) {
        zmq::message_t reply;
        CHECK_FALSE(socket.recv(reply, zmq::recv_flags::dontwait));
    }
    CHECK(node.stats().rejected_peers == 0);
}

TEST_CASE("admin: short-lived CLI senders leave no view behind once they have exited", "[admin][cli][faults]") {
    auto a = start("a@127.0.0.1", {"--inbox"});
    for (int i = 0; i < 5; ++i) {
        const auto sent =
            run_command({cli, "send", a.inbox, "hello " + std::to_string(i), "--seed", a.router, "--cookie", cookie}, 20s);
        REQUIRE(sent.code == 0);
        REQUIRE(a.child->wait_for_line("message ", 5s));
    }
    // Each said BYE (or LEAVING) on its way out: a holds no view but its own.
    std::size_t origins = 0;
    CHECK(liminal::test::wait_until(
        [&] {
            const json view = json::parse(liminal::admin_request(a.admin, cookie, R"({"cmd":"view"})", 5s));
            origins = view["origins"].size();
            return origins == 1;
        },
        5s));
    INFO(origins << " origins in a's view");
    CHECK(origins == 1);
}

namespace {
// `peer`'s state as `node` reports it on its admin endpoint ("" if unknown).
std::string state_at(const CliNode& node, const std::string& peer) {
    const json reply = json::parse(liminal::admin_request(node.admin, cookie, R"({"cmd":"peers"})", 5s));
    for (const auto& p : reply["peers"]) {
        if (p["name"] == peer) return p["state"];
    }
    return "";
}

// Whether every node reports every other one up.
bool all_up(const std::vector<const CliNode*>& nodes) {
    for (const CliNode* n : nodes) {
        for (const CliNode* other : nodes) {
            if (n != other && state_at(*n, other->name) != "up") return false;
        }
    }
    return true;
}

// `node`'s partial partitions as its status reports them: peer -> who can reach it.
std::map<std::string, std::vector<std::string>> partial_at(const CliNode& node) {
    const json reply = json::parse(liminal::admin_request(node.admin, cookie, R"({"cmd":"status"})", 5s));
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& p : reply["partial_partitions"]) out[p["peer"]] = p["seen_up_by"];
    return out;
}
}  // namespace

TEST_CASE("admin: liminal-cli fault partitions a pair while a third node sees both, heals it, and needs --faults",
          "[admin][cli][faults]") {
    auto a = start("a@127.0.0.1", {"--faults"});
    auto b = start("b@127.0.0.1", {"--seed", a.router});
    auto c = start("c@127.0.0.1", {"--seed", a.router});
    const std::vector<const CliNode*> nodes{&a, &b, &c};
    REQUIRE(liminal::test::wait_until([&] { return all_up(nodes); }, 10s));
    const auto fault = [&](const CliNode& on, std::vector<std::string> args) {
        std::vector<std::string> argv = {cli, "fault"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--admin", on.admin, "--cookie", cookie});
        return run_command(argv, 20s, true);
    };

    // A node started without --faults refuses, and nothing changes.
    const auto refused = fault(b, {"partition", "--peer", a.name});
    CHECK(refused.code == 1);
    CHECK_THAT(refused.out, Catch::Contains("--faults"));
    CHECK(state_at(b, a.name) == "up");

    const auto cut = fault(a, {"partition", "--peer", b.name});
    INFO(cut.out);
    REQUIRE(cut.code == 0);
    CHECK_THAT(cut.out, Catch::Contains("partitioned from: b@127.0.0.1"));
    CHECK(state_at(a, b.name) == "down");  // before the reply came back
    CHECK(liminal::test::wait_until([&] { return state_at(b, a.name) != "up"; }, 5s));
    // The pair stays apart (b keeps reconnecting, and is refused) while c sees both.
    CHECK_FALSE(liminal::test::wait_until([&] { return state_at(b, a.name) == "up" || state_at(a, b.name) == "up"; },
                                          2s));  // wait-ok: the partition must hold for b's reconnects (every ~100 ms)
    CHECK(state_at(c, a.name) == "up");
    CHECK(state_at(c, b.name) == "up");
    CHECK(state_at(a, c.name) == "up");

    const auto healed = fault(a, {"heal"});
    INFO(healed.out);
    CHECK(healed.code == 0);
    CHECK_THAT(healed.out, Catch::Contains("partitioned from: none"));
    CHECK(liminal::test::wait_until([&] { return all_up(nodes); }, 15s));

    const auto dropping = fault(a, {"drop-gossip", "--rate", "1"});
    CHECK(dropping.code == 0);
    CHECK_THAT(dropping.out, Catch::Contains("incoming gossip dropped: 100%"));
    const auto bad_rate = fault(a, {"drop-gossip", "--rate", "2"});
    CHECK(bad_rate.code == 2);
    const auto unknown = fault(a, {"partition", "--peer", "not a name"});
    CHECK(unknown.code == 1);
}

TEST_CASE("admin: status and verify say who cannot reach whom in a partial partition, and a hung node is not one",
          "[admin][cli][faults]") {
    auto a = start("a@127.0.0.1", {"--faults"});
    auto b = start("b@127.0.0.1", {"--seed", a.router});
    auto c = start("c@127.0.0.1", {"--seed", a.router});
    REQUIRE(liminal::test::wait_until([&] { return all_up({&a, &b, &c}); }, 10s));
    const std::vector<std::string> verify_all = {cli,     "verify", "--admin", a.admin, "--admin",
                                                 b.admin, "--admin", c.admin,  "--cookie", cookie};

    const auto cut = run_command({cli, "fault", "partition", "--peer", b.name, "--admin", a.admin, "--cookie", cookie}, 20s);
    REQUIRE(cut.code == 0);
    using Partial = std::map<std::string, std::vector<std::string>>;
    CHECK(liminal::test::wait_until(
        [&] { return partial_at(a) == Partial{{b.name, {c.name}}} && partial_at(b) == Partial{{a.name, {c.name}}}; },
        10s));
    CHECK(partial_at(c).empty());
    const auto status = run_command({cli, "status", "--admin", a.admin, "--cookie", cookie}, 20s);
    CHECK_THAT(status.out, Catch::Contains("cannot reach b@127.0.0.1; c@127.0.0.1 can"));
    const auto differ = run_command(verify_all, 20s);
    CHECK(differ.code == 1);
    CHECK_THAT(differ.out, Catch::Contains("partial partition: a@127.0.0.1 cannot reach b@127.0.0.1; c@127.0.0.1 can"));
    CHECK_THAT(differ.out, Catch::Contains("partial partition: b@127.0.0.1 cannot reach a@127.0.0.1; c@127.0.0.1 can"));
    const json stats = run_json({"stats", "--admin", a.admin});
    CHECK(stats["counters"]["partial_partitions"] == 1);

    const auto healed = run_command({cli, "fault", "heal", "--admin", a.admin, "--cookie", cookie}, 20s);
    REQUIRE(healed.code == 0);
    CHECK(liminal::test::wait_until([&] { return partial_at(a).empty() && partial_at(b).empty(); }, 15s));
    CHECK(liminal::test::wait_until([&] { return run_command(verify_all, 20s).code == 0; }, 10s));

    // A hung node is seen down by both others, each within about a heartbeat
    // interval of the other: the grace keeps that from being called a partial
    // partition.
    ::kill(c.child->pid(), SIGSTOP);
    CHECK(liminal::test::wait_until([&] { return state_at(a, c.name) == "down" && state_at(b, c.name) == "down"; }, 10s));
    CHECK_FALSE(liminal::test::wait_until([&] { return !partial_at(a).empty() || !partial_at(b).empty(); },
                                          3s));  // wait-ok: two grace periods and more, with a digest in each
    CHECK(run_json({"stats", "--admin", a.admin})["counters"]["partial_partitions"] == 1);
    CHECK(run_json({"stats", "--admin", b.admin})["counters"]["partial_partitions"] == 1);
    ::kill(c.child->pid(), SIGCONT);
}
