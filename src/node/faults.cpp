// Fault injection for users' own tests (Options::faults): through the admin
// endpoint, `liminal-cli fault partition --peer NAME` cuts this node off
// from a peer as a partition between the two would, `fault heal` ends it and
// `fault drop-gossip --rate R` drops incoming gossip frames. Runs on the I/O
// thread, so each takes effect before its reply is sent.

#include "node/actor.hpp"

#include <liminal/pid.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace liminal::detail {

using json = nlohmann::json;

namespace {

json failure(const std::string& why) { return json{{"ok", false}, {"error", why}}; }

}  // namespace

json Actor::fault(const json& args) {
    const auto text = [&](const char* key) {
        return args.contains(key) && args[key].is_string() ? args[key].get<std::string>() : std::string();
    };
    const std::string action = text("action");
    const std::string peer = text("peer");
    if (action == "partition") {
        if (!is_valid_node_name(peer)) return failure("partition needs \"peer\": a node name, name@host");
        if (peer == core_.options.name) return failure("a node cannot be partitioned from itself");
        partition(peer);
    } else if (action == "heal") {
        if (!peer.empty() && !is_valid_node_name(peer)) return failure("\"peer\" is not a node name");
        heal(peer);
    } else if (action == "drop-gossip") {
        if (!args.contains("rate") || !args["rate"].is_number()) return failure("drop-gossip needs \"rate\", from 0 to 1");
        const double rate = args["rate"].get<double>();
        if (!(rate >= 0.0 && rate <= 1.0)) return failure("drop-gossip needs \"rate\", from 0 to 1");
        core_.testing.gossip_drop_rate = rate;
        log_.warn("fault injected: dropping {:.0f}% of incoming gossip frames", rate * 100);
    } else {
        return failure("unknown fault \"" + action + "\" (partition, heal, drop-gossip)");
    }
    return json{{"ok", true},
                {"partitioned", std::vector<std::string>(partitioned_.begin(), partitioned_.end())},
                {"gossip_drop_rate", core_.testing.gossip_drop_rate}};
}

void Actor::partition(const std::string& name) {
    if (!partitioned_.insert(name).second) return;
    log_.warn("fault injected: partitioned from {} (liminal-cli fault heal ends it)", name);
    // The connections it has are closed under libzmq (as revoke does), and
    // its HELLOs are ignored from now on (with node keys its connections are
    // refused outright): its links to us go down, ours to it are closed, and
    // neither comes back until the fault is healed.
    zap_.partition(name);
    cut_off(name, DownReason::partitioned, "fault injected: partitioned");
}

void Actor::heal(const std::string& name) {
    std::vector<std::string> healed;
    if (name.empty()) {
        healed.assign(partitioned_.begin(), partitioned_.end());
    } else if (partitioned_.contains(name)) {
        healed.push_back(name);
    }
    if (core_.testing.gossip_drop_rate > 0 && name.empty()) {
        core_.testing.gossip_drop_rate = 0;
        log_.warn("fault healed: no more gossip is dropped");
    }
    for (const auto& peer_name : healed) {
        partitioned_.erase(peer_name);
        zap_.heal(peer_name);
        log_.warn("fault healed: {} is reachable again", peer_name);
        const Peer* peer = peers_.find(peer_name);
        if (peer != nullptr && !peer->router.empty() && !links_.contains(peer->router))
            open_link(peer->router, peer_name, false);
    }
}

}  // namespace liminal::detail
