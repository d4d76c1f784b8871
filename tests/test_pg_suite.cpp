// OTP's pg test suite (lib/kernel/test/pg_SUITE.erl), ported case by case to
// liminal nodes in one process on 127.0.0.1. The partition cases (netsplit,
// trisplit, foursplit, exchange) are in test_partition.cpp, thundering_herd
// in test_cluster.cpp; tests/README.md maps every case, and says where
// liminal differs from pg on purpose (a pid joined twice is listed once).

#include "support/cluster.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <thread>

using namespace liminal;
using namespace std::chrono_literals;
using liminal::test::node_options;
using liminal::test::thrown_kind;
using liminal::test::wait_for_mesh;
using liminal::test::wait_until;

namespace {

Options fast(Options options) {
    options.digest_interval = 100ms;
    options.heartbeat_interval = 200ms;
    options.heartbeat_timeout = 1000ms;
    return options;
}

std::unique_ptr<Node> node(const std::string& name, const Node* seed = nullptr) {
    return std::make_unique<Node>(
        fast(node_options(name + "@127.0.0.1", seed ? std::vector<std::string>{seed->router_endpoint()}
                                                    : std::vector<std::string>{})));
}

std::set<Pid> as_set(const std::vector<Pid>& pids) { return {pids.begin(), pids.end()}; }

// The next event of `monitor` is `kind` on `group` for exactly `pids`.
bool next_is(Monitor& monitor, GroupEvent::Kind kind, const std::string& group, const std::vector<Pid>& pids) {
    const auto event = monitor.next(5s);
    if (!event) return false;
    INFO("event on " << event->group << " with " << event->pids.size() << " pids");
    return event->kind == kind && event->group == group && as_set(event->pids) == as_set(pids) &&
           event->pids.size() == pids.size();
}

}  // namespace

TEST_CASE("pg_SUITE pg: join, the local views, leave, and nothing left", "[pg]") {
    auto a = node("a");
    auto p = a->spawn();
    a->join("default", "pg", p.pid());
    CHECK(a->local_members("default", "pg") == std::vector<Pid>{p.pid()});
    CHECK(a->which_groups("default") == std::vector<std::string>{"pg"});
    CHECK(a->which_local_groups("default") == std::vector<std::string>{"pg"});
    CHECK(a->leave("default", "pg", p.pid()));
    CHECK(a->members("default", "pg").empty());
    CHECK(a->which_groups("default").empty());
    CHECK(a->which_local_groups("default").empty());
}

TEST_CASE("pg_SUITE leave_exit_race: a process that has exited cannot join, and leaving it is not_joined", "[pg]") {
    auto a = node("a");
    for (int i = 0; i < 100; ++i) {
        auto p = a->spawn();
        const Pid pid = p.pid();
        p.close();
        CHECK(thrown_kind([&] { a->join("leave_exit_race", "test", pid); }) == ErrorKind::not_local);
        CHECK_FALSE(a->leave("leave_exit_race", "test", pid));
    }
    CHECK(a->which_groups("leave_exit_race").empty());
}

TEST_CASE("pg_SUITE single: joins are counted, a member is listed once, a closed process leaves", "[pg]") {
    auto a = node("a");
    auto self = a->spawn();
    const std::string scope = "single", group = "single";
    a->join(scope, group, self.pid());
    a->join(scope, group, std::vector<Pid>{self.pid(), self.pid()});
    // pg lists [self, self, self]; liminal lists each member once (README).
    CHECK(a->local_members(scope, group) == std::vector<Pid>{self.pid()});
    CHECK(a->members(scope, group) == std::vector<Pid>{self.pid()});
    CHECK_FALSE(a->leave(scope, "$missing$", self.pid()));
    CHECK(a->leave(scope, group, std::vector<Pid>{self.pid(), self.pid()}));
    CHECK(a->members(scope, group) == std::vector<Pid>{self.pid()});  // one join still counted
    CHECK(a->leave(scope, group, self.pid()));
    CHECK(a->which_groups(scope).empty());
    CHECK(a->local_members(scope, group).empty());
    CHECK(a->members(scope, group).empty());
    // double
    a->join(scope, group, self.pid());
    auto other = a->spawn();
    a->join(scope, group, other.pid());
    CHECK(as_set(a->members(scope, group)) == std::set<Pid>{self.pid(), other.pid()});
    CHECK(as_set(a->local_members(scope, group)) == std::set<Pid>{self.pid(), other.pid()});
    other.close();
    CHECK(a->local_members(scope, group) == std::vector<Pid>{self.pid()});
    CHECK(a->leave(scope, group, self.pid()));
}

