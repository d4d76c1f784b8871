#include "membership/state.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <tuple>

namespace liminal::detail::membership {
namespace {

std::uint64_t fnv1a(const std::string& text) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : text) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

}  // namespace

std::uint64_t membership_hash(const std::string& scope, const std::string& group, std::uint64_t id) {
    return mix(fnv1a(scope) ^ mix(fnv1a(group) + 0x9e3779b97f4a7c15ULL) ^ mix(id + 0x632be59bd9b4e019ULL));
}

State::State(std::string self, std::uint64_t creation) : self_(std::move(self)), creation_(creation) {}

void State::emit_own(bool join, const GroupKey& key, std::vector<std::uint64_t> ids, Effects& fx) {
    if (ids.empty()) return;
    ++seq_;
    fx.changes.push_back(Change{join, key.first, key.second, self_, creation_, ids, true});
    fx.deltas.push_back(OwnDelta{join, seq_, key.first, key.second, std::move(ids)});
}

void State::join(const std::string& scope, const std::string& group, const std::vector<std::uint64_t>& ids,
                 Effects& fx) {
    const GroupKey key{scope, group};
    auto& counts = local_[key];
    std::vector<std::uint64_t> edges;
    for (const auto id : ids) {
        if (counts[id]++ == 0) {
            edges.push_back(id);
            local_hash_ += membership_hash(scope, group, id);
            local_by_id_[id].insert(key);
        }
    }
    emit_own(true, key, std::move(edges), fx);
}

std::size_t State::leave(const std::string& scope, const std::string& group, const std::vector<std::uint64_t>& ids,
                         Effects& fx) {
    const GroupKey key{scope, group};
    const auto group_it = local_.find(key);
    if (group_it == local_.end()) return 0;
    auto& counts = group_it->second;
    std::size_t left = 0;
    std::vector<std::uint64_t> edges;
    for (const auto id : ids) {
        const auto it = counts.find(id);
        if (it == counts.end()) continue;
        ++left;
        if (--it->second > 0) continue;
        counts.erase(it);
        edges.push_back(id);
        local_hash_ -= membership_hash(scope, group, id);
        auto& keys = local_by_id_[id];
        keys.erase(key);
        if (keys.empty()) local_by_id_.erase(id);
    }
    if (counts.empty()) local_.erase(group_it);
    emit_own(false, key, std::move(edges), fx);
    return left;
}

void State::leave_all(std::uint64_t id, Effects& fx) {
    const auto it = local_by_id_.find(id);
    if (it == local_by_id_.end()) return;
    const std::set<GroupKey> keys = it->second;
    for (const auto& key : keys) {
        auto& counts = local_[key];
        counts[id] = 1;  // whatever the count, this is the last leave
        leave(key.first, key.second, {id}, fx);
    }
}

Snapshot State::local_snapshot() const {
    Snapshot snapshot;
    snapshot.seq = seq_;
    for (const auto& [key, counts] : local_) {
        GroupIds entry{key.first, key.second, {}};
        entry.ids.reserve(counts.size());
        for (const auto& [id, count] : counts) entry.ids.push_back(id);
        snapshot.groups.push_back(std::move(entry));
    }
    return snapshot;
}

State::OriginView& State::view_for(const std::string& origin) {
    const auto [it, created] = views_.try_emplace(origin);
    if (created) {
        if (free_numbers_.empty()) {
            it->second.number = static_cast<std::uint32_t>(names_.size());
            names_.push_back(&it->first);
        } else {
            it->second.number = free_numbers_.back();
            free_numbers_.pop_back();
            names_[it->second.number] = &it->first;
        }
    }
    return it->second;
}

State::Remote::iterator State::add_group(Remote::iterator hint, const std::string& scope, const std::string& group) {
    const auto interned = scopes_.try_emplace(scope, 0).first;
    ++interned->second;
    return remote_.emplace_hint(hint, RemoteKey{&interned->first, group}, MemberList{});
}

State::Remote::iterator State::drop_group(Remote::iterator it) {
    const std::string scope = *it->first.scope;
    const auto next = remote_.erase(it);
    if (const auto interned = scopes_.find(scope); --interned->second == 0) scopes_.erase(interned);
    return next;
}

