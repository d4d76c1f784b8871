// The membership state machine without sockets: scripted inputs, including
// lost, duplicated and reordered gossip.

#include "membership/snapshot_assembly.hpp"
#include "membership/state.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <random>
#include <set>

using namespace liminal::detail::membership;

namespace {

using Ids = std::vector<std::uint64_t>;

RemoteDelta delta(bool join, std::uint64_t seq, const std::string& group, Ids ids, std::uint64_t creation = 7,
                  const std::string& origin = "b@h") {
    return RemoteDelta{join, origin, creation, seq, "s", group, std::move(ids)};
}

Ids remote_ids(const State& state, const std::string& group) {
    Ids out;
    for (const auto& m : state.remote_members("s", group)) out.push_back(m.id);
    std::sort(out.begin(), out.end());
    return out;
}

// A receiver that has b@h (creation 7) up with an empty snapshot at seq 0.
State receiver() {
    State state("a@h", 1);
    Effects fx;
    state.on_peer_up("b@h", 7, fx);
    state.on_snapshot("b@h", 7, Snapshot{0, {}}, fx);
    return state;
}

}  // namespace

TEST_CASE("joins are counted and only edges become deltas", "[membership]") {
    State state("a@h", 1);
    Effects fx;
    state.join("s", "g", {1}, fx);
    state.join("s", "g", {1, 2}, fx);
    REQUIRE(fx.deltas.size() == 2);
    CHECK(fx.deltas[0].seq == 1);
    CHECK(fx.deltas[0].ids == Ids{1});
    CHECK(fx.deltas[1].seq == 2);
    CHECK(fx.deltas[1].ids == Ids{2});  // 1 joined again: no edge
    CHECK(state.join_count("s", "g", 1) == 2);

    fx = {};
    CHECK(state.leave("s", "g", {1}, fx) == 1);
    CHECK(fx.deltas.empty());           // 1 is still joined once
    CHECK(state.leave("s", "g", {1, 9}, fx) == 1);  // 9 was never a member
    REQUIRE(fx.deltas.size() == 1);
    CHECK_FALSE(fx.deltas[0].join);
    CHECK(fx.deltas[0].ids == Ids{1});
    CHECK(fx.deltas[0].seq == 3);
    CHECK(state.local_members("s", "g") == Ids{2});
    CHECK(state.seq() == 3);
}

TEST_CASE("a closed process leaves every group whatever its counts", "[membership]") {
    State state("a@h", 1);
    Effects fx;
    state.join("s", "g1", {5}, fx);
    state.join("s", "g1", {5}, fx);
    state.join("t", "g2", {5, 6}, fx);
    fx = {};
    state.leave_all(5, fx);
    CHECK(fx.deltas.size() == 2);
    CHECK(state.local_members("s", "g1").empty());
    CHECK(state.local_members("t", "g2") == Ids{6});
    CHECK(state.which_groups("s").empty());
}

TEST_CASE("the local hash is order independent and follows joins and leaves", "[membership]") {
    State a("a@h", 1), b("a@h", 1);
    Effects fx;
    a.join("s", "g", {1, 2, 3}, fx);
    b.join("s", "g", {3}, fx);
    b.join("s", "g", {2, 1}, fx);
    CHECK(a.local_hash() == b.local_hash());
    a.leave("s", "g", {2}, fx);
    CHECK(a.local_hash() != b.local_hash());
    b.leave("s", "g", {2}, fx);
    CHECK(a.local_hash() == b.local_hash());
    CHECK(membership_hash("s", "g", 1) != membership_hash("s", "g", 2));
    CHECK(membership_hash("s", "g", 1) != membership_hash("g", "s", 1));
}

TEST_CASE("deltas apply in seq order and duplicates are ignored", "[membership]") {
    State state = receiver();
    Effects fx;
    state.on_delta(delta(true, 1, "g", {1, 2}), fx);
    state.on_delta(delta(true, 1, "g", {1, 2}), fx);  // duplicate
    state.on_delta(delta(false, 2, "g", {1}), fx);
    CHECK(remote_ids(state, "g") == Ids{2});
    CHECK(fx.resyncs.empty());
    REQUIRE(fx.changes.size() == 2);
    CHECK(fx.changes[0].join);
    CHECK_FALSE(fx.changes[1].join);
    CHECK(state.origin_status("b@h").applied == 2);
}