TEST_CASE("pg_SUITE process_owner_check: only this node's processes join, a non-pid is invalid", "[pg]") {
    auto a = node("a");
    auto b = node("b", a.get());
    REQUIRE(wait_for_mesh({a.get(), b.get()}));
    auto local = a->spawn();
    auto remote = b->spawn();
    const std::string s = "process_owner_check";
    CHECK(thrown_kind([&] { a->join(s, s, remote.pid()); }) == ErrorKind::not_local);
    CHECK(thrown_kind([&] { a->join(s, s, std::vector<Pid>{remote.pid(), remote.pid()}); }) == ErrorKind::not_local);
    CHECK(thrown_kind([&] { a->join(s, s, std::vector<Pid>{local.pid(), remote.pid()}); }) == ErrorKind::not_local);
    CHECK(a->members(s, s).empty());  // nothing of a refused call joined
    CHECK(thrown_kind([&] { a->join(s, s, Pid{}); }) == ErrorKind::invalid_argument);
    CHECK(thrown_kind([&] { a->join(s, s, std::vector<Pid>{Pid{}}); }) == ErrorKind::invalid_argument);
    CHECK(thrown_kind([&] { a->join(s, s, Pid{a->name(), a->creation(), 0}); }) == ErrorKind::invalid_argument);
    CHECK(thrown_kind([&] { a->leave(s, s, remote.pid()); }) == ErrorKind::not_local);
    CHECK(thrown_kind([&] { a->leave(s, s, Pid{}); }) == ErrorKind::invalid_argument);
    CHECK(thrown_kind([&] { a->join("", s, local.pid()); }) == ErrorKind::invalid_argument);
}

TEST_CASE("pg_SUITE two: a member on each side is seen on the other, and goes with its process or node", "[pg]") {
    auto a = node("a");
    auto b = node("b", a.get());
    REQUIRE(wait_for_mesh({a.get(), b.get()}));
    const std::string s = "two";
    auto p = a->spawn();
    a->join(s, s, p.pid());
    CHECK(a->local_members(s, s) == std::vector<Pid>{p.pid()});
    REQUIRE(a->sync_membership(5s).ok);
    CHECK(b->members(s, s) == std::vector<Pid>{p.pid()});
    CHECK(b->local_members(s, s).empty());
    p.close();
    REQUIRE(a->sync_membership(5s).ok);
    CHECK(a->local_members(s, s).empty());
    CHECK(b->members(s, s).empty());

    auto p2 = b->spawn();
    auto p3 = b->spawn();
    b->join(s, s, p2.pid());
    b->join(s, s, p3.pid());
    REQUIRE(b->sync_membership(5s).ok);
    CHECK(as_set(a->members(s, s)) == std::set<Pid>{p2.pid(), p3.pid()});
    b.reset();  // the peer stops
    CHECK(a->members(s, s).empty());  // its BYE purged them before it returned
}

TEST_CASE("pg_SUITE empty_group_by_remote_leave: a group emptied by remote leaves is gone", "[pg]") {
    auto a = node("a");
    auto b = node("b", a.get());
    REQUIRE(wait_for_mesh({a.get(), b.get()}));
    const std::string s = "empty_group_by_remote_leave";
    auto remote = b->spawn();
    b->join(s, s, remote.pid());
    REQUIRE(b->sync_membership(5s).ok);
    CHECK(a->members(s, s) == std::vector<Pid>{remote.pid()});
    CHECK(a->which_groups(s) == std::vector<std::string>{s});
    CHECK(b->leave(s, s, remote.pid()));
    REQUIRE(b->sync_membership(5s).ok);
    CHECK(a->members(s, s).empty());
    CHECK(a->which_groups(s).empty());  // the empty group is deleted

    auto remote2 = b->spawn();
    b->join(s, s, std::vector<Pid>{remote.pid(), remote2.pid()});
    REQUIRE(b->sync_membership(5s).ok);
    CHECK(as_set(a->members(s, s)) == std::set<Pid>{remote.pid(), remote2.pid()});
    CHECK(b->leave(s, s, std::vector<Pid>{remote2.pid(), remote.pid()}));
    REQUIRE(b->sync_membership(5s).ok);
    CHECK(a->members(s, s).empty());
    CHECK(a->which_groups(s).empty());
}

TEST_CASE("pg_SUITE initial: a node that starts later is backfilled, then follows", "[pg]") {
    auto a = node("a");
    const std::string s = "initial";
    auto p = a->spawn();
    a->join(s, s, p.pid());
    CHECK(a->local_members(s, s) == std::vector<Pid>{p.pid()});
    auto b = node("b", a.get());
    REQUIRE(wait_for_mesh({a.get(), b.get()}));
    REQUIRE(wait_until([&] { return b->members(s, s) == std::vector<Pid>{p.pid()}; }));
    CHECK(b->local_members(s, s).empty());
    p.close();
    REQUIRE(a->sync_membership(5s).ok);
    CHECK(b->members(s, s).empty());
}

