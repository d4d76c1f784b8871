#include "node/admin.hpp"

#include "wire/proof.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace liminal::detail {
namespace {

using json = nlohmann::json;

constexpr auto nonce_lifetime = std::chrono::seconds(30);
// Proven requests remembered at most (only cookie holders add to it).
constexpr std::size_t max_used_nonces = 65536;
// A nonce: [issued, ms since epoch_: 6 bytes][random: 4 bytes][tag: 6 bytes].
constexpr std::size_t nonce_time_bytes = 6;
constexpr std::size_t nonce_tagged_bytes = 10;

std::string hex(const std::uint8_t* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

bool unhex(std::string_view text, std::uint8_t* out, std::size_t size) {
    if (text.size() != 2 * size) return false;
    for (std::size_t i = 0; i < size; ++i) {
        const auto [end, ec] = std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, out[i], 16);
        if (ec != std::errc{} || end != text.data() + 2 * i + 2) return false;
    }
    return true;
}

std::string error(const std::string& message) { return json{{"ok", false}, {"error", message}}.dump(); }

std::string arg(const json& request, const char* name, const std::string& fallback = "") {
    const auto args = request.find("args");
    if (args == request.end() || !args->is_object()) return fallback;
    const auto value = args->find(name);
    return value != args->end() && value->is_string() ? value->get<std::string>() : fallback;
}

// args[name] as a uint64; throws (an error reply) for anything else. A JSON
// number is not checked by nlohmann's get<>: a float out of range is UB.
std::uint64_t uint_arg(const json& args, const char* name) {
    const auto& value = args.at(name);
    if (!value.is_number_unsigned()) throw std::invalid_argument(std::string("\"") + name + "\" is not an unsigned integer");
    return value.get<std::uint64_t>();
}

json counters_json(const Stats& stats) {
    json out = json::object();
#define LIMINAL_COUNTER(name) out[#name] = stats.name;
#include "node/counters.def"
#undef LIMINAL_COUNTER
    return out;
}

// Every dropped_* counter, summed.
std::uint64_t dropped_total(const Stats& stats) {
    std::uint64_t total = 0;
#define LIMINAL_COUNTER(name) \
    if (std::string_view(#name).starts_with("dropped_")) total += stats.name;
#include "node/counters.def"
#undef LIMINAL_COUNTER
    return total;
}

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

AdminService::AdminService(NodeCore& core) : core_(core) { randombytes_buf(secret_.data(), secret_.size()); }

std::string AdminService::challenge() {
    wire::Nonce nonce = wire::make_nonce();  // the random part
    const auto issued = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - epoch_).count());
    for (std::size_t i = 0; i < nonce_time_bytes; ++i)
        nonce[i] = static_cast<std::uint8_t>(issued >> (8 * (nonce_time_bytes - 1 - i)));
    tag(nonce);
    return json{{"ok", true}, {"nonce", hex(nonce.data(), nonce.size())}}.dump();
}

void AdminService::tag(wire::Nonce& nonce) const {
    std::array<std::uint8_t, crypto_auth_hmacsha256_BYTES> mac{};
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, secret_.data(), secret_.size());
    crypto_auth_hmacsha256_update(&state, nonce.data(), nonce_tagged_bytes);
    crypto_auth_hmacsha256_final(&state, mac.data());
    std::copy_n(mac.begin(), nonce.size() - nonce_tagged_bytes, nonce.begin() + nonce_tagged_bytes);
}

bool AdminService::fresh(const wire::Nonce& nonce) {
    wire::Nonce expected = nonce;
    tag(expected);
    if (sodium_memcmp(expected.data(), nonce.data(), nonce.size()) != 0) return false;  // not ours
    std::uint64_t issued = 0;
    for (std::size_t i = 0; i < nonce_time_bytes; ++i) issued = (issued << 8) | nonce[i];
    const auto now = Clock::now();
    const auto age = now - (epoch_ + std::chrono::milliseconds(issued));
    if (age < Clock::duration::zero() || age > nonce_lifetime) return false;
    std::erase_if(used_, [&](const auto& entry) { return entry.second < now; });
    return !used_.contains(nonce) && used_.size() < max_used_nonces;
}

