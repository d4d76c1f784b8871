#pragma once
// The I/O thread's outbound path for what the API threads encoded: each SEND
// and PUBLISH of a batch is packed into the links of the peers it goes to
// (a PUBLISH into every node of its channel's route), so a batch leaves as
// one frame per peer. What cannot go (peer unknown, down, restarted) is
// counted. Runs on the I/O thread, or a sender holding the I/O lock.

#include "node/command_queue.hpp"
#include "node/counters.hpp"
#include "node/peer_table.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace liminal::detail {

struct ChannelRoute;

class Outbound {
public:
    Outbound(Counters& counters, const PeerTable& peers) : counters_(counters), peers_(peers) {}

    // Packs every message of `batch`; the caller flushes the links after.
    // Nothing of `batch` (its routes) is referred to once this returns.
    void pack(const OutgoingBatch& batch);

private:
    void pack_send(const Outgoing& item, std::string_view message);
    void pack_publish(const Outgoing& item, std::string_view message);

    Counters& counters_;
    const PeerTable& peers_;
    // The links of the last route resolved, valid for one batch (nothing
    // changes links while a batch is packed): consecutive publishes to one
    // channel share the route, so its links are looked up once per batch.
    const ChannelRoute* resolved_route_ = nullptr;
    std::vector<Link*> resolved_links_;
    // Messages of this batch that reached no link, counted when it is done.
    std::uint64_t unknown_ = 0, down_ = 0, stale_ = 0;
};

}  // namespace liminal::detail