TEST_CASE("a gap holds the delta and asks for a resync, the snapshot fills it", "[membership]") {
    State state = receiver();
    Effects fx;
    state.on_delta(delta(true, 1, "g", {1}), fx);
    state.on_delta(delta(true, 3, "g", {3}), fx);  // seq 2 was lost
    CHECK(fx.resyncs == std::vector<std::string>{"b@h"});
    CHECK(remote_ids(state, "g") == Ids{1});
    CHECK(state.origin_status("b@h").held == 1);

    // The snapshot reflects seq 2; the held seq 3 is newer and applies after it.
    fx = {};
    state.on_snapshot("b@h", 7, Snapshot{2, {{"s", "g", {1, 2}}}}, fx);
    CHECK(remote_ids(state, "g") == (Ids{1, 2, 3}));
    CHECK(state.origin_status("b@h").applied == 3);
    CHECK(state.origin_status("b@h").held == 0);
    CHECK(fx.acks == std::vector<Ack>{{"b@h", 7, 3}});
    CHECK(fx.resyncs.empty());
}

TEST_CASE("deltas older than the snapshot are dropped, reordered ones are sorted out", "[membership]") {
    State state("a@h", 1);
    Effects fx;
    state.on_peer_up("b@h", 7, fx);
    // Before any snapshot every delta is held.
    state.on_delta(delta(true, 5, "g", {5}), fx);
    state.on_delta(delta(true, 2, "g", {2}), fx);
    state.on_delta(delta(true, 4, "g", {4}), fx);
    CHECK(remote_ids(state, "g").empty());
    CHECK(fx.resyncs.empty());  // the backfill is on its way
    state.on_snapshot("b@h", 7, Snapshot{3, {{"s", "g", {1, 2, 3}}}}, fx);
    CHECK(remote_ids(state, "g") == (Ids{1, 2, 3, 4, 5}));
    CHECK(state.origin_status("b@h").applied == 5);
}

TEST_CASE("a snapshot replaces the view whole and monitors see the difference", "[membership]") {
    State state = receiver();
    Effects fx;
    state.on_delta(delta(true, 1, "g", {1, 2}), fx);
    state.on_delta(delta(true, 2, "h", {9}), fx);
    fx = {};
    state.on_snapshot("b@h", 7, Snapshot{4, {{"s", "g", {2, 3}}}}, fx);
    CHECK(remote_ids(state, "g") == (Ids{2, 3}));
    CHECK(remote_ids(state, "h").empty());
    CHECK(state.which_groups("s") == std::vector<std::string>{"g"});
    std::vector<std::string> seen;
    for (const auto& c : fx.changes) {
        for (auto id : c.ids) seen.push_back((c.join ? "+" : "-") + c.group + std::to_string(id));
    }
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"+g3", "-g1", "-h9"});
    // An older snapshot is ignored.
    state.on_snapshot("b@h", 7, Snapshot{3, {}}, fx);
    CHECK(remote_ids(state, "g") == (Ids{2, 3}));
}

TEST_CASE("a digest ahead or with another hash asks for a resync, else it is acknowledged", "[membership]") {
    State state = receiver();
    Effects fx;
    state.on_delta(delta(true, 1, "g", {1}), fx);
    const auto hash = state.origin_status("b@h").hash;
    CHECK(hash == membership_hash("s", "g", 1));

    fx = {};
    state.on_digest("b@h", 7, 1, hash, fx);
    CHECK(fx.resyncs.empty());
    CHECK(fx.acks == std::vector<Ack>{{"b@h", 7, 1}});

    fx = {};
    state.on_digest("b@h", 7, 2, hash, fx);  // the last delta was lost
    CHECK(fx.resyncs == std::vector<std::string>{"b@h"});

    fx = {};
    state.on_digest("b@h", 7, 1, hash + 1, fx);  // same seq, different content
    CHECK(fx.resyncs == std::vector<std::string>{"b@h"});

    fx = {};
    state.on_digest("b@h", 6, 99, 0, fx);  // another creation: the lifecycle decides
    CHECK(fx.resyncs.empty());
    CHECK(fx.acks.empty());
}

