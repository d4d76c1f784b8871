#pragma once
// The node: one embedded member of a liminal cluster.

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
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace liminal {

// Thrown for local misuse and for failures to start (bad options, bind failure).
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

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
    too_large,        // larger than limits.max_frame_bytes
};

const char* to_string(SendResult result) noexcept;

namespace detail { struct NodeImpl; }

// A node binds its sockets and starts its I/O thread in the constructor, and
// sends BYE to its peers and joins the thread in stop() or the destructor.
// Every member function may be called from any thread.
class Node {
public:
    // Throws liminal::Error when the options are invalid or a bind fails.
    explicit Node(Options options);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    const std::string& name() const noexcept;
    std::uint64_t creation() const noexcept;
    // The endpoints as bound and advertised (a `*` port replaced by the real one).
    const std::string& router_endpoint() const noexcept;
    const std::string& pub_endpoint() const noexcept;

    // Creates a local process with its own mailbox.
    Process spawn();

    // Sends `payload` to `to`, local or remote. Never blocks and never throws
    // for an undeliverable pid: the result says what could be known locally.
    SendResult send(const Pid& to, std::string_view payload, const Headers& headers = {});
    // The same, naming a local sender (a process of this node).
    SendResult send(const Pid& from, const Pid& to, std::string_view payload, const Headers& headers = {});

    // Process groups, as Erlang's pg. A node joins and leaves only its own live
    // processes; any other pid throws std::invalid_argument. Joins are
    // counted: a pid that joined twice leaves twice; closing a process leaves
    // all its groups. Scope and group names are 1 to 255 bytes.
    void join(std::string_view scope, std::string_view group, const Pid& pid);
    void join(std::string_view scope, std::string_view group, const std::vector<Pid>& pids);
    // Returns false when a pid was not a member (that pid is ignored).
    bool leave(std::string_view scope, std::string_view group, const Pid& pid);
    bool leave(std::string_view scope, std::string_view group, const std::vector<Pid>& pids);
    // Each member pid once, local ones first.
    std::vector<Pid> members(std::string_view scope, std::string_view group) const;
    std::vector<Pid> local_members(std::string_view scope, std::string_view group) const;
    std::vector<Pid> remote_members(std::string_view scope, std::string_view group) const;
    std::vector<std::string> which_groups(std::string_view scope) const;
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
    // ones through one PUBLISH per node that has subscribers.
    PublishResult publish(std::string_view channel, std::string_view payload, const Headers& headers = {});
    PublishResult publish(const Pid& from, std::string_view channel, std::string_view payload,
                          const Headers& headers = {}, const std::vector<MessageId>& parents = {});

    std::vector<PeerInfo> peers() const;
    Stats stats() const;
    // Per-channel counters, for every channel this node has published to or delivered on.
    std::vector<ChannelStats> channel_stats() const;
    // The admin endpoint as bound (empty without one).
    const std::string& admin_endpoint() const noexcept;

    // The next peer event, waiting up to `timeout`. The queue keeps the last
    // 4096 events; older ones are dropped and counted (Stats::events_dropped).
    std::optional<PeerEvent> next_event(std::chrono::milliseconds timeout);

    // Sends BYE to every peer, waits up to bye_grace for acknowledgements, then
    // closes every socket and joins the I/O thread. Idempotent.
    void stop();

private:
    std::unique_ptr<detail::NodeImpl> impl_;
};

}  // namespace liminal
