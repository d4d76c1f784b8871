// Snapshot reassembly and the membership state it feeds. The input is a
// sequence of pieces (fuzz.hpp), each an operation byte and its bytes:
// a frame whose SNAPSHOT parts go through one session's SnapshotAssembly
// into the state (and whose DELTAs and DIGESTs go to the state directly),
// the origin coming up under a creation, the origin going down, or a local
// join or leave. After every step, each view the state holds must match its
// own bookkeeping: the hash and the membership count it reports are those
// of the members it lists, for every origin and for the node itself.

#include "fuzz.hpp"
#include "membership/snapshot_assembly.hpp"
#include "membership/state.hpp"
#include "wire/codec.hpp"

#include <vector>

using namespace liminal::detail;
using membership::SnapshotAssembly;
using membership::State;

namespace {

constexpr std::size_t max_ids = 4096;
const std::string origin = "o@h";

void check_views(const State& state) {
    for (const auto& name : state.origins()) {
        const auto status = state.origin_status(name);
        LIMINAL_FUZZ_CHECK(status.known);
        std::uint64_t hash = 0;
        std::size_t count = 0;
        for (const auto& group : state.view_of(name)) {
            LIMINAL_FUZZ_CHECK(!group.ids.empty());
            for (const auto id : group.ids) hash += membership::membership_hash(group.scope, group.group, id);
            count += group.ids.size();
        }
        LIMINAL_FUZZ_CHECK(status.hash == hash);
        LIMINAL_FUZZ_CHECK(status.memberships == count);
        LIMINAL_FUZZ_CHECK(status.held <= State::max_held);
    }
    std::uint64_t local = 0;
    for (const auto& group : state.local_snapshot().groups)
        for (const auto id : group.ids) local += membership::membership_hash(group.scope, group.group, id);
    LIMINAL_FUZZ_CHECK(state.local_hash() == local);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    State state("self@h", 1);
    SnapshotAssembly assembly(max_ids);
    std::uint64_t creation = 1;
    liminal::fuzz::Pieces pieces(liminal::fuzz::bytes(data, size));
    std::string_view piece;
    std::vector<wire::WireMessage> messages;
    while (pieces.next(piece)) {
        if (piece.empty()) continue;
        const auto op = static_cast<std::uint8_t>(piece[0]);
        piece.remove_prefix(1);
        membership::Effects fx;
        switch (op % 4) {
        case 0:
            if (wire::decode_frame(piece, messages) != wire::DecodeError::none) break;
            for (auto& message : messages) {
                if (auto* part = std::get_if<wire::Snapshot>(&message)) {
                    std::vector<membership::GroupIds> groups;
                    for (auto& g : part->groups)
                        groups.push_back({std::move(g.scope), std::move(g.group), std::move(g.ids)});
                    const auto result = assembly.add(part->seq, part->part, part->last, groups);
                    if (result == SnapshotAssembly::Result::complete) {
                        auto snapshot = assembly.take();
                        std::size_t ids = 0;
                        for (const auto& g : snapshot.groups) ids += g.ids.size();
                        LIMINAL_FUZZ_CHECK(ids <= max_ids);
                        state.on_snapshot(origin, creation, std::move(snapshot), fx);
                    }
                } else if (const auto* delta = std::get_if<wire::Delta>(&message)) {
                    state.on_delta({delta->join, delta->origin, delta->creation, delta->seq, delta->scope, delta->group,
                                    delta->ids},
                                   fx);
                } else if (const auto* digest = std::get_if<wire::Digest>(&message)) {
                    state.on_digest(digest->origin, digest->creation, digest->seq, digest->hash, fx);
                }
            }
            break;
        case 1:
            creation = 1 + (op >> 2) % 3;  // a restart, or the same incarnation again
            state.on_peer_up(origin, creation, fx);
            break;
        case 2:
            state.on_peer_down(origin, (op >> 2) % 2 ? creation : membership::State::any_creation, fx);
            break;
        default: {
            const std::uint64_t id = 1 + (op >> 3) % 4;
            const std::string group(1, static_cast<char>('a' + ((op >> 5) & 1)));
            if ((op & 4) != 0) state.join("s", group, {id}, fx);
            else state.leave("s", group, {id}, fx);
            break;
        }
        }
        check_views(state);
    }
    return 0;
}