TEST_CASE("a view ahead of its origin's digest is repaired by the next snapshot, whatever its seq", "[membership]") {
    State state = receiver();
    Effects fx;
    // A snapshot claiming seq 1,000,000 with a member b never had.
    state.on_snapshot("b@h", 7, Snapshot{1'000'000, {{"s", "g", {66}}}}, fx);
    CHECK(remote_ids(state, "g") == Ids{66});
    // b's own digest says seq 3: the view is not believed, a resync is asked for ...
    fx = {};
    state.on_digest("b@h", 7, 3, membership_hash("s", "g", 1), fx);
    CHECK(fx.resyncs == std::vector<std::string>{"b@h"});
    CHECK(fx.acks.empty());
    // ... and b's real snapshot, at seq 3, replaces it.
    fx = {};
    state.on_snapshot("b@h", 7, Snapshot{3, {{"s", "g", {1}}}}, fx);
    CHECK(remote_ids(state, "g") == Ids{1});
    fx = {};
    state.on_digest("b@h", 7, 3, membership_hash("s", "g", 1), fx);
    CHECK(fx.resyncs.empty());
    CHECK(fx.acks == std::vector<Ack>{{"b@h", 7, 3}});
}

TEST_CASE("a peer going down purges its members", "[membership]") {
    State state = receiver();
    Effects fx;
    state.on_delta(delta(true, 1, "g", {1, 2}), fx);
    state.on_delta(delta(true, 2, "h", {3}), fx);
    fx = {};
    state.on_peer_down("b@h", 7, fx);
    CHECK(fx.purged == 3);
    CHECK(fx.changes.size() == 2);
    for (const auto& c : fx.changes) CHECK_FALSE(c.join);
    CHECK(state.members("s", "g").empty());
    CHECK(state.which_groups("s").empty());
    CHECK_FALSE(state.origin_status("b@h").known);
    // Its gossip is ignored until it is up again.
    state.on_delta(delta(true, 3, "g", {4}), fx);
    CHECK(state.members("s", "g").empty());
}

TEST_CASE("a new creation replaces all of the old one's members", "[membership]") {
    State state = receiver();
    Effects fx;
    state.on_delta(delta(true, 1, "g", {1, 2}), fx);
    fx = {};
    state.on_peer_up("b@h", 8, fx);
    CHECK(fx.purged == 2);
    CHECK(state.members("s", "g").empty());
    state.on_delta(delta(true, 2, "g", {9}), fx);  // late gossip of creation 7
    state.on_snapshot("b@h", 8, Snapshot{1, {{"s", "g", {1}}}}, fx);
    const auto members = state.remote_members("s", "g");
    REQUIRE(members.size() == 1);
    CHECK(members[0].creation == 8);
    // A snapshot of the old creation arriving late is ignored.
    state.on_snapshot("b@h", 7, Snapshot{5, {{"s", "g", {7}}}}, fx);
    CHECK(state.remote_members("s", "g").size() == 1);
}