std::string AdminService::handle(const std::vector<std::string>& frames) {
    if (frames.empty() || frames.size() > 2) return error("a request is a JSON body and a proof");
    if (frames[0].size() > max_request_bytes) return error("request too large");
    json request;
    try {
        request = json::parse(frames[0]);
    } catch (const json::exception&) {
        return error("the request is not JSON");
    }
    if (!request.is_object() || !request.contains("cmd") || !request["cmd"].is_string())
        return error("the request has no \"cmd\"");
    const std::string cmd = request["cmd"];
    if (cmd == "challenge") return challenge();

    wire::Nonce nonce{};
    wire::Proof proof{};
    const bool has_nonce = request.contains("nonce") && request["nonce"].is_string() &&
                           unhex(request["nonce"].get<std::string>(), nonce.data(), nonce.size());
    if (!has_nonce || frames.size() != 2 || frames[1].size() != proof.size() || !fresh(nonce)) {
        bump(core_.counters.rejected_peers);
        return error("refused: ask for a challenge, then prove the cookie");
    }
    std::copy(frames[1].begin(), frames[1].end(), proof.begin());
    if (!wire::check_admin_proof(core_.keys->admin, nonce, frames[0], proof)) {
        bump(core_.counters.rejected_peers);
        return error("refused: wrong cookie");
    }
    used_.emplace(nonce, Clock::now() + nonce_lifetime);  // single use
    try {
        if (cmd == "status") return status().dump();
        if (cmd == "peers") return peers().dump();
        if (cmd == "groups") return groups(arg(request, "scope")).dump();
        if (cmd == "members") return members(arg(request, "scope", "default"), arg(request, "group")).dump();
        if (cmd == "stats") return stats().dump();
        if (cmd == "view") return view().dump();
        if (cmd == "test-inject") return inject(request).dump();
        if (cmd == "fault") return fault(request).dump();
    } catch (const std::exception& e) {
        return error(std::string("failed: ") + e.what());
    }
    return error("unknown command: " + cmd);
}

// The peers this node cannot reach while others can: [{peer, seen_up_by}].
json AdminService::partial_partitions() const {
    json list = json::array();
    for (const auto& peer : core_.directory.snapshot()) {
        if (!peer.seen_up_by.empty()) list.push_back({{"peer", peer.name}, {"seen_up_by", peer.seen_up_by}});
    }
    return list;
}

json AdminService::status() const {
    std::size_t up = 0, down = 0, connecting = 0;
    for (const auto& peer : core_.directory.snapshot()) {
        (peer.state == PeerState::up ? up : peer.state == PeerState::down ? down : connecting) += 1;
    }
    std::size_t groups = 0, local = 0, remote = 0;
    std::uint64_t seq = 0;
    {
        std::shared_lock lock(core_.membership->mutex);
        const auto& state = core_.membership->state;
        seq = state.seq();
        for (const auto& scope : state.scopes()) {
            for (const auto& group : state.which_groups(scope)) {
                ++groups;
                local += state.local_members(scope, group).size();
                remote += state.remote_members(scope, group).size();
            }
        }
    }
    const auto stats = core_.counters.snapshot();
    return json{{"ok", true},
                {"name", core_.options.name},
                {"creation", core_.creation},
                {"uptime_s", std::chrono::duration<double>(Clock::now() - core_.started).count()},
                {"router", core_.router_endpoint},
                {"pub", core_.pub_endpoint},
                {"admin", core_.admin_endpoint},
                {"peers", {{"up", up}, {"down", down}, {"connecting", connecting}}},
                {"partial_partitions", partial_partitions()},
                {"membership", {{"seq", seq}, {"groups", groups}, {"local", local}, {"remote", remote}}},
                {"counters",
                 {{"sends_remote", stats.sends_remote},
                  {"delivered_remote", stats.delivered_remote},
                  {"publishes", stats.publishes},
                  {"delivered_publish", stats.delivered_publish},
                  {"dropped", dropped_total(stats)},
                  {"in_flight", stats.in_flight_peers + stats.in_flight_mailboxes},
                  {"resyncs_requested", stats.resyncs_requested},
                  {"members_purged", stats.members_purged},
                  {"partial_partitions", stats.partial_partitions},
                  {"malformed_frames", stats.malformed_frames},
                  {"rejected_peers", stats.rejected_peers}}}};
}

json AdminService::peers() const {
    json list = json::array();
    for (const auto& peer : core_.directory.snapshot()) {
        std::uint64_t applied = 0;
        if (!peer.name.empty()) {
            std::shared_lock lock(core_.membership->mutex);
            applied = core_.membership->state.origin_status(peer.name).applied;
        }
        list.push_back({{"name", peer.name},
                        {"creation", peer.creation},
                        {"router", peer.router_endpoint},
                        {"pub", peer.pub_endpoint},
                        {"state", to_string(peer.state)},
                        {"since_unix_ms", peer.name.empty() ? 0 : unix_ms(peer.since)},
                        {"last_seq_applied", applied},
                        {"messages_in", peer.messages_in},
                        {"bytes_in", peer.bytes_in},
                        {"messages_out", peer.messages_out},
                        {"bytes_out", peer.bytes_out},
                        {"seen_up_by", peer.seen_up_by}});
    }
    return json{{"ok", true}, {"node", core_.options.name}, {"peers", std::move(list)}};
}

