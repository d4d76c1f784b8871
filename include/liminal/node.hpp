#pragma once
// The node: one embedded member of a liminal cluster.

#include <liminal/error.hpp>
#include <liminal/events.hpp>
#include <liminal/groups.hpp>
#include <liminal/message.hpp>
#include <liminal/options.hpp>
#include <liminal/pid.hpp>
#include <liminal/process.hpp>
#include <liminal/stats.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liminal {

// What send() could tell locally. Everything but `delivered` and `queued` is
// also counted in Stats.
enum class SendResult {
    delivered,        // put into a local mailbox (or handed to its callback)
    queued,           // handed to the I/O thread for a peer that is up
    no_such_process,  // a local pid that does not exist or is closed
    mailbox_full,     // a local mailbox at capacity
    stale_creation,   // the pid's node has another creation now
    unknown_node,     // no peer of that name
    node_down,        // the peer is known but down
    too_large,        // its frame would exceed limits.max_frame_bytes: nothing was sent
    queue_full,       // the node's outbound queue was full (limits.outbound_queue_bytes): dropped
    would_block,      // OverflowPolicy::block: no room within limits.block_timeout; nothing was sent
};

const char* to_string(SendResult result) noexcept;

namespace detail { struct NodeImpl; struct TestHooks; struct TestAccess; }

// A node binds its sockets and starts its I/O thread in the constructor, and
// sends BYE to its peers and joins the thread in stop() or the destructor.
// Every member function may be called from any thread.
//
// Errors (liminal/error.hpp): local misuse throws liminal::Error of the kind
// named at each function; remote trouble never throws, it is counted in
// Stats. A moved-from Node is empty: every member but stop() and the
// destructor throws ErrorKind::closed.
class Node {
public:
    // Throws ErrorKind::start_failed when the options are invalid or a bind fails.
    explicit Node(Options options);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    Node(Node&&) noexcept;
    // Stops this node first, then takes the other's.
    Node& operator=(Node&&) noexcept;

    const std::string& name() const;
    std::uint64_t creation() const;
    // The endpoints as bound and advertised (a `*` port replaced by the real one).
    const std::string& router_endpoint() const;
    const std::string& pub_endpoint() const;

    // Creates a local process with its own mailbox. Throws ErrorKind::closed
    // once the node is stopping.
    Process spawn();
    // The same, with this process's own mailbox bounds and OverflowPolicy
    // (what a slow consumer of it costs its senders: drop_newest,
    // drop_oldest, block, or disconnect).
    Process spawn(const MailboxOptions& mailbox);

    // Sends `payload` to `to`, local or remote. Never blocks (but under
    // OverflowPolicy::block, for at most limits.block_timeout) and never throws
    // for an undeliverable pid: the result says what could be known locally.
    // Throws ErrorKind::invalid_argument for an invalid `to` or more headers
    // than the wire carries (256), ErrorKind::not_local for a `from` that is
    // not of this node; in both cases nothing is sent.
    SendResult send(const Pid& to, std::string_view payload, const Headers& headers = {});
    // The same, naming a local sender (a process of this node).
    SendResult send(const Pid& from, const Pid& to, std::string_view payload, const Headers& headers = {});

    // Process groups, as Erlang's pg. A node joins and leaves only its own live
    // processes; any other pid throws ErrorKind::not_local, and a pid that
    // names no process (no node name, or id 0) ErrorKind::invalid_argument,
    // with nothing joined or left. Joins are
    // counted: a pid that joined twice leaves twice; closing a process leaves
    // all its groups. Scope and group names are 1 to 255 bytes (else
    // ErrorKind::invalid_argument).
    void join(std::string_view scope, std::string_view group, const Pid& pid);
    void join(std::string_view scope, std::string_view group, const std::vector<Pid>& pids);
    // Returns false only when none of `pids` was a member (pg's
    // not_joined): a pid that was not is ignored, the others leave.
    bool leave(std::string_view scope, std::string_view group, const Pid& pid);
    bool leave(std::string_view scope, std::string_view group, const std::vector<Pid>& pids);
    // Each member pid once, local ones first.
    std::vector<Pid> members(std::string_view scope, std::string_view group) const;
    std::vector<Pid> local_members(std::string_view scope, std::string_view group) const;
    std::vector<Pid> remote_members(std::string_view scope, std::string_view group) const;
    // The groups of `scope` with any member; with a member of this node.
    std::vector<std::string> which_groups(std::string_view scope) const;
    std::vector<std::string> which_local_groups(std::string_view scope) const;
    // A snapshot of the scope (or one group), then every join and leave.
    Monitor monitor(std::string_view scope);
    Monitor monitor(std::string_view scope, std::string_view group);
    // The convergence barrier: waits until every peer that is up has applied
    // this node's membership as it is now (so a publish from any of them
    // reaches this node's new subscribers), or the timeout passes.
    SyncResult sync_membership(std::chrono::milliseconds timeout);

    // Channels: the groups of scope "channels".
    void subscribe(std::string_view channel, const Pid& pid);
    bool unsubscribe(std::string_view channel, const Pid& pid);
    // Delivers to every subscriber of `channel`, local ones directly and remote
    // ones through one PUBLISH per node that has subscribers. A message whose
    // frame would exceed limits.max_frame_bytes is refused whole (nothing is
    // delivered or sent; PublishResult::too_large, counted in
    // Stats::dropped_too_large). Throws ErrorKind::invalid_argument for a
    // channel name that is not 1 to 255 bytes, more than 256 headers or more
    // than 64 parents, and ErrorKind::not_local for a `from` that is not a live
    // process of this node; then nothing is sent.
    PublishResult publish(std::string_view channel, std::string_view payload, const Headers& headers = {});
    PublishResult publish(const Pid& from, std::string_view channel, std::string_view payload,
                          const Headers& headers = {}, const std::vector<MessageId>& parents = {});

    std::vector<PeerInfo> peers() const;
    Stats stats() const;
    // Per-channel counters, for every channel this node has published to or delivered on.
    std::vector<ChannelStats> channel_stats() const;
    // The admin endpoint as bound (empty without one).
    const std::string& admin_endpoint() const;

    // Security::node_keys: reads Options::trusted_keys again. A node whose key
    // is no longer listed is cut off at once: marked down (DownReason::revoked),
    // its connections closed, nothing more of it applied. Throws
    // ErrorKind::start_failed for an unreadable or malformed file (the keys in
    // force stay as they were) and ErrorKind::invalid_argument in another mode.
    void reload_trusted_keys();

    // The next peer event, waiting up to `timeout`. The queue keeps the last
    // 4096 events; older ones are dropped and counted (Stats::events_dropped).
    std::optional<PeerEvent> next_event(std::chrono::milliseconds timeout);

    // Sends BYE to every peer, waits up to bye_grace for acknowledgements, then
    // closes every socket and joins the I/O thread. Idempotent. From a
    // callback on the thread running the node's poll loop (a delivering
    // callback, Options::on_peer_event), which it would wait for, it throws
    // ErrorKind::invalid_argument and the node goes on.
    void stop();

private:
    friend struct detail::TestAccess;
    // A node with test-only hooks (fault injection); tests reach it through detail::TestAccess.
    Node(Options options, const detail::TestHooks& hooks);
    // The node's state; throws ErrorKind::closed when empty (moved from).
    detail::NodeImpl& impl() const;

    std::unique_ptr<detail::NodeImpl> impl_;
};

}  // namespace liminal