TEST_CASE("a restarted origin's backfill, come before its peer-up, survives the old incarnation's down", "[membership]") {
    State state = receiver();
    Effects fx;
    state.on_delta(delta(true, 1, "g", {1}), fx);
    fx = {};
    // Creation 8's backfill replaces creation 7's view, and is not
    // acknowledged to 7 (the ack names the incarnation it is for).
    state.on_snapshot("b@h", 8, Snapshot{2, {{"s", "g", {2, 3}}}}, fx);
    CHECK(fx.purged == 1);
    CHECK(fx.acks == std::vector<Ack>{{"b@h", 8, 2}});
    // Our link then finds 7 gone: 8's view stays ...
    fx = {};
    CHECK_FALSE(state.on_peer_down("b@h", 7, fx));
    CHECK(fx.purged == 0);
    CHECK(remote_ids(state, "g") == (Ids{2, 3}));
    for (const auto& member : state.remote_members("s", "g")) CHECK(member.creation == 8);
    // ... and when 8 comes up, what we hold of it is acknowledged again.
    fx = {};
    state.on_peer_up("b@h", 8, fx);
    CHECK(fx.purged == 0);
    CHECK(fx.acks == std::vector<Ack>{{"b@h", 8, 2}});
    CHECK(remote_ids(state, "g") == (Ids{2, 3}));
    // 8 going down, or whatever b is, purges it.
    fx = {};
    CHECK(state.on_peer_down("b@h", State::any_creation, fx));
    CHECK(fx.purged == 2);
    CHECK(state.members("s", "g").empty());
}

TEST_CASE("a snapshot from an origin not seen up yet creates its view", "[membership]") {
    State state("a@h", 1);
    Effects fx;
    state.on_snapshot("b@h", 7, Snapshot{3, {{"s", "g", {1}}}}, fx);
    CHECK(remote_ids(state, "g") == Ids{1});
    state.on_peer_up("b@h", 7, fx);  // same creation: nothing is lost
    CHECK(remote_ids(state, "g") == Ids{1});
}

TEST_CASE("scripted loss, duplication and reordering converge to the origin's membership", "[membership]") {
    // Odd trials lose nothing: the deltas alone must rebuild the view, and
    // the digest then finds nothing to resync. Even trials lose 10%: the
    // deltas apply up to the first loss, and only then does a resync help.
    std::mt19937 random(4242);
    int lossy_trials = 0;
    for (int trial = 0; trial < 50; ++trial) {
        const bool lossy = trial % 2 == 0;
        State origin("b@h", 7);
        State view("a@h", 1);
        Effects fx;
        view.on_peer_up("b@h", 7, fx);
        view.on_snapshot("b@h", 7, origin.local_snapshot(), fx);
        std::vector<RemoteDelta> wire;
        for (int step = 0; step < 300; ++step) {
            Effects out;
            const std::string group = "g" + std::to_string(random() % 5);
            const std::uint64_t id = 1 + random() % 20;
            if (random() % 3 == 0)
                origin.leave("s", group, {id}, out);
            else
                origin.join("s", group, {id}, out);
            for (auto& d : out.deltas) wire.push_back(RemoteDelta{d.join, "b@h", 7, d.seq, d.scope, d.group, d.ids});
        }
        // The network: drop 10% (lossy trials), duplicate 10%, swap neighbours 10%.
        std::vector<RemoteDelta> delivered;
        std::uint64_t first_lost = 0;
        for (auto& d : wire) {
            const auto roll = random() % 10;
            if (roll == 0 && lossy) {
                if (first_lost == 0) first_lost = d.seq;
                continue;
            }
            delivered.push_back(d);
            if (roll == 1) delivered.push_back(d);
            if (roll == 2 && delivered.size() >= 2) std::swap(delivered[delivered.size() - 1], delivered[delivered.size() - 2]);
        }
        fx = {};
        for (const auto& d : delivered) view.on_delta(d, fx);
        // The delta path alone got exactly as far as the first loss.
        const std::uint64_t reachable = first_lost == 0 ? origin.seq() : first_lost - 1;
        CHECK(view.origin_status("b@h").applied == reachable);
        if (first_lost != 0) ++lossy_trials;

        // The periodic digest asks for a resync only where something is missing.
        Effects digest_fx;
        view.on_digest("b@h", 7, origin.seq(), origin.local_hash(), digest_fx);
        CHECK(digest_fx.resyncs.empty() == (first_lost == 0));
        if (!digest_fx.resyncs.empty()) view.on_snapshot("b@h", 7, origin.local_snapshot(), digest_fx);
        const auto status = view.origin_status("b@h");
        CHECK(status.applied == origin.seq());
        CHECK(status.hash == origin.local_hash());
        for (int g = 0; g < 5; ++g) {
            const std::string group = "g" + std::to_string(g);
            CHECK(remote_ids(view, group) == origin.local_members("s", group));
        }
    }
    CHECK(lossy_trials > 20);  // the lossy half did lose something
}