TEST_CASE("pg_SUITE nolocal: remote joins are never local", "[pg]") {
    auto a = node("a");
    auto b = node("b", a.get());
    REQUIRE(wait_for_mesh({a.get(), b.get()}));
    const std::string s = "nolocal";
    auto remote = b->spawn();
    b->join(s, s, remote.pid());
    b->join(s, s, remote.pid());
    REQUIRE(b->sync_membership(5s).ok);
    CHECK(a->local_members(s, s).empty());
    CHECK(a->members(s, s) == std::vector<Pid>{remote.pid()});
}

TEST_CASE("pg_SUITE double: a pid joined twice is one member everywhere until it has left twice", "[pg]") {
    auto a = node("a");
    const std::string s = "double";
    auto p = a->spawn();
    a->join(s, s, p.pid());
    auto b = node("b", a.get());
    REQUIRE(wait_for_mesh({a.get(), b.get()}));
    a->join(s, s, std::vector<Pid>{p.pid()});
    // pg lists [Pid, Pid]; liminal lists it once, and counts the joins.
    CHECK(a->members(s, s) == std::vector<Pid>{p.pid()});
    REQUIRE(a->sync_membership(5s).ok);
    CHECK(b->members(s, s) == std::vector<Pid>{p.pid()});
    CHECK(a->leave(s, s, p.pid()));
    REQUIRE(a->sync_membership(5s).ok);
    CHECK(b->members(s, s) == std::vector<Pid>{p.pid()});
    CHECK(a->leave(s, s, p.pid()));
    REQUIRE(a->sync_membership(5s).ok);
    CHECK(b->members(s, s).empty());
}

TEST_CASE("pg_SUITE group_leave: sixteen joins, four leaves: still a member, until its node goes", "[pg]") {
    auto a = node("a");
    auto b = node("b", a.get());
    REQUIRE(wait_for_mesh({a.get(), b.get()}));
    auto remote = b->spawn();
    const std::vector<Pid> total(16, remote.pid());
    const std::vector<Pid> left(4, remote.pid());
    b->join("group_leave", "two", total);
    CHECK(b->leave("group_leave", "two", left));
    REQUIRE(b->sync_membership(5s).ok);
    CHECK(a->members("group_leave", "two") == std::vector<Pid>{remote.pid()});  // pg: 12 entries
    b.reset();
    CHECK(a->members("group_leave", "two").empty());
}

TEST_CASE("pg_SUITE monitor_nonempty_scope: a scope monitor starts from the whole scope, and again after cancel",
          "[pg][monitor]") {
    auto a = node("a");
    auto b = node("b", a.get());
    REQUIRE(wait_for_mesh({a.get(), b.get()}));
    const std::string s = "monitor_nonempty_scope";
    auto p = a->spawn();
    auto remote = b->spawn();
    a->join(s, "one", p.pid());
    b->join(s, "one", remote.pid());
    REQUIRE(b->sync_membership(5s).ok);
    auto monitor = a->monitor(s);
    REQUIRE(monitor.snapshot().size() == 1);  // no other group
    CHECK(monitor.snapshot()[0].group == "one");
    CHECK(as_set(monitor.snapshot()[0].pids) == std::set<Pid>{p.pid(), remote.pid()});
    CHECK(monitor.cancel());
    auto again = a->monitor(s);
    REQUIRE(again.snapshot().size() == 1);
    CHECK(as_set(again.snapshot()[0].pids) == std::set<Pid>{p.pid(), remote.pid()});
}