void State::purge(const std::string& origin, OriginView& view, Effects& fx) {
    if (view.memberships > 0) {
        for (auto it = remote_.begin(); it != remote_.end();) {
            if (it->second.holds(view.number)) {
                std::vector<std::uint64_t> ids;
                it->second.ids_of(view.number, ids);
                fx.purged += ids.size();
                if (fx.record_changes) {
                    fx.changes.push_back(Change{false, *it->first.scope, it->first.group, origin, view.creation,
                                                std::move(ids), false});
                }
                it->second.assign(view.number, {});
                if (it->second.empty()) {
                    it = drop_group(it);
                    continue;
                }
            }
            ++it;
        }
    }
    view.held.clear();
    view.hash = 0;
    view.memberships = 0;
    view.applied = 0;
    view.has_snapshot = false;
}

void State::on_peer_up(const std::string& origin, std::uint64_t creation, Effects& fx) {
    auto& view = view_for(origin);
    if (view.creation == creation) {
        if (view.has_snapshot) fx.acks.push_back(Ack{origin, view.creation, view.applied});
        return;
    }
    if (view.creation > creation) return;  // an older incarnation: ignore
    purge(origin, view, fx);
    view.creation = creation;
}

bool State::on_peer_down(const std::string& origin, std::uint64_t creation, Effects& fx) {
    const auto it = views_.find(origin);
    if (it == views_.end()) return true;
    if (it->second.creation > creation) return false;
    purge(origin, it->second, fx);
    names_[it->second.number] = nullptr;
    free_numbers_.push_back(it->second.number);
    views_.erase(it);
    return true;
}

void State::apply(const std::string& origin, OriginView& view, const RemoteDelta& delta, Effects& fx) {
    const GroupKey key{delta.scope, delta.group};
    std::vector<std::uint64_t> changed;
    if (delta.join) {
        auto it = remote_.find(RemoteKey{&key.first, key.second});
        if (it == remote_.end()) it = add_group(it, key.first, key.second);
        for (const auto id : delta.ids) {
            if (it->second.insert({view.number, id})) {
                changed.push_back(id);
                view.hash += membership_hash(key.first, key.second, id);
            }
        }
        if (it->second.empty()) drop_group(it);
        view.memberships += changed.size();
    } else if (const auto it = remote_.find(RemoteKey{&key.first, key.second}); it != remote_.end()) {
        for (const auto id : delta.ids) {
            if (it->second.erase({view.number, id})) {
                changed.push_back(id);
                view.hash -= membership_hash(key.first, key.second, id);
            }
        }
        view.memberships -= changed.size();
        if (it->second.empty()) drop_group(it);
    }
    view.applied = delta.seq;
    if (!changed.empty())
        fx.changes.push_back(Change{delta.join, delta.scope, delta.group, origin, view.creation, std::move(changed), false});
}

void State::apply_held(const std::string& origin, OriginView& view, Effects& fx) {
    while (!view.held.empty()) {
        auto first = view.held.begin();
        if (first->first <= view.applied) {
            view.held.erase(first);  // older than what the view holds
            continue;
        }
        if (first->first != view.applied + 1) {
            fx.resyncs.push_back(origin);  // still a gap
            return;
        }
        const RemoteDelta delta = std::move(first->second);
        view.held.erase(first);
        apply(origin, view, delta, fx);
    }
}

void State::on_delta(const RemoteDelta& delta, Effects& fx) {
    if (delta.origin == self_) return;
    const auto it = views_.find(delta.origin);
    if (it == views_.end() || it->second.creation != delta.creation) return;
    OriginView& view = it->second;
    if (view.has_snapshot && delta.seq <= view.applied) return;  // duplicate
    if (!view.has_snapshot || delta.seq != view.applied + 1) {
        if (view.held.size() >= max_held) view.held.clear();  // the resync brings everything anyway
        view.held.emplace(delta.seq, delta);
        if (view.has_snapshot) fx.resyncs.push_back(delta.origin);
        return;
    }
    apply(delta.origin, view, delta, fx);
    apply_held(delta.origin, view, fx);
}

void State::on_snapshot(const std::string& origin, std::uint64_t creation, Snapshot snapshot, Effects& fx) {
    if (origin == self_) return;
    OriginView& view = view_for(origin);
    if (creation < view.creation) return;
    if (creation > view.creation) {
        purge(origin, view, fx);
        view.creation = creation;
    }
    if (view.has_snapshot && snapshot.seq < view.applied) return;  // older than what we hold

    // Senders list groups in key order (local_snapshot does); then the walk
    // in adopt inserts every new group at its hint, in constant time.
    const auto by_key = [](const GroupIds& a, const GroupIds& b) {
        return std::tie(a.scope, a.group) < std::tie(b.scope, b.group);
    };
    if (!std::is_sorted(snapshot.groups.begin(), snapshot.groups.end(), by_key))
        std::sort(snapshot.groups.begin(), snapshot.groups.end(), by_key);
    adopt(origin, view, snapshot.groups, fx);
    view.applied = snapshot.seq;
    view.has_snapshot = true;
    apply_held(origin, view, fx);
    fx.acks.push_back(Ack{origin, view.creation, view.applied});
}