TEST_CASE("a snapshot in any group order, with or without change records, gives the same view", "[membership]") {
    // Two origins interleave their groups in holders_, so the hinted inserts
    // meet both existing and new keys.
    Snapshot sorted{6, {}};
    for (int g = 0; g < 50; ++g) {
        std::string group = "g";
        group += std::to_string(100 + g);
        sorted.groups.push_back(GroupIds{"s", group, {1, 2}});
    }
    Snapshot shuffled = sorted;
    std::shuffle(shuffled.groups.begin(), shuffled.groups.end(), std::mt19937(3));
    shuffled.groups.push_back(GroupIds{"s", "g100", {3}});  // a group listed twice: both entries count

    const auto build = [](const Snapshot& snapshot, bool record) {
        State state("a@h", 1);
        Effects fx;
        state.on_peer_up("b@h", 7, fx);
        state.on_peer_up("c@h", 9, fx);
        state.on_snapshot("c@h", 9, Snapshot{1, {{"s", "g100", {5}}, {"s", "g125", {5}}, {"s", "g2", {5}}}}, fx);
        fx = {};
        fx.record_changes = record;
        state.on_snapshot("b@h", 7, snapshot, fx);
        return std::pair{std::move(state), std::move(fx)};
    };
    const auto [a, a_fx] = build(sorted, true);
    const auto [b, b_fx] = build(shuffled, false);
    CHECK(a_fx.changes.size() == 50);
    CHECK(b_fx.changes.empty());
    CHECK(a.which_groups("s") == b.which_groups("s"));
    for (const auto& group : a.which_groups("s")) {
        Ids expected = remote_ids(a, group);
        if (group == "g100") expected.insert(std::lower_bound(expected.begin(), expected.end(), 3), 3);
        CHECK(remote_ids(b, group) == expected);
    }
    CHECK(a.origin_status("b@h").memberships == 100);
    CHECK(b.origin_status("b@h").memberships == 101);
    CHECK(a.remote_nodes("s", "g125").size() == 2);
    CHECK(b.remote_nodes("s", "g125").size() == 2);
    CHECK(b.remote_nodes("s", "g2").size() == 1);
}

namespace {
std::vector<GroupIds> part_of(const std::string& group, Ids ids) { return {GroupIds{"s", group, std::move(ids)}}; }
}  // namespace

TEST_CASE("a snapshot's parts are applied only once all of them came, in order", "[membership][snapshot]") {
    using Result = SnapshotAssembly::Result;
    SnapshotAssembly assembly;
    auto first = part_of("g1", {1, 2});
    auto second = part_of("g2", {3});
    auto last = part_of("g1", {4});  // a group split across parts
    CHECK(assembly.add(9, 0, false, first) == Result::incomplete);
    CHECK(assembly.add(9, 1, false, second) == Result::incomplete);
    CHECK(assembly.add(9, 2, true, last) == Result::complete);
    const Snapshot snapshot = assembly.take();
    CHECK(snapshot.seq == 9);
    REQUIRE(snapshot.groups.size() == 3);
    CHECK(snapshot.groups[0].ids == Ids{1, 2});
    CHECK(snapshot.groups[2].group == "g1");
    CHECK(snapshot.groups[2].ids == Ids{4});
    // Applied as a whole by the state machine: the split group is merged.
    State state("a@h", 1);
    Effects fx;
    state.on_peer_up("b@h", 7, fx);
    state.on_snapshot("b@h", 7, snapshot, fx);
    CHECK(remote_ids(state, "g1") == Ids{1, 2, 4});
    CHECK(remote_ids(state, "g2") == Ids{3});
}

