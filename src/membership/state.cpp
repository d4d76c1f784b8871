#include "membership/state.hpp"

#include <algorithm>
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

void State::purge(const std::string& origin, OriginView& view, Effects& fx) {
    for (auto& [key, ids] : view.groups) {
        fx.purged += ids.size();
        if (fx.record_changes)
            fx.changes.push_back(Change{false, key.first, key.second, origin, view.creation, {ids.begin(), ids.end()}, false});
        auto& holders = holders_[key];
        holders.erase(origin);
        if (holders.empty()) holders_.erase(key);
    }
    view.groups.clear();
    view.held.clear();
    view.hash = 0;
    view.memberships = 0;
    view.applied = 0;
    view.has_snapshot = false;
}

void State::on_peer_up(const std::string& origin, std::uint64_t creation, Effects& fx) {
    auto& view = views_[origin];
    if (view.creation == creation) return;
    if (view.creation > creation) return;  // an older incarnation: ignore
    purge(origin, view, fx);
    view.creation = creation;
}

void State::on_peer_down(const std::string& origin, Effects& fx) {
    const auto it = views_.find(origin);
    if (it == views_.end()) return;
    purge(origin, it->second, fx);
    views_.erase(it);
}

void State::apply(const std::string& origin, OriginView& view, const RemoteDelta& delta, Effects& fx) {
    const GroupKey key{delta.scope, delta.group};
    std::vector<std::uint64_t> changed;
    if (delta.join) {
        auto& ids = view.groups[key];
        for (const auto id : delta.ids) {
            if (ids.insert(id).second) {
                changed.push_back(id);
                view.hash += membership_hash(key.first, key.second, id);
            }
        }
        if (!ids.empty()) holders_[key].insert(origin);
        else view.groups.erase(key);
        view.memberships += changed.size();
    } else if (const auto it = view.groups.find(key); it != view.groups.end()) {
        for (const auto id : delta.ids) {
            if (it->second.erase(id) > 0) {
                changed.push_back(id);
                view.hash -= membership_hash(key.first, key.second, id);
            }
        }
        view.memberships -= changed.size();
        if (it->second.empty()) {
            view.groups.erase(it);
            auto& holders = holders_[key];
            holders.erase(origin);
            if (holders.empty()) holders_.erase(key);
        }
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
    OriginView& view = views_[origin];
    if (creation < view.creation) return;
    if (creation > view.creation) {
        purge(origin, view, fx);
        view.creation = creation;
    }
    if (view.has_snapshot && snapshot.seq < view.applied) return;  // older than what we hold

    // Senders list groups in key order (local_snapshot does); then every
    // insert below lands at its hint, in constant time.
    const auto by_key = [](const GroupIds& a, const GroupIds& b) {
        return std::tie(a.scope, a.group) < std::tie(b.scope, b.group);
    };
    if (!std::is_sorted(snapshot.groups.begin(), snapshot.groups.end(), by_key))
        std::sort(snapshot.groups.begin(), snapshot.groups.end(), by_key);
    std::map<GroupKey, std::set<std::uint64_t>> next;
    for (auto& entry : snapshot.groups) {
        if (entry.ids.empty()) continue;
        const auto it = next.try_emplace(next.end(), GroupKey{std::move(entry.scope), std::move(entry.group)});
        it->second.insert(entry.ids.begin(), entry.ids.end());
    }
    // Diff old against new, so monitors see exactly what changed.
    drop_missing(origin, creation, view, next, fx);
    adopt(origin, creation, view, std::move(next), fx);
    view.applied = snapshot.seq;
    view.has_snapshot = true;
    apply_held(origin, view, fx);
    fx.acks.emplace_back(origin, view.applied);
}

void State::drop_missing(const std::string& origin, std::uint64_t creation, const OriginView& view,
                         const std::map<GroupKey, std::set<std::uint64_t>>& next, Effects& fx) {
    for (const auto& [key, ids] : view.groups) {
        const auto found = next.find(key);
        std::vector<std::uint64_t> gone;
        for (const auto id : ids) {
            if (found == next.end() || !found->second.contains(id)) gone.push_back(id);
        }
        if (!gone.empty() && fx.record_changes)
            fx.changes.push_back(Change{false, key.first, key.second, origin, creation, std::move(gone), false});
        if (found == next.end()) {
            auto& holders = holders_[key];
            holders.erase(origin);
            if (holders.empty()) holders_.erase(key);
        }
    }
}

void State::adopt(const std::string& origin, std::uint64_t creation, OriginView& view,
                  std::map<GroupKey, std::set<std::uint64_t>>&& next, Effects& fx) {
    view.hash = 0;
    view.memberships = 0;
    auto holder_hint = holders_.begin();
    for (const auto& [key, ids] : next) {
        const auto old = fx.record_changes ? view.groups.find(key) : view.groups.end();
        std::vector<std::uint64_t> added;
        for (const auto id : ids) {
            view.hash += membership_hash(key.first, key.second, id);
            if (fx.record_changes && (old == view.groups.end() || !old->second.contains(id))) added.push_back(id);
        }
        view.memberships += ids.size();
        const auto holders = holders_.try_emplace(holder_hint, key);
        holders->second.insert(origin);
        holder_hint = std::next(holders);
        if (!added.empty()) fx.changes.push_back(Change{true, key.first, key.second, origin, creation, std::move(added), false});
    }
    view.groups = std::move(next);
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
    fx.acks.emplace_back(origin, view.applied);
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
    const GroupKey key{scope, group};
    const auto holders = holders_.find(key);
    if (holders == holders_.end()) return out;
    for (const auto& origin : holders->second) {
        const OriginView& view = views_.at(origin);
        for (const auto id : view.groups.at(key)) out.push_back(Member{origin, view.creation, id});
    }
    return out;
}

std::vector<std::string> State::which_groups(const std::string& scope) const {
    std::set<std::string> groups;
    for (const auto& [key, counts] : local_) {
        if (key.first == scope) groups.insert(key.second);
    }
    for (const auto& [key, holders] : holders_) {
        if (key.first == scope) groups.insert(key.second);
    }
    return {groups.begin(), groups.end()};
}

std::vector<std::string> State::scopes() const {
    std::set<std::string> scopes;
    for (const auto& [key, counts] : local_) scopes.insert(key.first);
    for (const auto& [key, holders] : holders_) scopes.insert(key.first);
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
    if (it == views_.end()) return out;
    for (const auto& [key, ids] : it->second.groups) out.push_back(GroupIds{key.first, key.second, {ids.begin(), ids.end()}});
    return out;
}

void State::inject_for_test(const std::string& origin, std::uint64_t creation, const std::string& scope,
                            const std::string& group, std::uint64_t id) {
    OriginView& view = views_[origin];
    if (view.creation == 0) view.creation = creation;
    if (view.groups[{scope, group}].insert(id).second) {
        view.hash += membership_hash(scope, group, id);
        ++view.memberships;
    }
    holders_[{scope, group}].insert(origin);
}

std::vector<std::pair<std::string, std::uint64_t>> State::remote_nodes(const std::string& scope,
                                                                       const std::string& group) const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    const auto holders = holders_.find({scope, group});
    if (holders == holders_.end()) return out;
    for (const auto& origin : holders->second) out.emplace_back(origin, views_.at(origin).creation);
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
