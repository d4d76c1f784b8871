#pragma once
// The membership state machine: one node's view of every process group in
// the cluster. No sockets, no clock, no threads: inputs go in, the new state
// and a list of effects come out. The node layer calls it under one lock and
// carries out the effects (gossip, resync requests, acknowledgements,
// monitor events).
//
// Protocol, as in Erlang's pg but over lossy PUB/SUB gossip:
// - A node numbers its own membership changes: seq 1, 2, ... per creation.
//   Only edges become changes: a pid's first join of a group, its last leave.
// - A receiver keeps each origin's memberships apart (an OriginView) and
//   applies the origin's deltas strictly in seq order. A delta that arrives
//   early (a gap: PUB/SUB dropped one) is held and a resync is asked for; so
//   is every delta that arrives before the origin's first snapshot.
// - A snapshot (backfill when a peer is first seen, or the answer to a
//   resync) replaces the origin's view whole; held deltas newer than it are
//   then applied, older ones dropped.
// - A digest (origin, creation, seq, hash) ahead of what a receiver holds,
//   or with the same seq and another hash, also asks for a resync; after a
//   digest or a snapshot the receiver acknowledges the seq it holds, which
//   is what the convergence barrier waits for.
// - A peer that goes down takes all its members with it (purge); a new
//   creation of a known name replaces the old one's members.
//
// Tolerated races, each handled where named:
// - deltas before the first snapshot: held (on_delta);
// - a snapshot older than the view: ignored (on_snapshot);
// - a digest or delta from a creation other than the view's: ignored; the
//   peer lifecycle brings the new creation (on_delta, on_digest);
// - a snapshot from an origin not yet seen up: creates its view, since only
//   authenticated peers can send one (on_snapshot).

#include "membership/member_list.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace liminal::detail::membership {

using GroupKey = std::pair<std::string, std::string>;  // (scope, group)

// One of this node's membership changes, to be gossiped.
struct OwnDelta {
    bool join = true;
    std::uint64_t seq = 0;
    std::string scope;
    std::string group;
    std::vector<std::uint64_t> ids;
};

// A delta received from another node.
struct RemoteDelta {
    bool join = true;
    std::string origin;
    std::uint64_t creation = 0;
    std::uint64_t seq = 0;
    std::string scope;
    std::string group;
    std::vector<std::uint64_t> ids;
};

struct GroupIds {
    std::string scope;
    std::string group;
    std::vector<std::uint64_t> ids;
};

// A whole membership of one node, tagged with the seq it reflects.
struct Snapshot {
    std::uint64_t seq = 0;
    std::vector<GroupIds> groups;
};

// A change to the view, for monitors: pids of `node` joined or left.
struct Change {
    bool join = true;
    std::string scope;
    std::string group;
    std::string node;
    std::uint64_t creation = 0;
    std::vector<std::uint64_t> ids;
    bool local = false;
};

// "`origin`'s incarnation `creation` holds `seq`": a DIGEST_ACK to that
// incarnation, and to no other.
struct Ack {
    std::string origin;
    std::uint64_t creation = 0;
    std::uint64_t seq = 0;
    bool operator==(const Ack&) const = default;
};

struct Effects {
    std::vector<OwnDelta> deltas;                                // gossip these, in order
    std::vector<Change> changes;                                 // tell monitors
    std::vector<std::string> resyncs;                            // ask these origins for a snapshot
    std::vector<Ack> acks;                                       // acknowledge these
    std::uint64_t purged = 0;                                    // memberships removed by purges
    // Whether bulk changes (snapshots, purges) list their Change records:
    // the caller clears it when nobody listens (no monitors), which spares a
    // large snapshot one record per group.
    bool record_changes = true;
};

// The order-independent hash of a membership: the sum (mod 2^64) of a
// 64-bit mix of each (scope, group, id). Stable across processes and builds.
std::uint64_t membership_hash(const std::string& scope, const std::string& group, std::uint64_t id);

class State {
public:
    State(std::string self, std::uint64_t creation);

    // This node's own pids (local ids). join counts; leave returns how many of
    // `ids` were members (the others are ignored).
    void join(const std::string& scope, const std::string& group, const std::vector<std::uint64_t>& ids, Effects& fx);
    std::size_t leave(const std::string& scope, const std::string& group, const std::vector<std::uint64_t>& ids,
                      Effects& fx);
    // A local process closed: it leaves every group, whatever its counts.
    void leave_all(std::uint64_t id, Effects& fx);

    std::uint64_t seq() const noexcept { return seq_; }
    std::uint64_t local_hash() const noexcept { return local_hash_; }
    Snapshot local_snapshot() const;

    // Remote inputs.
    // `origin`'s incarnation `creation` is up: a view of an older one is
    // purged; a view this incarnation already sent (its backfill can come
    // before our link to it is up) stays, and is acknowledged.
    void on_peer_up(const std::string& origin, std::uint64_t creation, Effects& fx);
    // `origin`'s incarnation `creation` (or any before it) is gone, or
    // `any_creation`: whatever of `origin` we hold. A later incarnation's
    // view stays.
    static constexpr std::uint64_t any_creation = ~std::uint64_t{0};
    // Returns false when it kept a later incarnation's view.
    bool on_peer_down(const std::string& origin, std::uint64_t creation, Effects& fx);
    void on_delta(const RemoteDelta& delta, Effects& fx);
    void on_snapshot(const std::string& origin, std::uint64_t creation, Snapshot snapshot, Effects& fx);
    void on_digest(const std::string& origin, std::uint64_t creation, std::uint64_t seq, std::uint64_t hash,
                   Effects& fx);