TEST_CASE("a lost or foreign snapshot part abandons the snapshot until a new part 0", "[membership][snapshot]") {
    using Result = SnapshotAssembly::Result;
    SnapshotAssembly assembly;
    auto p0 = part_of("g", {1});
    auto p2 = part_of("g", {2});
    CHECK(assembly.add(5, 0, false, p0) == Result::incomplete);
    CHECK(assembly.add(5, 2, true, p2) == Result::out_of_order);  // part 1 went missing
    auto p1 = part_of("g", {3});
    CHECK(assembly.add(5, 1, true, p1) == Result::out_of_order);  // still waiting for a part 0
    // A part of another snapshot (another seq) breaks it too.
    auto q0 = part_of("g", {1});
    auto q1 = part_of("g", {2});
    CHECK(assembly.add(6, 0, false, q0) == Result::incomplete);
    CHECK(assembly.add(7, 1, true, q1) == Result::out_of_order);
    // A fresh part 0 starts over, with nothing of the broken ones.
    auto r0 = part_of("h", {8});
    CHECK(assembly.add(8, 0, true, r0) == Result::complete);
    const Snapshot snapshot = assembly.take();
    CHECK(snapshot.seq == 8);
    REQUIRE(snapshot.groups.size() == 1);
    CHECK(snapshot.groups[0].group == "h");
}

TEST_CASE("a snapshot over the membership limit is refused and forgotten", "[membership][snapshot]") {
    using Result = SnapshotAssembly::Result;
    SnapshotAssembly assembly(10);
    auto six = part_of("g", {1, 2, 3, 4, 5, 6});
    CHECK(assembly.add(1, 0, false, six) == Result::incomplete);
    auto five = part_of("h", {1, 2, 3, 4, 5});
    CHECK(assembly.add(1, 1, true, five) == Result::too_large);
    auto next = part_of("g", {1});
    CHECK(assembly.add(1, 2, true, next) == Result::out_of_order);
}

TEST_CASE("a member list agrees with a sorted set through inserts, erases and whole-origin assigns",
          "[membership][memory]") {
    std::mt19937_64 rng(7);
    MemberList list;
    std::set<MemberList::Entry> model;
    const auto agree = [&] {
        REQUIRE(list.size() == model.size());
        const auto entries = list.entries();
        REQUIRE(std::equal(entries.begin(), entries.end(), model.begin(), model.end()));
    };
    for (int step = 0; step < 20000; ++step) {
        // Few origins and ids, so that lists grow, shrink back to one entry in
        // place and to none, and every path of each operation is taken.
        const MemberList::Entry entry{static_cast<std::uint32_t>(rng() % 4), rng() % 64};
        switch (rng() % 8) {
        case 0: case 1: case 2:
            CHECK(list.insert(entry) == model.insert(entry).second);
            break;
        case 3: case 4: case 5:
            CHECK(list.erase(entry) == (model.erase(entry) == 1));
            break;
        case 6: {
            Ids ids;
            for (std::uint64_t id = 0, n = rng() % (step % 3 == 0 ? 2 : 40); id < n; ++id) ids.push_back(rng() % 64);
            std::sort(ids.begin(), ids.end());
            ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
            list.assign(entry.origin, ids);
            std::erase_if(model, [&](const MemberList::Entry& e) { return e.origin == entry.origin; });
            for (const auto id : ids) model.insert({entry.origin, id});
            break;
        }
        default: {
            Ids mine, expected;
            list.ids_of(entry.origin, mine);
            for (const auto& e : model)
                if (e.origin == entry.origin) expected.push_back(e.id);
            CHECK(mine == expected);
            CHECK(list.holds(entry.origin) == !expected.empty());
            CHECK(list.contains(entry) == model.contains(entry));
        }
        }
        agree();
    }
    // Moved from, a list is empty; moved to, it holds what the other held.
    MemberList moved(std::move(list));
    CHECK(list.empty());
    const auto entries = moved.entries();
    CHECK(std::equal(entries.begin(), entries.end(), model.begin(), model.end()));
    // A list of one holds it in place: the map node is all a single-member group costs.
    static_assert(sizeof(MemberList) == 16);
}
