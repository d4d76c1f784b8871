// Security::node_keys: each node its own CurveZMQ keypair, bound to its name
// by a trusted-keys file; reloading the file cuts a removed node off.

#include "node/node_keys.hpp"
#include "node/sockets.hpp"
#include "support/cluster.hpp"
#include "wire/codec.hpp"

#include <catch2/catch.hpp>

#include <zmq.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

using namespace liminal;
using namespace std::chrono_literals;
using liminal::test::node_options;
using liminal::test::peer_is;
using liminal::test::wait_event;
using liminal::test::wait_for_mesh;
using liminal::test::wait_until;

namespace {

// A temporary directory with one key file per node and a trusted-keys file.
struct Keys {
    std::filesystem::path dir;
    std::map<std::string, detail::CurveKeypair> pairs;

    explicit Keys(const std::vector<std::string>& names) {
        std::string pattern = (std::filesystem::temp_directory_path() / "liminal-keys-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
        for (const auto& name : names) {
            pairs[name] = detail::generate_keypair();
            std::ofstream(key_file(name)) << detail::format_key_file(pairs[name], name);
        }
        trust(names);
    }
    ~Keys() { std::filesystem::remove_all(dir); }

    std::string key_file(const std::string& name) const { return (dir / (name + ".key")).string(); }
    std::string trusted_file() const { return (dir / "trusted").string(); }
    // Rewrites the trusted-keys file with the keys of `names`.
    void trust(const std::vector<std::string>& names) const {
        std::ofstream out(trusted_file());
        out << "# test cluster\n";
        for (const auto& name : names) out << pairs.at(name).public_key << " " << name << "\n";
    }
    Options options(const std::string& name, std::vector<std::string> seeds = {}) const {
        auto o = node_options(name, std::move(seeds));
        o.security = Security::node_keys;
        o.key_file = key_file(name);
        o.trusted_keys = trusted_file();
        return o;
    }
};

std::string seed(const Node& node) { return node.name() + "=" + node.router_endpoint(); }

}  // namespace

TEST_CASE("node keys: a cluster meshes with a key per node", "[node-keys][trust]") {
    Keys keys({"a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1"});
    Node a(keys.options("a@127.0.0.1"));
    Node b(keys.options("b@127.0.0.1", {seed(a)}));
    Node c(keys.options("c@127.0.0.1", {seed(a)}));
    REQUIRE(wait_for_mesh({&a, &b, &c}));
    auto target = c.spawn();
    REQUIRE(b.send(target.pid(), "over b's own key") == SendResult::queued);
    const auto message = target.receive(5s);
    REQUIRE(message);
    CHECK(message->from().node == "b@127.0.0.1");
    CHECK(a.stats().refused_connections == 0);
}

TEST_CASE("node keys: a trusted key speaks only as its own name", "[node-keys][trust]") {
    Keys keys({"a@127.0.0.1", "b@127.0.0.1"});
    Node a(keys.options("a@127.0.0.1"));
    const auto& b_key = keys.pairs.at("b@127.0.0.1");
    zmq::context_t context;
    // b's key, claiming to be x: refused, though the key is trusted.
    zmq::socket_t raw(context, zmq::socket_type::dealer);
    raw.set(zmq::sockopt::linger, 0);
    raw.set(zmq::sockopt::routing_id, detail::routing_id("x@127.0.0.1", 7));
    detail::secure_client(raw, Security::node_keys, b_key, keys.pairs.at("a@127.0.0.1").public_key);
    raw.connect(a.router_endpoint());
    raw.send(zmq::buffer(detail::wire::encode_frame(detail::wire::Hello{
        detail::wire::protocol_version, "x@127.0.0.1", 7, "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", {}})));
    REQUIRE(wait_until([&] { return a.stats().rejected_peers >= 1; }));
    zmq::message_t welcome;
    CHECK_FALSE(raw.recv(welcome, zmq::recv_flags::dontwait));
    // A key nobody listed: the connection itself is refused.
    zmq::socket_t stranger(context, zmq::socket_type::dealer);
    stranger.set(zmq::sockopt::linger, 0);
    detail::secure_client(stranger, Security::node_keys, detail::generate_keypair(),
                          keys.pairs.at("a@127.0.0.1").public_key);
    stranger.connect(a.router_endpoint());
    stranger.send(zmq::str_buffer("\x01\x91\x05"), zmq::send_flags::dontwait);
    REQUIRE(wait_until([&] { return a.stats().refused_connections >= 1; }));
    CHECK(a.stats().unauthenticated_frames == 0);
    CHECK(a.stats().peers_up == 0);
}

TEST_CASE("node keys: a node must prove the key of the name it was expected as", "[node-keys][trust]") {
    Keys keys({"a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1"});
    Node b(keys.options("b@127.0.0.1"));
    // a is told c lives at b's endpoint: b cannot prove c's key, so a never takes b for c.
    Node a(keys.options("a@127.0.0.1", {"c@127.0.0.1=" + b.router_endpoint()}));
    REQUIRE(wait_until([&] { return a.stats().rejected_peers >= 1 && b.stats().refused_connections >= 1; }));
    CHECK_FALSE(peer_is(a, "b@127.0.0.1", PeerState::up));
    CHECK_FALSE(peer_is(a, "c@127.0.0.1", PeerState::up));
}

TEST_CASE("node keys: removing a node's key cuts it off at once", "[node-keys][trust]") {
    Keys keys({"a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1"});
    auto a_options = keys.options("a@127.0.0.1");
    a_options.heartbeat_interval = 200ms;  // a partial-partition grace of 400 ms
    a_options.heartbeat_timeout = 1000ms;
    Node a(a_options);
    Node b(keys.options("b@127.0.0.1", {seed(a)}));
    auto c_options = keys.options("c@127.0.0.1", {seed(a)});
    c_options.heartbeat_interval = 200ms;
    c_options.heartbeat_timeout = 1000ms;
    Node c(c_options);
    REQUIRE(wait_for_mesh({&a, &b, &c}));
    auto member = c.spawn();
    c.join("s", "g", member.pid());
    REQUIRE(wait_until([&] { return a.members("s", "g").size() == 1; }));

    keys.trust({"a@127.0.0.1", "b@127.0.0.1"});
    const auto start = std::chrono::steady_clock::now();
    a.reload_trusted_keys();
    const auto down = wait_event(a, [](const PeerEvent& e) { return e.kind == PeerEventKind::down; }, 5s);
    REQUIRE(down);
    CHECK(down->name == "c@127.0.0.1");
    CHECK(down->reason == DownReason::revoked);
    CHECK(a.members("s", "g").empty());
    // c is disconnected from a's side too, and cannot come back.
    REQUIRE(wait_until([&] { return !peer_is(c, "a@127.0.0.1", PeerState::up); }, 5s));
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    REQUIRE(wait_until([&] { return a.stats().refused_connections >= 1; }, 5s));
    auto target = a.spawn();
    CHECK(c.send(target.pid(), "after revocation") != SendResult::delivered);
    CHECK_FALSE(target.receive(300ms));
    CHECK(peer_is(a, "b@127.0.0.1", PeerState::up));
    CHECK_FALSE(peer_is(a, "c@127.0.0.1", PeerState::up));
    // b has not reloaded, so it still sees c up: a reports the split, and why.
    const auto split = wait_event(a, [](const PeerEvent& e) { return e.kind == PeerEventKind::partial_partition; });
    REQUIRE(split);
    CHECK(split->name == "c@127.0.0.1");
    CHECK(split->detail == "b@127.0.0.1 sees it up; its key is not trusted here");
}

TEST_CASE("node keys: a bad start is refused, naming what is wrong", "[node-keys]") {
    Keys keys({"a@127.0.0.1", "b@127.0.0.1"});
    auto no_file = keys.options("a@127.0.0.1");
    no_file.key_file.clear();
    CHECK_THROWS_WITH(Node(no_file), Catch::Contains("key_file"));
    CHECK_THROWS_WITH(Node(keys.options("a@127.0.0.1", {"tcp://127.0.0.1:1"})), Catch::Contains("NAME=ENDPOINT"));
    auto wrong_name = keys.options("a@127.0.0.1");
    wrong_name.key_file = keys.key_file("b@127.0.0.1");
    CHECK_THROWS_WITH(Node(wrong_name), Catch::Contains("not in") && Catch::Contains("a@127.0.0.1"));
    std::ofstream(keys.trusted_file()) << "not-a-key a@127.0.0.1\n";
    CHECK_THROWS_WITH(Node(keys.options("a@127.0.0.1")), Catch::Contains("trusted:1") && Catch::Contains("Z85"));
    std::ofstream(keys.key_file("a@127.0.0.1")) << "public = " << keys.pairs.at("b@127.0.0.1").public_key
                                                 << "\nsecret = " << keys.pairs.at("a@127.0.0.1").secret_key << "\n";
    keys.trust({"a@127.0.0.1"});
    CHECK_THROWS_WITH(Node(keys.options("a@127.0.0.1")), Catch::Contains("not the secret key's"));
}

TEST_CASE("node keys: a reload with a broken file keeps the keys in force", "[node-keys]") {
    Keys keys({"a@127.0.0.1", "b@127.0.0.1"});
    Node a(keys.options("a@127.0.0.1"));
    Node b(keys.options("b@127.0.0.1", {seed(a)}));
    REQUIRE(wait_for_mesh({&a, &b}));
    std::ofstream(keys.trusted_file()) << "garbage\n";
    CHECK_THROWS_AS(a.reload_trusted_keys(), Error);
    CHECK(peer_is(a, "b@127.0.0.1", PeerState::up));
    Node plain(node_options("p@127.0.0.1"));
    CHECK_THROWS_AS(plain.reload_trusted_keys(), InvalidArgument);
}

TEST_CASE("node keys: a revoked node's subscription to gossip is closed too", "[node-keys][trust]") {
    Keys keys({"a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1"});
    Node a(keys.options("a@127.0.0.1"));
    Node b(keys.options("b@127.0.0.1", {seed(a)}));
    REQUIRE(wait_for_mesh({&a, &b}));
    // c, as a raw SUB on a's PUB with c's key, gets a's gossip while trusted.
    zmq::context_t context;
    zmq::socket_t listener(context, zmq::socket_type::sub);
    listener.set(zmq::sockopt::linger, 0);
    listener.set(zmq::sockopt::subscribe, "");
    listener.set(zmq::sockopt::rcvtimeo, 5000);
    detail::secure_client(listener, Security::node_keys, keys.pairs.at("c@127.0.0.1"),
                          keys.pairs.at("a@127.0.0.1").public_key);
    listener.connect(a.pub_endpoint());
    zmq::message_t gossip;
    REQUIRE(listener.recv(gossip));  // a's periodic digest
    keys.trust({"a@127.0.0.1", "b@127.0.0.1"});
    a.reload_trusted_keys();
    // Once a has cut it off (its reconnection is refused), nothing a gossips reaches it.
    REQUIRE(wait_until([&] { return a.stats().refused_connections >= 1; }, 5s));
    while (listener.recv(gossip, zmq::recv_flags::dontwait)) {
    }
    auto worker = a.spawn();
    a.join("s", "after", worker.pid());
    const auto digests = b.stats().digests_in;
    REQUIRE(wait_until([&] { return b.members("s", "after").size() == 1 && b.stats().digests_in >= digests + 2; }));
    std::size_t leaked = 0;
    while (listener.recv(gossip, zmq::recv_flags::dontwait)) ++leaked;
    CHECK(leaked == 0);
}
