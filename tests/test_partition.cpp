// Real partitions: nodes as processes of their own (support/test_host.cpp),
// each on its own loopback address with its outgoing connections bound to
// it, split and healed with nftables. They need root and nft (CI has both);
// elsewhere each test says so and passes without running.

#include "support/partition.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>

using namespace std::chrono_literals;
using liminal::test::all_see;
using liminal::test::Firewall;
using liminal::test::Host;
using liminal::test::host_address;
using liminal::test::views_agree;
using liminal::test::wait_until;

namespace {

std::unique_ptr<Host> host(int n, const std::string& seed = "", liminal::test::HostTimings timings = {}) {
    return std::make_unique<Host>("h" + std::to_string(n) + "@" + host_address(n), host_address(n), seed, timings);
}

}  // namespace

TEST_CASE("after a 60 s silent split heals, a join made at once is seen across it within 0.5 s", "[partition]") {
    LIMINAL_REQUIRE_FIREWALL();
    Firewall firewall;
    auto a = host(2);
    auto b = host(3, a->router);
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    const std::string before = a->join("g", "p1");
    REQUIRE(wait_until([&] { return b->holds("g", before); }));

    firewall.cut(a->address, b->address);
    REQUIRE(all_see({a.get(), b.get()}, "down"));
    REQUIRE_FALSE(b->holds("g", before));  // purged across the split
    // The split lasts long enough for every reconnect to back off as far as
    // it goes (and for the kernel's SYN retries, where nothing caps them).
    const auto healed_at = std::chrono::steady_clock::now() + 60s;
    REQUIRE_FALSE(wait_until([&] { return a->peer_state(b->name) == "up"; },  // wait-ok: the split's length
                             std::chrono::duration_cast<std::chrono::milliseconds>(healed_at - std::chrono::steady_clock::now())));
    firewall.heal();
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    REQUIRE(wait_until([&] { return b->holds("g", before); }));  // the backfill

    const std::string after = a->join("g", "p2");
    const auto joined = std::chrono::steady_clock::now();
    REQUIRE(wait_until([&] { return b->holds("g", after); }, 5s));
    const auto lag = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - joined);
    INFO("the join was seen across the healed split after " << lag.count() << " ms");
    CHECK(lag <= 500ms);
    CHECK(views_agree({a.get(), b.get()}));
}