    // Queries.
    struct Member {
        std::string node;
        std::uint64_t creation = 0;
        std::uint64_t id = 0;
    };
    std::vector<Member> members(const std::string& scope, const std::string& group) const;
    std::vector<std::uint64_t> local_members(const std::string& scope, const std::string& group) const;
    std::vector<Member> remote_members(const std::string& scope, const std::string& group) const;
    std::vector<std::string> which_groups(const std::string& scope) const;
    std::vector<std::string> which_local_groups(const std::string& scope) const;
    // Every scope with at least one member anywhere.
    std::vector<std::string> scopes() const;
    // An origin's view (what this node believes `origin` holds), for verify.
    std::vector<GroupIds> view_of(const std::string& origin) const;
    // Test hook: puts a member into an origin's view without any gossip,
    // creating the view if needed. Only for tests of verify.
    void inject_for_test(const std::string& origin, std::uint64_t creation, const std::string& scope,
                         const std::string& group, std::uint64_t id);
    // Nodes other than this one with members in the group, with their creations.
    std::vector<std::pair<std::string, std::uint64_t>> remote_nodes(const std::string& scope,
                                                                    const std::string& group) const;
    // How many times a local id joined the group (0: not a member).
    std::uint32_t join_count(const std::string& scope, const std::string& group, std::uint64_t id) const;

    // Per origin: the seq applied and the hash of the view (for digests,
    // verify and tests). nullopt-like: seq 0, hash 0 and false when unknown.
    struct OriginStatus {
        bool known = false;
        bool has_snapshot = false;
        std::uint64_t creation = 0;
        std::uint64_t applied = 0;
        std::uint64_t hash = 0;
        std::size_t held = 0;
        std::size_t memberships = 0;
    };
    OriginStatus origin_status(const std::string& origin) const;
    std::vector<std::string> origins() const;

    // The most deltas held per origin before they are dropped in favour of a resync.
    static constexpr std::size_t max_held = 10'000;

private:
    // What this node holds of one origin. Its members themselves are in
    // remote_, under the origin's number.
    struct OriginView {
        std::uint32_t number = 0;      // its entries' origin in remote_
        std::uint64_t creation = 0;
        std::uint64_t applied = 0;     // seq of the last delta (or snapshot) applied
        bool has_snapshot = false;     // deltas are applied only after a snapshot
        std::uint64_t hash = 0;        // membership_hash sum of its members
        std::size_t memberships = 0;
        std::map<std::uint64_t, RemoteDelta> held;  // by seq: early deltas
    };

    // The view of `origin`, created (with a number of its own) if new.
    OriginView& view_for(const std::string& origin);
    void apply(const std::string& origin, OriginView& view, const RemoteDelta& delta, Effects& fx);
    void apply_held(const std::string& origin, OriginView& view, Effects& fx);
    void purge(const std::string& origin, OriginView& view, Effects& fx);
    // A snapshot's groups (sorted) become the origin's members: one walk
    // over remote_ beside them, recording what left, then what joined.
    void adopt(const std::string& origin, OriginView& view, std::vector<GroupIds>& groups, Effects& fx);
    void emit_own(bool join, const GroupKey& key, std::vector<std::uint64_t> ids, Effects& fx);

    const std::string self_;
    const std::uint64_t creation_;
    std::uint64_t seq_ = 0;                                         // own changes so far
    std::uint64_t local_hash_ = 0;                                  // membership_hash sum of local_
    std::map<GroupKey, std::map<std::uint64_t, std::uint32_t>> local_;  // own memberships with join counts
    std::map<std::uint64_t, std::set<GroupKey>> local_by_id_;       // for leave_all
    std::map<std::string, OriginView> views_;                       // by origin node name
    std::vector<const std::string*> names_;                         // origin names by number (views_' keys)
    std::vector<std::uint32_t> free_numbers_;                       // of origins forgotten
    // Every remote member, by group: one map node per group, however many
    // origins hold members in it (the memory per remote membership). A
    // group's scope is held once, in scopes_, and pointed at.
    struct RemoteKey {
        const std::string* scope;
        std::string group;
    };
    struct RemoteKeyLess {  // by scope, then group (the order of GroupKey)
        bool operator()(const RemoteKey& a, const RemoteKey& b) const {
            if (a.scope != b.scope) {
                if (const int c = a.scope->compare(*b.scope); c != 0) return c < 0;
            }
            return a.group < b.group;
        }
    };
    using Remote = std::map<RemoteKey, MemberList, RemoteKeyLess>;
    // A new, empty group at `hint`, its scope interned.
    Remote::iterator add_group(Remote::iterator hint, const std::string& scope, const std::string& group);
    // Erases a group (its scope goes with its last group); returns the next.
    Remote::iterator drop_group(Remote::iterator it);
    Remote remote_;
    std::map<std::string, std::size_t> scopes_;  // the scopes of remote_, with their numbers of groups
};

}  // namespace liminal::detail::membership