void State::adopt(const std::string& origin, OriginView& view, std::vector<GroupIds>& groups, Effects& fx) {
    const std::uint32_t number = view.number;
    const std::uint64_t creation = view.creation;
    std::vector<Change> joined;  // recorded after every leave, as monitors expect
    view.hash = 0;
    view.memberships = 0;
    const auto compare = [](const RemoteKey& key, const GroupIds& entry) {
        if (const int c = key.scope->compare(entry.scope); c != 0) return c;
        return key.group.compare(entry.group);
    };
    auto at = remote_.begin();
    std::size_t next = 0;
    std::vector<std::uint64_t> ids, old, gone, added;
    while (at != remote_.end() || next < groups.size()) {
        const int order = at == remote_.end() ? 1 : next == groups.size() ? -1 : compare(at->first, groups[next]);
        if (order < 0) {
            // A group the snapshot does not list: the origin's members there leave.
            if (at->second.holds(number)) {
                if (fx.record_changes) {
                    gone.clear();
                    at->second.ids_of(number, gone);
                    fx.changes.push_back(Change{false, *at->first.scope, at->first.group, origin, creation, gone, false});
                }
                at->second.assign(number, {});
                if (at->second.empty()) {
                    at = drop_group(at);
                    continue;
                }
            }
            ++at;
            continue;
        }
        // The snapshot's ids for this group (a group listed twice counts once).
        ids.clear();
        const std::size_t first = next;
        do {
            ids.insert(ids.end(), groups[next].ids.begin(), groups[next].ids.end());
            ++next;
        } while (next < groups.size() && groups[next].scope == groups[first].scope &&
                 groups[next].group == groups[first].group);
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        const GroupIds& entry = groups[first];
        if (order > 0) {
            if (ids.empty()) continue;
            at = add_group(at, entry.scope, entry.group);
        }
        old.clear();
        at->second.ids_of(number, old);
        if (fx.record_changes) {
            gone.clear();
            added.clear();
            std::set_difference(old.begin(), old.end(), ids.begin(), ids.end(), std::back_inserter(gone));
            std::set_difference(ids.begin(), ids.end(), old.begin(), old.end(), std::back_inserter(added));
            if (!gone.empty()) fx.changes.push_back(Change{false, entry.scope, entry.group, origin, creation, gone, false});
            if (!added.empty()) joined.push_back(Change{true, entry.scope, entry.group, origin, creation, added, false});
        }
        for (const auto id : ids) view.hash += membership_hash(entry.scope, entry.group, id);
        view.memberships += ids.size();
        at->second.assign(number, ids);
        if (at->second.empty()) {
            at = drop_group(at);
        } else {
            ++at;
        }
    }
    fx.changes.insert(fx.changes.end(), std::make_move_iterator(joined.begin()), std::make_move_iterator(joined.end()));
}

void State::on_digest(const std::string& origin, std::uint64_t creation, std::uint64_t seq, std::uint64_t hash,
                      Effects& fx) {
    const auto it = views_.find(origin);
    if (it == views_.end() || it->second.creation != creation) return;
    OriginView& view = it->second;
    // The origin's digest is the truth about its own state. A view ahead of
    // it (a stale or forged snapshot with a higher seq) is not believed any
    // more: the next snapshot replaces it whatever its seq.
    if (view.has_snapshot && seq < view.applied) view.has_snapshot = false;
    if (!view.has_snapshot || seq > view.applied || (seq == view.applied && hash != view.hash)) {
        fx.resyncs.push_back(origin);
        return;
    }
    fx.acks.push_back(Ack{origin, view.creation, view.applied});
}

std::vector<State::Member> State::members(const std::string& scope, const std::string& group) const {
    std::vector<Member> out;
    for (const auto id : local_members(scope, group)) out.push_back(Member{self_, creation_, id});
    auto remote = remote_members(scope, group);
    out.insert(out.end(), std::make_move_iterator(remote.begin()), std::make_move_iterator(remote.end()));
    return out;
}