namespace {

std::vector<std::string> keys(const std::string& prefix, int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back(prefix + std::to_string(i));
    return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<std::string> joined(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return sorted(std::move(a));
}

}  // namespace

TEST_CASE("pg_SUITE netsplit: changes on both sides of a split are exchanged when it heals", "[partition][pg]") {
    LIMINAL_REQUIRE_FIREWALL();
    Firewall firewall;
    auto a = host(2);
    auto b = host(3, a->router);
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    const std::string old_pid = b->join("$invisible", "old");
    REQUIRE(wait_until([&] { return a->holds("$invisible", old_pid); }));

    firewall.cut(a->address, b->address);
    REQUIRE(all_see({a.get(), b.get()}, "down"));
    const std::string remote = b->join("netsplit", "remote");  // in a partition
    CHECK(b->leave("$invisible", "old"));
    b->join("$visible", "old");
    CHECK(b->members("$visible") == std::vector<std::string>{old_pid});
    const std::string local = a->join("netsplit", "local");
    CHECK(a->peer_state(b->name) == "down");

    firewall.heal();
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    REQUIRE(b->sync());
    REQUIRE(a->sync());
    const auto both = sorted({remote, local});
    CHECK(b->members("netsplit") == both);
    CHECK(a->members("netsplit") == both);
    CHECK(a->members("$visible") == std::vector<std::string>{old_pid});
    CHECK(a->members("$invisible").empty());
    CHECK(views_agree({a.get(), b.get()}));
}

TEST_CASE("pg_SUITE trisplit: a third node that meets a healed pair sees what was joined after the heal",
          "[partition][pg]") {
    LIMINAL_REQUIRE_FIREWALL();
    Firewall firewall;
    auto a = host(2);
    auto b = host(3, a->router);
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    const std::string pid2 = b->join("three", "pid2");
    firewall.cut(a->address, b->address);
    REQUIRE(all_see({a.get(), b.get()}, "down"));
    firewall.heal();
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    b->join("one", "pid2");
    auto c = host(4, b->router);
    REQUIRE(all_see({a.get(), b.get(), c.get()}, "up"));
    CHECK(wait_until([&] { return c->members("one") == std::vector<std::string>{pid2}; }));
    CHECK(c->members("three") == std::vector<std::string>{pid2});
    CHECK(views_agree({a.get(), b.get(), c.get()}));
}

TEST_CASE("pg_SUITE foursplit: a leave before the split stays left, and a process closed during it is no member",
          "[partition][pg]") {
    LIMINAL_REQUIRE_FIREWALL();
    Firewall firewall;
    auto a = host(2);
    auto b = host(3, a->router);
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    const std::string pid = a->join("one", "pid");
    a->join("two", "pid");
    b->spawn("peer1");
    CHECK(a->leave("one", "pid"));
    CHECK_FALSE(a->leave("three", "pid"));  // not_joined
    firewall.cut(a->address, b->address);
    REQUIRE(all_see({a.get(), b.get()}, "down"));
    b->close("peer1");
    CHECK_FALSE(a->leave("three", "pid"));
    firewall.heal();
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    REQUIRE(a->sync());
    CHECK(a->members("one").empty());
    CHECK(b->members("one").empty());
    CHECK(b->members("two") == std::vector<std::string>{pid});
    CHECK(views_agree({a.get(), b.get()}));
}

TEST_CASE("pg_SUITE exchange: two nodes split from a third exchange everything joined and left meanwhile",
          "[partition][pg]") {
    LIMINAL_REQUIRE_FIREWALL();
    Firewall firewall;
    auto a = host(2);
    auto b1 = host(3, a->router);
    auto b2 = host(4, a->router);
    REQUIRE(all_see({a.get(), b1.get(), b2.get()}, "up"));
    const auto pids10 = b1->join("exchange", keys("p", 0, 10));
    REQUIRE(wait_until([&] { return a->members("exchange") == sorted(pids10); }));
    for (const auto& key : keys("p", 0, 3)) b1->close(key);  // the first three exit
    const std::vector<std::string> pids1(pids10.begin() + 3, pids10.end());
    REQUIRE(wait_until([&] { return a->members("exchange") == sorted(pids1); }));

    firewall.cut(a->address, b1->address);
    firewall.cut(a->address, b2->address);
    REQUIRE(wait_until([&] { return a->peer_state(b1->name) == "down" && a->peer_state(b2->name) == "down"; }));
    CHECK(a->members("exchange").empty());
    std::vector<std::string> pids2, pids11;
    for (const auto& key : keys("q", 0, 10)) pids2.push_back(b2->join("exchange", key));
    for (const auto& key : keys("r", 0, 10)) pids11.push_back(b1->join("second", key));
    b1->join("third", keys("r", 0, 10));

    firewall.heal();
    REQUIRE(all_see({a.get(), b1.get(), b2.get()}, "up"));
    REQUIRE(b1->sync());
    REQUIRE(b2->sync());
    CHECK(joined(a->members("second"), a->members("exchange")) == joined(joined(pids1, pids2), pids11));
    CHECK(a->members("third") == sorted(pids11));

    CHECK(b1->leave("third", keys("r", 0, 3)));
    REQUIRE(b1->sync());
    CHECK(a->members("third") == sorted({pids11.begin() + 3, pids11.end()}));
    CHECK_FALSE(b1->leave("left", keys("r", 3, 10)));
    CHECK(b1->leave("third", keys("r", 3, 10)));
    REQUIRE(b1->sync());
    CHECK(a->members("third").empty());
    CHECK(views_agree({a.get(), b1.get(), b2.get()}));
}

TEST_CASE("a partial cut: the two cut apart see each other down and report it within two heartbeat timeouts, a "
          "third still sees both, and all agree after",
          "[partition]") {
    LIMINAL_REQUIRE_FIREWALL();
    Firewall firewall;
    // The defaults' shape: a digest every heartbeat interval.
    const liminal::test::HostTimings timings{200, 1000, 200};
    auto a = host(2, "", timings);
    auto b = host(3, a->router, timings);
    auto c = host(4, a->router, timings);
    REQUIRE(all_see({a.get(), b.get(), c.get()}, "up"));
    const std::string pa = a->join("g", "pa");
    const std::string pb = b->join("g", "pb");
    REQUIRE(wait_until([&] { return c->members("g") == sorted({pa, pb}); }));
    CHECK(a->partial().empty());

    const auto cut = std::chrono::steady_clock::now();
    firewall.cut(a->address, b->address);
    // Each of the pair says who it cannot reach and who can.
    const std::map<std::string, std::string> a_reports{{b->name, c->name}}, b_reports{{a->name, c->name}};
    REQUIRE(wait_until([&] { return a->partial() == a_reports && b->partial() == b_reports; }, 10s));
    const auto reported = std::chrono::steady_clock::now() - cut;
    CHECK(reported <= 2 * std::chrono::milliseconds(timings.heartbeat_timeout_ms));
    CHECK(a->peer_state(b->name) == "down");
    CHECK(b->peer_state(a->name) == "down");
    CHECK(a->members("g") == std::vector<std::string>{pa});
    CHECK(b->members("g") == std::vector<std::string>{pb});
    CHECK(c->peer_state(a->name) == "up");
    CHECK(c->peer_state(b->name) == "up");
    CHECK(c->members("g") == sorted({pa, pb}));
    CHECK(c->partial().empty());
    CHECK_THAT(a->ask("stats"), Catch::Contains("partial_partitions=1"));

    firewall.heal();
    REQUIRE(all_see({a.get(), b.get(), c.get()}, "up"));
    CHECK(wait_until([&] { return a->partial().empty() && b->partial().empty(); }));
    REQUIRE(a->sync());
    REQUIRE(b->sync());
    CHECK(views_agree({a.get(), b.get(), c.get()}));
    CHECK(a->members("g") == sorted({pa, pb}));
}

TEST_CASE("a 2|2 split during membership churn heals to the exact membership on every node", "[partition]") {
    LIMINAL_REQUIRE_FIREWALL();
    Firewall firewall;
    std::vector<std::unique_ptr<Host>> hosts;
    hosts.push_back(host(2));
    for (int n = 3; n <= 5; ++n) hosts.push_back(host(n, hosts[0]->router));
    std::vector<Host*> all;
    for (auto& h : hosts) all.push_back(h.get());
    REQUIRE(all_see(all, "up"));

    // What each group must hold in the end: a model of every join and leave.
    std::map<std::string, std::set<std::string>> model;
    std::map<std::string, std::string> pid_of;  // host/key -> pid
    std::set<std::string> joined_now;           // "group host/key" currently joined
    std::mt19937 random(20261202);
    const auto churn = [&](int operations) {
        for (int i = 0; i < operations; ++i) {
            const auto h = random() % hosts.size();
            const std::string key = "k" + std::to_string(random() % 8);
            const std::string group = "g" + std::to_string(random() % 4);
            const std::string id = std::to_string(h) + "/" + key;
            const std::string entry = group + " " + id;
            if (joined_now.count(entry) > 0) {
                CHECK(hosts[h]->leave(group, key));
                joined_now.erase(entry);
                model[group].erase(pid_of.at(id));
            } else {
                pid_of[id] = hosts[h]->join(group, key);
                joined_now.insert(entry);
                model[group].insert(pid_of.at(id));
            }
        }
    };
    churn(200);
    for (int x : {0, 1}) {
        for (int y : {2, 3}) firewall.cut(hosts[x]->address, hosts[y]->address);
    }
    churn(200);
    REQUIRE(wait_until([&] { return hosts[0]->peer_state(hosts[2]->name) == "down"; }));
    churn(200);
    firewall.heal();
    churn(200);
    REQUIRE(all_see(all, "up"));
    churn(100);
    for (Host* h : all) REQUIRE(h->sync());
    for (Host* h : all) {
        for (const auto& [group, pids] : model) {
            INFO(h->name << " " << group);
            CHECK(h->members(group) == std::vector<std::string>(pids.begin(), pids.end()));
        }
    }
    CHECK(views_agree(all));
}