namespace {

// pg_SUITE's monitor_test_impl, for a scope monitor and for a group monitor:
// local and remote joins and leaves reach every monitor (on this node, a
// second one, and one on the remote node) in order; a node that stops is a
// leave; cancel stops it.
void monitor_test(bool whole_scope) {
    const std::string scope = whole_scope ? "monitor_scope" : "monitor";
    const std::string group = "group";
    const auto watch = [&](Node& on) { return whole_scope ? on.monitor(scope) : on.monitor(scope, group); };
    using Kind = GroupEvent::Kind;
    auto a = node("a");
    auto self = a->spawn();
    auto first = watch(*a);
    CHECK(first.snapshot().empty());
    a->join(scope, group, self.pid());
    CHECK(next_is(first, Kind::join, group, {self.pid()}));
    auto second = watch(*a);  // starts with the one local pid
    REQUIRE(second.snapshot().size() == 1);
    CHECK(second.snapshot()[0].pids == std::vector<Pid>{self.pid()});

    auto b = node("b", a.get());
    REQUIRE(wait_for_mesh({a.get(), b.get()}));
    REQUIRE(a->sync_membership(5s).ok);
    auto third = watch(*b);  // on the remote node
    REQUIRE(third.snapshot().size() == 1);
    CHECK(third.snapshot()[0].pids == std::vector<Pid>{self.pid()});

    auto remote = b->spawn();
    b->join(scope, group, std::vector<Pid>{remote.pid(), remote.pid()});
    CHECK(next_is(first, Kind::join, group, {remote.pid()}));  // pg: [RemotePid, RemotePid]
    CHECK(a->local_members(scope, group) == std::vector<Pid>{self.pid()});
    CHECK(a->leave(scope, group, self.pid()));
    CHECK(next_is(first, Kind::leave, group, {self.pid()}));
    // One of its two joins left: still a member, so no event (pg: a leave of
    // one of its two entries).
    CHECK(b->leave(scope, group, remote.pid()));
    REQUIRE(b->sync_membership(5s).ok);
    for (Monitor* other : {&second, &third}) {
        CHECK(next_is(*other, Kind::join, group, {remote.pid()}));
        CHECK(next_is(*other, Kind::leave, group, {self.pid()}));
        CHECK(other->pending() == 0);
    }
    CHECK(first.pending() == 0);
    b.reset();  // its last join goes with it
    CHECK(next_is(first, Kind::leave, group, {remote.pid()}));
    CHECK(next_is(second, Kind::leave, group, {remote.pid()}));

    CHECK(first.cancel());
    CHECK_FALSE(first.cancel());
    a->join(scope, group, self.pid());
    CHECK(next_is(second, Kind::join, group, {self.pid()}));  // after that join: a cancelled monitor gets nothing
    CHECK_FALSE(first.next(0ms));
    CHECK(first.pending() == 0);
}

}  // namespace

TEST_CASE("pg_SUITE monitor_scope: a scope monitor sees every join and leave in order, and cancel ends it",
          "[pg][monitor]") {
    monitor_test(true);
}

TEST_CASE("pg_SUITE monitor: a group monitor sees every join and leave in order, and cancel ends it", "[pg][monitor]") {
    monitor_test(false);
}

TEST_CASE("pg_SUITE monitor_self: a process that joins a monitored group and closes is a join then a leave",
          "[pg][monitor]") {
    auto a = node("a");
    auto monitor = a->monitor("monitor_self", "monitor_self");
    auto p = a->spawn();
    a->join("monitor_self", "monitor_self", p.pid());
    p.close();
    CHECK(next_is(monitor, GroupEvent::Kind::join, "monitor_self", {p.pid()}));
    CHECK(next_is(monitor, GroupEvent::Kind::leave, "monitor_self", {p.pid()}));
    CHECK(a->members("monitor_self", "monitor_self").empty());
}

TEST_CASE("pg_SUITE multi_monitor: group and scope monitors at once each get their own events", "[pg][monitor]") {
    auto a = node("a");
    const std::string s = "multi_monitor";
    auto one = a->monitor(s, "one");
    auto two = a->monitor(s, "two");
    auto whole = a->monitor(s);
    CHECK(one.snapshot().empty());
    CHECK(two.snapshot().empty());
    auto self = a->spawn();
    a->join(s, "one", self.pid());
    a->join(s, "two", self.pid());
    using Kind = GroupEvent::Kind;
    CHECK(next_is(one, Kind::join, "one", {self.pid()}));
    CHECK(next_is(whole, Kind::join, "one", {self.pid()}));
    CHECK(next_is(two, Kind::join, "two", {self.pid()}));
    CHECK(next_is(whole, Kind::join, "two", {self.pid()}));
    for (Monitor* m : {&one, &two, &whole}) {
        CHECK(m->pending() == 0);
        CHECK(m->cancel());
    }
}

TEST_CASE("Monitor::cancel wakes a next() waiting on another thread, and throws on an empty monitor", "[pg][monitor]") {
    auto a = node("a");
    auto monitor = a->monitor("s");
    std::optional<GroupEvent> got = GroupEvent{};
    const auto started = std::chrono::steady_clock::now();
    std::thread waiter([&] { got = monitor.next(30s); });
    // The waiter may or may not be waiting yet: either way it returns at once.
    CHECK(monitor.cancel());
    waiter.join();
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK_FALSE(got);
    Monitor moved = std::move(monitor);
    CHECK(thrown_kind([&] { monitor.cancel(); }) == ErrorKind::closed);  // NOLINT(bugprone-use-after-move)
    CHECK_FALSE(moved.cancel());
    auto b = node("b");
    auto orphan = b->monitor("s");
    b.reset();
    CHECK_FALSE(orphan.cancel());  // its node is gone: it was no longer active
}