std::vector<std::uint64_t> State::local_members(const std::string& scope, const std::string& group) const {
    std::vector<std::uint64_t> out;
    if (const auto it = local_.find({scope, group}); it != local_.end()) {
        out.reserve(it->second.size());
        for (const auto& [id, count] : it->second) out.push_back(id);
    }
    return out;
}

std::vector<State::Member> State::remote_members(const std::string& scope, const std::string& group) const {
    std::vector<Member> out;
    const auto it = remote_.find(RemoteKey{&scope, group});
    if (it == remote_.end()) return out;
    out.reserve(it->second.size());
    for (const auto& entry : it->second.entries()) {
        const std::string& name = *names_[entry.origin];
        out.push_back(Member{name, views_.at(name).creation, entry.id});
    }
    // By node name, then id.
    std::sort(out.begin(), out.end(), [](const Member& a, const Member& b) { return std::tie(a.node, a.id) < std::tie(b.node, b.id); });
    return out;
}

std::vector<std::string> State::which_groups(const std::string& scope) const {
    std::set<std::string> groups;
    for (auto it = local_.lower_bound(GroupKey{scope, ""}); it != local_.end() && it->first.first == scope; ++it)
        groups.insert(it->first.second);
    for (auto it = remote_.lower_bound(RemoteKey{&scope, ""}); it != remote_.end() && *it->first.scope == scope; ++it)
        groups.insert(it->first.group);
    return {groups.begin(), groups.end()};
}

std::vector<std::string> State::which_local_groups(const std::string& scope) const {
    std::vector<std::string> groups;
    for (auto it = local_.lower_bound(GroupKey{scope, ""}); it != local_.end() && it->first.first == scope; ++it)
        groups.push_back(it->first.second);
    return groups;
}

std::vector<std::string> State::scopes() const {
    std::set<std::string> scopes;
    for (const auto& [key, counts] : local_) scopes.insert(key.first);
    for (const auto& [scope, groups] : scopes_) scopes.insert(scope);
    return {scopes.begin(), scopes.end()};
}

std::vector<GroupIds> State::view_of(const std::string& origin) const {
    std::vector<GroupIds> out;
    if (origin == self_) {
        for (const auto& [key, counts] : local_) {
            GroupIds entry{key.first, key.second, {}};
            for (const auto& [id, count] : counts) entry.ids.push_back(id);
            out.push_back(std::move(entry));
        }
        return out;
    }
    const auto it = views_.find(origin);
    if (it == views_.end() || it->second.memberships == 0) return out;
    for (const auto& [key, members] : remote_) {
        if (!members.holds(it->second.number)) continue;
        GroupIds entry{*key.scope, key.group, {}};
        members.ids_of(it->second.number, entry.ids);
        out.push_back(std::move(entry));
    }
    return out;
}

void State::inject_for_test(const std::string& origin, std::uint64_t creation, const std::string& scope,
                            const std::string& group, std::uint64_t id) {
    OriginView& view = view_for(origin);
    if (view.creation == 0) view.creation = creation;
    auto it = remote_.find(RemoteKey{&scope, group});
    if (it == remote_.end()) it = add_group(it, scope, group);
    if (it->second.insert({view.number, id})) {
        view.hash += membership_hash(scope, group, id);
        ++view.memberships;
    }
}

std::vector<std::pair<std::string, std::uint64_t>> State::remote_nodes(const std::string& scope,
                                                                       const std::string& group) const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    const auto it = remote_.find(RemoteKey{&scope, group});
    if (it == remote_.end()) return out;
    for (const auto origin : it->second.origins()) {
        const std::string& name = *names_[origin];
        out.emplace_back(name, views_.at(name).creation);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::uint32_t State::join_count(const std::string& scope, const std::string& group, std::uint64_t id) const {
    const auto it = local_.find({scope, group});
    if (it == local_.end()) return 0;
    const auto count = it->second.find(id);
    return count == it->second.end() ? 0 : count->second;
}

State::OriginStatus State::origin_status(const std::string& origin) const {
    const auto it = views_.find(origin);
    if (it == views_.end()) return {};
    const OriginView& view = it->second;
    return OriginStatus{true, view.has_snapshot, view.creation, view.applied, view.hash, view.held.size(), view.memberships};
}

std::vector<std::string> State::origins() const {
    std::vector<std::string> out;
    for (const auto& [origin, view] : views_) out.push_back(origin);
    return out;
}

}  // namespace liminal::detail::membership