json AdminService::groups(const std::string& only_scope) const {
    json list = json::array();
    std::shared_lock lock(core_.membership->mutex);
    const auto& state = core_.membership->state;
    const auto scopes = only_scope.empty() ? state.scopes() : std::vector<std::string>{only_scope};
    for (const auto& scope : scopes) {
        for (const auto& group : state.which_groups(scope)) {
            json nodes = json::array();
            const auto local = state.local_members(scope, group);
            if (!local.empty()) nodes.push_back(core_.options.name);
            for (const auto& [node, creation] : state.remote_nodes(scope, group)) nodes.push_back(node);
            list.push_back({{"scope", scope},
                            {"group", group},
                            {"local", local.size()},
                            {"remote", state.remote_members(scope, group).size()},
                            {"nodes", std::move(nodes)}});
        }
    }
    return json{{"ok", true}, {"node", core_.options.name}, {"groups", std::move(list)}};
}

json AdminService::members(const std::string& scope, const std::string& group) const {
    if (group.empty()) return json{{"ok", false}, {"error", "members needs args.group"}};
    json list = json::array();
    std::shared_lock lock(core_.membership->mutex);
    for (const auto& m : core_.membership->state.members(scope, group)) {
        list.push_back({{"pid", Pid{m.node, m.creation, m.id}.to_string()},
                        {"node", m.node},
                        {"local", m.node == core_.options.name}});
    }
    return json{{"ok", true}, {"node", core_.options.name}, {"scope", scope}, {"group", group},
                {"members", std::move(list)}};
}

json AdminService::stats() const {
    json peers = json::array();
    for (const auto& peer : core_.directory.snapshot()) {
        if (peer.name.empty()) continue;
        peers.push_back({{"name", peer.name},
                         {"state", to_string(peer.state)},
                         {"messages_in", peer.messages_in},
                         {"bytes_in", peer.bytes_in},
                         {"messages_out", peer.messages_out},
                         {"bytes_out", peer.bytes_out},
                         {"messages_dropped", peer.messages_dropped},
                         {"slow_consumers", peer.slow_consumers}});
    }
    json channels = json::array();
    for (const auto& c : core_.channels.snapshot()) {
        channels.push_back({{"channel", c.channel},
                            {"published", c.published},
                            {"nodes_sent", c.nodes_sent},
                            {"received", c.received},
                            {"delivered", c.delivered},
                            {"dropped", c.dropped},
                            {"nodes_dropped", c.nodes_dropped}});
    }
    return json{{"ok", true},
                {"node", core_.options.name},
                {"counters", counters_json(core_.counters.snapshot())},
                {"peers", std::move(peers)},
                {"channels", std::move(channels)}};
}

json AdminService::view() const {
    json partial = partial_partitions();  // before the membership lock: the directory has its own
    json origins = json::array();
    std::shared_lock lock(core_.membership->mutex);
    const auto& state = core_.membership->state;
    auto add = [&](const std::string& origin, std::uint64_t creation, std::uint64_t seq, std::uint64_t hash) {
        json groups = json::array();
        for (const auto& g : state.view_of(origin)) {
            groups.push_back({{"scope", g.scope}, {"group", g.group}, {"ids", g.ids}});
        }
        origins.push_back({{"origin", origin}, {"creation", creation}, {"seq", seq}, {"hash", hash},
                           {"groups", std::move(groups)}});
    };
    add(core_.options.name, core_.creation, state.seq(), state.local_hash());
    for (const auto& origin : state.origins()) {
        const auto status = state.origin_status(origin);
        add(origin, status.creation, status.applied, status.hash);
    }
    return json{{"ok", true}, {"node", core_.options.name}, {"creation", core_.creation},
                {"origins", std::move(origins)}, {"partial_partitions", std::move(partial)}};
}

json AdminService::fault(const json& request) {
    if (!core_.options.faults)
        return json{{"ok", false}, {"error", "fault injection is off: start the node with --faults (faults = true)"}};
    if (!on_fault_) return json{{"ok", false}, {"error", "fault injection is not available"}};
    const auto args = request.contains("args") ? request["args"] : json::object();
    if (!args.is_object()) return json{{"ok", false}, {"error", "\"args\" is not an object"}};
    return on_fault_(args);
}

json AdminService::inject(const json& request) {
    if (!core_.testing.admin_test_hooks) return json{{"ok", false}, {"error", "test hooks are off"}};
    const auto& args = request.at("args");
    Membership::Write lock(*core_.membership);
    const auto creation = uint_arg(args, "creation");
    const auto id = uint_arg(args, "id");
    core_.membership->state.inject_for_test(args.at("origin").get<std::string>(), creation,
                                           args.at("scope").get<std::string>(), args.at("group").get<std::string>(), id);
    return json{{"ok", true}};
}

}  // namespace liminal::detail
