#include <liminal/node.hpp>

#include "node/admin_endpoint.hpp"
#include "node/impl.hpp"
#include "node/test_hooks.hpp"
#include "wire/codec.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <string_view>
#include <thread>

namespace liminal {
namespace detail {

MessageId NodeImpl::next_message_id() {
    // 64 random bits per node start, then a counter: unique without a clock.
    const std::uint64_t counter = core->message_id_counter.fetch_add(1, std::memory_order_relaxed);
    MessageId id{};
    for (int i = 0; i < 8; ++i) {
        id[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(core->message_id_prefix >> (56 - 8 * i));
        id[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(counter >> (56 - 8 * i));
    }
    return id;
}

namespace {

// Every line names the node: a logger named after it, writing to the sinks of
// the one the embedding program gave (or to stderr). spdlog's global registry
// is left alone.
std::shared_ptr<spdlog::logger> make_logger(const Options& options) {
    if (options.logger) {
        auto logger = std::make_shared<spdlog::logger>(options.name, options.logger->sinks().begin(),
                                                       options.logger->sinks().end());
        logger->set_level(options.logger->level());
        return logger;
    }
    auto logger = std::make_shared<spdlog::logger>(options.name, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e [%n] %^%l%$ %v");
    logger->set_level(spdlog::level::info);
    return logger;
}

// An address or interface name ZeroMQ can bind a connection's source to:
// letters, digits, '.', '-', '_', or an IPv6 address in brackets. Nothing
// that would make `SOURCE:0;HOST:PORT` mean something else.
bool is_valid_source(const std::string& source) {
    if (source.empty()) return true;
    if (source.size() > 255) return false;
    const bool bracketed = source.front() == '[' && source.back() == ']' && source.size() > 2;
    const std::string_view inner =
        bracketed ? std::string_view(source).substr(1, source.size() - 2) : std::string_view(source);
    return std::all_of(inner.begin(), inner.end(), [&](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || (bracketed && c == ':');
    });
}

void validate(Options& options) {
    if (!is_valid_node_name(options.name))
        throw StartFailed("liminal: invalid node name '" + options.name + "' (expected name@host)");
    if (options.cookie.empty()) throw StartFailed("liminal: a cookie is required");
    if (options.heartbeat_interval.count() <= 0 || options.heartbeat_timeout < options.heartbeat_interval)
        throw StartFailed("liminal: heartbeat interval must be > 0 and timeout >= interval");
    if (options.forget_after < options.heartbeat_timeout)
        throw StartFailed("liminal: forget_after must be at least the heartbeat timeout");
    const auto& limits = options.limits;
    if (limits.max_frame_bytes < 1024 || limits.max_frame_bytes > detail::wire::max_length ||
        limits.mailbox_capacity == 0 || limits.mailbox_bytes == 0 || limits.send_hwm < 1 || limits.receive_hwm < 1 ||
        limits.peer_queue_bytes == 0 || limits.outbound_queue_bytes == 0 || limits.monitor_queue_bytes == 0 ||
        limits.block_timeout.count() < 0)
        throw StartFailed("liminal: limits must be positive, every queue bounded (max_frame_bytes from 1 KiB to 4 GiB, "
                          "high-water marks at least 1)");
    if (options.digest_interval.count() <= 0) throw StartFailed("liminal: digest_interval must be > 0");
    for (const auto* endpoint : {&options.listen, &options.gossip}) {
        if (endpoint->rfind("tcp://", 0) != 0) throw StartFailed("liminal: only tcp:// endpoints are supported: " + *endpoint);
    }
    if (!options.admin.empty()) options.admin = parse_admin_endpoint(options.admin);
    if (!is_valid_source(options.source_address))
        throw StartFailed("liminal: source_address is an IP address or interface name (no port, no ';'): " +
                          options.source_address);
    if (options.security == Security::node_keys) {
        if (options.key_file.empty() || options.trusted_keys.empty())
            throw StartFailed("liminal: Security::node_keys needs a key_file and a trusted_keys file");
        for (const auto& seed : options.seeds) {
            if (seed.find('=') == std::string::npos)
                throw StartFailed("liminal: with node keys a seed is NAME=ENDPOINT, so that its key is known: " + seed);
        }
    }
    if (options.advertise_host.empty()) options.advertise_host = options.name.substr(options.name.find('@') + 1);
}

}  // namespace
}  // namespace detail

const char* to_string(SendResult result) noexcept {
    switch (result) {
    case SendResult::delivered: return "delivered";
    case SendResult::queued: return "queued";
    case SendResult::no_such_process: return "no_such_process";
    case SendResult::mailbox_full: return "mailbox_full";
    case SendResult::stale_creation: return "stale_creation";
    case SendResult::unknown_node: return "unknown_node";
    case SendResult::node_down: return "node_down";
    case SendResult::too_large: return "too_large";
    case SendResult::queue_full: return "queue_full";
    case SendResult::would_block: return "would_block";
    }
    return "?";
}

Node::Node(Options options) : Node(std::move(options), detail::TestHooks{}) {}

Node::Node(Options options, const detail::TestHooks& hooks) : impl_(std::make_unique<detail::NodeImpl>()) {
    detail::validate(options);
    if (hooks.gossip_drop_rate < 0 || hooks.gossip_drop_rate > 1)
        throw StartFailed("liminal: the gossip drop rate must be in [0, 1]");
    auto& core = *impl_->core;
    core.log = detail::make_logger(options);
    core.options = std::move(options);
    core.testing = hooks;
    core.creation = detail::new_creation();
    core.keys = &detail::wire::cluster_keys(core.options.cookie);
    core.curve = {core.keys->curve_public, core.keys->curve_secret};
    if (core.options.security == Security::node_keys) {
        core.curve = detail::read_key_file(core.options.key_file);
        core.trusted = detail::read_trusted_keys(core.options.trusted_keys);
        const auto listed = core.trusted.find(core.curve.public_key);
        if (listed == core.trusted.end() || listed->second != core.options.name)
            throw StartFailed("liminal: this node's public key is not in " + core.options.trusted_keys + " under " +
                              core.options.name);
    }
    if (const auto weakness = detail::wire::cookie_weakness(core.options.cookie); !weakness.empty())
        core.log->warn("the cookie is weak ({}): anyone who records this cluster's traffic can guess it; "
                       "`liminal-cli cookie` writes a 256-bit one",
                       weakness);
    if (core.options.security == Security::insecure_plaintext)
        core.log->warn("insecure plaintext: traffic is not encrypted and anyone who reaches a port can "
                       "connect; use it only on a trusted host");
    impl_->node_pid = Pid{core.options.name, core.creation, 0};
    core.commands.limit(core.options.limits.outbound_queue_bytes, core.options.limits.peer_overflow,
                        core.options.limits.block_timeout);
    const auto& limits = core.options.limits;
    // A mailbox that fills up, or cuts its process off: counted, and told
    // as a slow_consumer event by the I/O thread (the one that emits events).
    auto on_full = [weak = std::weak_ptr<detail::NodeCore>(impl_->core)](std::uint64_t id, bool cut) {
        const auto core = weak.lock();
        if (!core) return;
        detail::bump(core->counters.slow_consumers);
        const Pid pid{core->options.name, core->creation, id};
        PeerEvent event{PeerEventKind::slow_consumer, core->options.name, core->creation, core->router_endpoint,
                        DownReason::none,
                        "process " + pid.to_string() + (cut ? ": its mailbox is full; cut off (disconnect)"
                                                            : ": its mailbox is full; messages for it are dropped")};
        core->commands.post(detail::command::Emit{std::move(event)});
        // Cut off: it leaves its groups now. Not waiting for its callback
        // thread, which may be what is stuck.
        if (cut) core->processes->remove(id, false);
    };
    core.processes = std::make_shared<detail::ProcessTable>(
        detail::MailboxLimits{limits.mailbox_capacity, limits.mailbox_bytes, limits.overflow, limits.block_timeout},
        std::move(on_full), &core.counters, core.commands.shared_leadership());
    core.membership = std::make_unique<detail::Membership>(core.options.name, core.creation);
    randombytes_buf(&core.message_id_prefix, sizeof core.message_id_prefix);
    core.processes->on_remove([weak = std::weak_ptr<detail::NodeCore>(impl_->core)](std::uint64_t id) {
        if (const auto alive = weak.lock()) detail::leave_all(*alive, id);
    });
    impl_->io = std::make_unique<detail::IoThread>(core);
}

Node::~Node() { stop(); }

Node::Node(Node&&) noexcept = default;

Node& Node::operator=(Node&& other) noexcept {
    if (this != &other) {
        stop();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

detail::NodeImpl& Node::impl() const {
    if (!impl_) throw Closed("liminal::Node: use of an empty (moved-from) node");
    return *impl_;
}

void Node::stop() {
    if (!impl_) return;
    std::lock_guard lock(impl_->stop_mutex);
    if (!impl_->io) return;
    // The thread running the poll loop (a delivering callback, on_peer_event)
    // would wait for itself: the I/O thread to join, or a parked I/O thread
    // for this leader to return.
    if (impl_->core->commands.on_consumer_thread())
        throw InvalidArgument("liminal::Node::stop: called from a callback on the thread running the node's poll "
                              "loop (a delivering callback or on_peer_event); call it from another thread");
    impl_->core->stopping.store(true, std::memory_order_release);
    impl_->core->commands.post(detail::command::Stop{});
    impl_->io.reset();  // joins
}

const std::string& Node::name() const { return impl().core->options.name; }
std::uint64_t Node::creation() const { return impl().core->creation; }
const std::string& Node::router_endpoint() const { return impl().core->router_endpoint; }
const std::string& Node::pub_endpoint() const { return impl().core->pub_endpoint; }

Process Node::spawn() { return spawn(MailboxOptions{}); }

Process Node::spawn(const MailboxOptions& options) {
    auto& core = *impl().core;
    if (core.stopping.load(std::memory_order_acquire)) throw Closed("liminal: spawn() on a stopped node");
    detail::MailboxLimits limits = core.processes->limits();
    if (options.capacity != 0) limits.capacity = options.capacity;
    if (options.bytes != 0) limits.bytes = options.bytes;
    if (options.overflow) limits.overflow = *options.overflow;
    auto [id, mailbox] = core.processes->create(limits);
    return Process(Pid{core.options.name, core.creation, id}, std::move(mailbox), core.processes);
}

SendResult Node::send(const Pid& to, std::string_view payload, const Headers& headers) {
    return send(impl().node_pid, to, payload, headers);
}

namespace detail {
namespace {

// A send to a process of this node: straight into its mailbox.
SendResult send_local(NodeCore& core, const Pid& from, const Pid& to, std::string_view payload,
                      const Headers& headers) {
    auto& counters = core.counters;
    if (to.creation != core.creation) {
        refuse(counters, counters.dropped_stale_creation);
        return SendResult::stale_creation;
    }
    const auto mailbox = core.processes->find(to.id);
    if (!mailbox) {
        refuse(counters, counters.dropped_no_such_process);
        return SendResult::no_such_process;
    }
    switch (deliver(*mailbox, Message(from, headers, payload), counters.sends_local, true,
                    !core.commands.on_consumer_thread())) {
    case PushResult::delivered:
    case PushResult::displaced: return SendResult::delivered;
    case PushResult::full:
    case PushResult::cut_off: return SendResult::mailbox_full;
    case PushResult::timed_out: return SendResult::would_block;
    case PushResult::closed: return SendResult::no_such_process;
    }
    return SendResult::no_such_process;
}

// A send to a process of a peer: encoded here, sent by the I/O thread.
SendResult send_remote(NodeCore& core, const Pid& from, const Pid& to, std::string_view payload,
                       const Headers& headers) {
    auto& counters = core.counters;
    const auto route = core.directory.route(to.node);
    if (!route) {
        refuse(counters, counters.dropped_unknown_node);
        return SendResult::unknown_node;
    }
    if (route->creation != to.creation) {
        refuse(counters, counters.dropped_stale_creation);
        return SendResult::stale_creation;
    }
    if (route->state != PeerState::up) {
        refuse(counters, counters.dropped_node_down);
        return SendResult::node_down;
    }
    const auto& limits = core.options.limits;
    const bool block = limits.peer_overflow == OverflowPolicy::block;
    if (block && route->congested) {
        // Wait for the peer's queue to drain (or the peer to go); on the I/O
        // thread, which alone drains it, say so at once.
        const auto deadline = std::chrono::steady_clock::now() + limits.block_timeout;
        const auto clear = [&] {
            const auto now = core.directory.route(to.node);
            return !now || !now->congested;
        };
        if (core.commands.on_consumer_thread() || !core.backpressure.wait_until(deadline, clear)) {
            refuse(counters, counters.would_block);
            return SendResult::would_block;
        }
    }
    const bool queued = core.commands.push(
        nullptr, to.node, to.creation,
        [&](std::string& out) { wire::append_send(out, to.creation, to.id, from.id, headers, payload); },
        [&] { take_in(counters, counters.in_flight_peers); });
    if (!queued) {
        refuse(counters, block ? counters.would_block : counters.dropped_queue_full);
        return block ? SendResult::would_block : SendResult::queue_full;
    }
    return SendResult::queued;
}

}  // namespace
}  // namespace detail

SendResult Node::send(const Pid& from, const Pid& to, std::string_view payload, const Headers& headers) {
    auto& core = *impl().core;
    if (!to.valid()) throw InvalidArgument("liminal::Node::send: invalid destination pid");
    if (from.node != core.options.name || from.creation != core.creation)
        throw NotLocal("liminal::Node::send: the sender must be a process of this node");
    // Every limit the receiver's decoder checks, checked before the message can enter a frame.
    if (detail::refused_as_too_large(detail::wire::check_send(headers, payload, core.options.limits.max_frame_bytes),
                                     core.counters, "liminal::Node::send"))
        return SendResult::too_large;
    if (core.stopping.load(std::memory_order_acquire)) {
        detail::refuse(core.counters, core.counters.dropped_node_down);
        return SendResult::node_down;
    }
    return to.node == core.options.name ? detail::send_local(core, from, to, payload, headers)
                                        : detail::send_remote(core, from, to, payload, headers);
}

std::vector<PeerInfo> Node::peers() const { return impl().core->directory.snapshot(); }

Stats Node::stats() const { return impl().core->counters.snapshot(); }

std::vector<ChannelStats> Node::channel_stats() const { return impl().core->channels.snapshot(); }

const std::string& Node::admin_endpoint() const { return impl().core->admin_endpoint; }

void Node::reload_trusted_keys() {
    auto& core = *impl().core;
    if (core.options.security != Security::node_keys)
        throw InvalidArgument("liminal::Node::reload_trusted_keys: the node does not use Security::node_keys");
    auto keys = detail::read_trusted_keys(core.options.trusted_keys);  // throws before anything changes
    core.commands.post(detail::command::TrustKeys{std::move(keys)});
}

std::optional<PeerEvent> Node::next_event(std::chrono::milliseconds timeout) {
    return impl().core->events.pop(timeout);
}

}  // namespace liminal
