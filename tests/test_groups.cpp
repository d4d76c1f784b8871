// Process groups and channels across nodes in one process on 127.0.0.1.

#include "node/test_hooks.hpp"
#include "support/cluster.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

using namespace liminal;
using namespace std::chrono_literals;
using liminal::test::node_options;
using liminal::test::wait_for_mesh;
using liminal::test::wait_until;

namespace {

Options fast(Options options) {
    options.digest_interval = 100ms;
    return options;
}

std::set<Pid> as_set(const std::vector<Pid>& pids) { return {pids.begin(), pids.end()}; }

// Every group of `scope` with its members, as `node` sees it.
std::map<std::string, std::set<Pid>> view(const Node& node, const std::string& scope) {
    std::map<std::string, std::set<Pid>> out;
    for (const auto& group : node.which_groups(scope)) out[group] = as_set(node.members(scope, group));
    return out;
}

bool views_equal(const std::vector<Node*>& nodes, const std::string& scope) {
    const auto first = view(*nodes[0], scope);
    for (const Node* node : nodes) {
        if (view(*node, scope) != first) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("members, local and remote members, which_groups across three nodes", "[groups]") {
    Node a(fast(node_options("a@127.0.0.1")));
    Node b(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    Node c(fast(node_options("c@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b, &c}));
    auto pa = a.spawn();
    auto pb = b.spawn();
    auto pc = c.spawn();
    a.join("default", "workers", pa.pid());
    b.join("default", "workers", pb.pid());
    c.join("other", "workers", pc.pid());
    REQUIRE(a.sync_membership(5s).ok);
    REQUIRE(b.sync_membership(5s).ok);
    REQUIRE(c.sync_membership(5s).ok);
    for (Node* node : {&a, &b, &c}) {
        CHECK(as_set(node->members("default", "workers")) == std::set<Pid>{pa.pid(), pb.pid()});
        CHECK(node->members("other", "workers") == std::vector<Pid>{pc.pid()});
        CHECK(node->which_groups("default") == std::vector<std::string>{"workers"});
    }
    CHECK(a.local_members("default", "workers") == std::vector<Pid>{pa.pid()});
    CHECK(a.remote_members("default", "workers") == std::vector<Pid>{pb.pid()});
    CHECK(a.members("default", "nobody").empty());
}

TEST_CASE("joining a pid that is not a live local process is a usage error", "[groups]") {
    Node a(node_options("a@127.0.0.1"));
    auto p = a.spawn();
    CHECK_THROWS_AS(a.join("s", "g", Pid{"b@127.0.0.1", 1, 1}), liminal::Error);
    CHECK_THROWS_AS(a.join("s", "g", Pid{a.name(), a.creation(), 999}), liminal::Error);
    CHECK_THROWS_AS(a.join("", "g", p.pid()), liminal::Error);
    CHECK_THROWS_AS(a.join("s", std::string(256, 'g'), p.pid()), liminal::Error);
    CHECK_FALSE(a.leave("s", "g", p.pid()));
}

TEST_CASE("a process that closes after join found it live is not left a member", "[groups][faults]") {
    std::optional<Process> process;
    std::thread closer;
    std::atomic<bool> closed = false;
    detail::TestHooks hooks;
    hooks.joining = [&](std::uint64_t) {
        closer = std::thread([&] {
            process->close();
            closed = true;
        });
        // Without the fix the close finished here, and join then inserted a
        // closed pid. With it, the close waits for join's membership lock,
        // so this wait runs out.
        wait_until([&] { return closed.load(); }, 300ms);  // wait-ok: gives a close that must not finish the time to
    };
    Node a = detail::TestAccess::make_node(fast(node_options("a@127.0.0.1")), hooks);
    Node b(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b}));
    process.emplace(a.spawn());
    a.join("race", "g", process->pid());
    closer.join();
    CHECK(closed);
    REQUIRE(a.sync_membership(5s).ok);
    CHECK(a.local_members("race", "g").empty());
    CHECK(b.members("race", "g").empty());
}

TEST_CASE("a process closed while it joins is never left a member, here or elsewhere", "[groups][faults]") {
    Node a(fast(node_options("a@127.0.0.1")));
    Node b(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b}));
    int joined = 0, refused = 0;
    for (int i = 0; i < 2000; ++i) {
        auto process = a.spawn();
        const Pid pid = process.pid();
        // Both threads spin to the start (no sleeping thread to wake), and
        // the closer starts a little later each time, so that its close
        // falls at every point of the join in turn.
        std::atomic<bool> ready = false, go = false;
        std::thread closer([&, delay = i % 200] {
            ready = true;
            while (!go) {
            }
            for (std::atomic<int> spin = 0; spin < delay; ++spin) {
            }
            process.close();
        });
        while (!ready) {
        }
        go = true;
        try {
            a.join("race", "g", pid);
            ++joined;
        } catch (const NotLocal&) {
            ++refused;
        }
        closer.join();
    }
    INFO(joined << " joins went through, " << refused << " were refused");
    REQUIRE(a.sync_membership(5s).ok);
    CHECK(a.local_members("race", "g").empty());
    CHECK(a.members("race", "g").empty());
    CHECK(b.members("race", "g").empty());
}

TEST_CASE("subscribers on two nodes get each publish exactly once and in order", "[groups][channels]") {
    Node a(fast(node_options("a@127.0.0.1")));
    Node b(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    Node c(fast(node_options("c@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b, &c}));
    auto sb1 = b.spawn();
    auto sb2 = b.spawn();
    auto sc = c.spawn();
    b.subscribe("news", sb1.pid());
    b.subscribe("news", sb2.pid());
    c.subscribe("news", sc.pid());
    REQUIRE(b.sync_membership(5s).ok);
    REQUIRE(c.sync_membership(5s).ok);

    auto publisher = a.spawn();
    constexpr int count = 500;
    for (int i = 0; i < count; ++i) {
        const auto result = a.publish(publisher.pid(), "news", std::to_string(i), {{"n", std::to_string(i)}});
        CHECK(result.nodes == 2);  // once per node, not per subscriber
        CHECK(result.local_deliveries == 0);
    }
    for (Process* sub : {&sb1, &sb2, &sc}) {
        std::set<std::string> ids;
        for (int i = 0; i < count; ++i) {
            const auto m = sub->receive(5s);
            REQUIRE(m);
            REQUIRE(m->envelope() != nullptr);
            CHECK(m->payload() == std::to_string(i));
            CHECK(m->envelope()->channel == "news");
            CHECK(m->envelope()->sequence == static_cast<std::uint64_t>(i + 1));
            CHECK(m->from() == publisher.pid());
            CHECK(m->headers().at("n") == std::to_string(i));
            ids.insert(m->envelope()->id_hex());
        }
        CHECK(ids.size() == count);
        CHECK_FALSE(sub->receive(50ms));
    }
    // Counts are added once a frame is applied, just after its deliveries:
    // wait for the last one.
    REQUIRE(wait_until([&] { return c.stats().publish_frames_in == count && b.stats().publish_frames_in == count; }));
    CHECK(a.stats().publish_frames_out == 2 * count);
    CHECK(b.stats().delivered_publish == 2 * count);
    CHECK(c.stats().delivered_publish == count);
    // Per channel, exactly: counts are added per frame and per batch, not per message.
    const auto news = [](const Node& node) {
        for (const auto& stats : node.channel_stats()) {
            if (stats.channel == "news") return stats;
        }
        return ChannelStats{};
    };
    CHECK(news(a).published == count);
    CHECK(news(a).nodes_sent == 2 * count);
    CHECK(news(b).received == count);
    CHECK(news(b).delivered == 2 * count);
    CHECK(news(c).received == count);
    CHECK(news(c).delivered == count);
    CHECK(news(b).dropped + news(c).dropped == 0);
}

TEST_CASE("a local subscriber gets the publish directly", "[groups][channels]") {
    Node a(node_options("a@127.0.0.1"));
    auto sub = a.spawn();
    a.subscribe("local", sub.pid());
    const auto result = a.publish("local", "hi");
    CHECK(result.local_deliveries == 1);
    CHECK(result.nodes == 0);
    const auto m = sub.receive(1s);
    REQUIRE(m);
    CHECK(m->payload() == "hi");
    CHECK(a.unsubscribe("local", sub.pid()));
    CHECK(a.publish("local", "again").local_deliveries == 0);
}

TEST_CASE("a publish right after the barrier reaches a subscriber that joined elsewhere just before", "[groups][channels]") {
    Node a(fast(node_options("a@127.0.0.1")));
    Node b(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b}));
    for (int round = 0; round < 20; ++round) {
        auto sub = b.spawn();
        const std::string channel = "fresh-" + std::to_string(round);
        b.subscribe(channel, sub.pid());
        const auto sync = b.sync_membership(5s);
        REQUIRE(sync.ok);
        CHECK(a.publish(channel, "first").nodes == 1);
        const auto m = sub.receive(5s);
        REQUIRE(m);
        CHECK(m->payload() == "first");
    }
}

TEST_CASE("a publisher's cached route follows subscribes and unsubscribes elsewhere", "[groups][channels]") {
    Node a(fast(node_options("a@127.0.0.1")));
    Node b(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b}));
    // The same channel throughout, so the publisher's route is reused until
    // the membership changes.
    CHECK(a.publish("steady", "nobody yet").nodes == 0);
    CHECK(a.publish("steady", "nobody yet").nodes == 0);
    for (int round = 0; round < 5; ++round) {
        auto sub = b.spawn();
        b.subscribe("steady", sub.pid());
        REQUIRE(b.sync_membership(5s).ok);
        CHECK(a.publish("steady", "to b").nodes == 1);
        const auto m = sub.receive(5s);
        REQUIRE(m);
        CHECK(m->payload() == "to b");
        CHECK(b.unsubscribe("steady", sub.pid()));
        REQUIRE(b.sync_membership(5s).ok);
        CHECK(a.publish("steady", "gone").nodes == 0);
    }
}

TEST_CASE("the barrier reports lagging peers when it times out", "[groups]") {
    Node a(fast(node_options("a@127.0.0.1")));
    detail::TestHooks dropping;
    dropping.gossip_drop_rate = 1.0;  // b never hears a's digests
    Node b = detail::TestAccess::make_node(fast(node_options("b@127.0.0.1", {a.router_endpoint()})), dropping);
    REQUIRE(wait_for_mesh({&a, &b}));
    // b's backfill of a's (empty) membership is acknowledged; after that only
    // gossip, which b drops, would tell it more.
    REQUIRE(wait_until([&] { return b.stats().snapshots_applied >= 1; }));
    auto p = a.spawn();
    a.join("s", "g", p.pid());
    const auto sync = a.sync_membership(300ms);
    CHECK_FALSE(sync.ok);
    CHECK(sync.lagging == std::vector<std::string>{"b@127.0.0.1"});
}

TEST_CASE("a late joiner is backfilled with every existing membership", "[groups]") {
    Node a(fast(node_options("a@127.0.0.1")));
    Node b(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b}));
    std::vector<Process> procs;
    for (int i = 0; i < 50; ++i) {
        Node& node = i % 2 ? a : b;
        procs.push_back(node.spawn());
        for (int g = 0; g <= i % 7; ++g) node.join("s", "group-" + std::to_string(g), procs.back().pid());
    }
    REQUIRE(wait_until([&] { return views_equal({&a, &b}, "s"); }));
    Node d(fast(node_options("d@127.0.0.1", {b.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b, &d}));
    REQUIRE(wait_until([&] { return views_equal({&a, &b, &d}, "s"); }));
    CHECK(view(d, "s").size() == 7);
    CHECK(d.stats().snapshots_applied >= 2);
    CHECK(a.stats().backfills_sent >= 2);
}

TEST_CASE("churn with lost gossip converges to identical views", "[groups][churn]") {
    std::vector<std::unique_ptr<Node>> nodes;
    const auto lossy = [](const std::string& name, std::vector<std::string> seeds) {
        detail::TestHooks hooks;
        hooks.gossip_drop_rate = 0.2;
        hooks.seed = std::hash<std::string>{}(name);
        return std::make_unique<Node>(detail::TestAccess::make_node(fast(node_options(name, std::move(seeds))), hooks));
    };
    nodes.push_back(lossy("a@127.0.0.1", {}));
    nodes.push_back(lossy("b@127.0.0.1", {nodes[0]->router_endpoint()}));
    nodes.push_back(lossy("c@127.0.0.1", {nodes[0]->router_endpoint()}));
    std::vector<Node*> all;
    for (auto& n : nodes) all.push_back(n.get());
    REQUIRE(wait_for_mesh(all));

    std::mt19937 random(99);
    std::vector<std::vector<Process>> procs(3);
    for (std::size_t n = 0; n < 3; ++n) {
        for (int i = 0; i < 40; ++i) procs[n].push_back(nodes[n]->spawn());
    }
    for (int op = 0; op < 10'000; ++op) {
        const std::size_t n = random() % 3;
        const Pid& pid = procs[n][random() % procs[n].size()].pid();
        const std::string group = "g" + std::to_string(random() % 50);
        if (random() % 3 == 0)
            nodes[n]->leave("churn", group, pid);
        else
            nodes[n]->join("churn", group, pid);
    }
    REQUIRE(wait_until([&] { return views_equal(all, "churn"); }, 30s));
    std::uint64_t dropped = 0, resyncs = 0;
    for (Node* node : all) {
        dropped += node->stats().gossip_dropped_by_test;
        resyncs += node->stats().resyncs_requested;
    }
    CHECK(dropped > 0);   // the hook did drop gossip...
    CHECK(resyncs > 0);   // ...and the gaps were repaired by resyncs
    for (Node* node : all) REQUIRE(node->sync_membership(10s).ok);
}

TEST_CASE("BYE removes a node's members from every survivor, and monitors see it", "[groups]") {
    Node a(fast(node_options("a@127.0.0.1")));
    Node b(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    auto c = std::make_unique<Node>(fast(node_options("c@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b, c.get()}));
    auto pc1 = c->spawn();
    auto pc2 = c->spawn();
    c->join("s", "g", {pc1.pid(), pc2.pid()});
    REQUIRE(c->sync_membership(5s).ok);
    auto monitor = a.monitor("s", "g");
    REQUIRE(monitor.snapshot().size() == 1);
    CHECK(as_set(monitor.snapshot()[0].pids) == std::set<Pid>{pc1.pid(), pc2.pid()});
    c.reset();
    REQUIRE(wait_until([&] { return a.members("s", "g").empty() && b.members("s", "g").empty(); }));
    const auto event = monitor.next(5s);
    REQUIRE(event);
    CHECK(event->kind == GroupEvent::Kind::leave);
    CHECK(event->node == "c@127.0.0.1");
    CHECK_FALSE(event->local);
    CHECK(as_set(event->pids) == std::set<Pid>{pc1.pid(), pc2.pid()});
    CHECK(a.stats().members_purged == 2);
    CHECK(a.stats().purges == 1);
}

TEST_CASE("a restarted node's old members are replaced and its old pids get nothing", "[groups]") {
    Node a(fast(node_options("a@127.0.0.1")));
    auto b = std::make_unique<Node>(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, b.get()}));
    Pid old_pid;
    {
        auto old_sub = b->spawn();
        old_pid = old_sub.pid();
        b->subscribe("ch", old_pid);
        REQUIRE(b->sync_membership(5s).ok);
        CHECK(a.members("channels", "ch") == std::vector<Pid>{old_pid});
        b.reset();  // the node goes while its subscriber is still subscribed
    }
    b = std::make_unique<Node>(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    auto new_sub = b->spawn();
    b->subscribe("ch", new_sub.pid());
    REQUIRE(wait_for_mesh({&a, b.get()}));
    REQUIRE(b->sync_membership(5s).ok);
    CHECK(a.members("channels", "ch") == std::vector<Pid>{new_sub.pid()});
    CHECK(a.publish("ch", "to the new one").nodes == 1);
    CHECK(a.send(old_pid, "to the old one") == SendResult::stale_creation);
    const auto m = new_sub.receive(5s);
    REQUIRE(m);
    CHECK(m->payload() == "to the new one");
}

TEST_CASE("monitors get a snapshot, then local and remote joins and leaves in order", "[groups]") {
    Node a(fast(node_options("a@127.0.0.1")));
    Node b(fast(node_options("b@127.0.0.1", {a.router_endpoint()})));
    REQUIRE(wait_for_mesh({&a, &b}));
    auto pa = a.spawn();
    a.join("s", "before", pa.pid());
    auto monitor = a.monitor("s");
    REQUIRE(monitor.snapshot().size() == 1);
    CHECK(monitor.snapshot()[0].group == "before");

    auto pb = b.spawn();
    b.join("s", "g", pb.pid());
    a.join("s", "g", pa.pid());
    a.leave("s", "before", pa.pid());
    // A join and leave that both happen before a sees either may reach it
    // as one snapshot in which pb never appears: let a see the join first.
    REQUIRE(b.sync_membership(5s).ok);
    pb.close();  // leaves all its groups
    std::vector<std::string> seen;
    while (seen.size() < 4) {
        const auto e = monitor.next(5s);
        REQUIRE(e);
        seen.push_back(std::string(e->kind == GroupEvent::Kind::join ? "+" : "-") + e->group + "@" + e->node.substr(0, 1));
    }
    // Local events are in call order; the remote join precedes the remote leave.
    const auto pos = [&](const std::string& s) { return std::find(seen.begin(), seen.end(), s) - seen.begin(); };
    CHECK(pos("+g@a") < pos("-before@a"));
    CHECK(pos("+g@b") < pos("-g@b"));
    CHECK(pos("-g@b") < 4);
    CHECK_FALSE(monitor.next(100ms));
}

TEST_CASE("a full mailbox drops by the configured policy and counts it", "[groups][channels]") {
    auto options = node_options("a@127.0.0.1");
    options.limits.mailbox_capacity = 2;
    options.limits.overflow = OverflowPolicy::drop_oldest;
    Node a(options);
    auto sub = a.spawn();
    a.subscribe("c", sub.pid());
    for (int i = 0; i < 5; ++i) a.publish("c", std::to_string(i));
    CHECK(sub.try_receive()->payload() == "3");
    CHECK(sub.try_receive()->payload() == "4");
    CHECK(sub.dropped() == 3);
    CHECK(a.stats().dropped_mailbox_full == 3);
}
