#pragma once
// The node's I/O thread: owns every ZeroMQ socket, runs the poll loop and
// carries out the protocol (docs/PROTOCOL.md). Where things are:
//   poll_loop.cpp   the poll loop, which only reads sockets and routes (PollSet: poll_set.hpp)
//   router.cpp      frames on our ROUTER: validated whole, then one handler per message
//   handshake.cpp   HELLO -> WELCOME -> AUTH, PEERS, BYE, peers going up and down
//   gossip.cpp      membership: deltas and digests, backfill, resync, snapshots
//   commands.cpp    what the API threads queued: messages (Outbound: outbound.hpp), then commands
//   actor.cpp       construction, links, peer events, shutdown
// and, as classes of their own, SEND and PUBLISH into local mailboxes
// (FrameDelivery: receive.hpp) and all sending to one peer (Link: link.hpp).
// Per-peer state: Link (our DEALER to it), Session (its DEALER to our
// ROUTER), Peer in the PeerTable (both joined under its name).
//
// The I/O lock (CommandQueue::io_lock) is held by whichever thread runs the
// actor, except while it sleeps in poll. That is this thread, or while it is
// parked a receiver leading in its place (lead(), Leadership: the whole poll
// loop, on the thread waiting in Process::receive()). While the poller
// sleeps, a sender's thread may take the lock for send_queued_here only.
// ZeroMQ allows a socket to change threads across a full memory barrier,
// which the lock gives. Nothing else of the actor runs elsewhere.
//
// Each message's handler, by the path it travels (wire::Path):
//   handshake (ROUTER)  HELLO, AUTH      on_handshake       handshake.cpp
//   reply (DEALER)      WELCOME, BYE_ACK, LEAVING  on_reply handshake.cpp
//   data (ROUTER)       PEERS, BYE       on_data            handshake.cpp
//                       SEND, PUBLISH    on_data            router.cpp -> FrameDelivery
//                       RESYNC, SNAPSHOT, DIGEST_ACK  on_data  gossip.cpp
//   gossip (SUB)        JOIN/LEAVE, DIGEST  on_gossip       gossip.cpp
//                       (one SUB per peer; its origin must be that peer)
//
// Links and sessions. Each pair of nodes is joined twice: our DEALER to their
// ROUTER (a Link, through which we send) and their DEALER to our ROUTER (an
// inbound Session, through which they send). Each direction runs its own
// HELLO -> WELCOME -> AUTH handshake, so each side checks the other's cookie
// proof before it sends anything to, or applies anything from, that peer.
// A peer is "up" once our Link to it has checked its WELCOME.
//
// Tolerated races, each handled where named:
// - a seed spelled differently from the peer's advertised endpoint gives two
//   links to one name: the second to check out is closed (on_reply(Welcome));
// - a restarted peer is first seen as a new creation on either side: the old
//   incarnation is reported down(restarted) before the new one goes up
//   (peer_up);
// - a frame from a connection of an old incarnation is ignored
//   (check_data_frame compares creations);
// - sends queued for a peer that goes down are dropped and counted
//   (peer_down).

#include "node/admin.hpp"
#include "node/link.hpp"
#include "node/node_core.hpp"
#include "node/outbound.hpp"
#include "node/peer_table.hpp"
#include "node/poll_set.hpp"
#include "node/rate_limited_log.hpp"
#include "node/receive.hpp"
#include "node/session.hpp"
#include "node/sockets.hpp"
#include "node/zap.hpp"
#include "wire/codec.hpp"
#include "wire/proof.hpp"

#include <zmq.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace liminal::detail {

class Actor {
public:
    // Binds the ROUTER and PUB and fills core.router_endpoint / pub_endpoint.
    // Runs on the constructing thread, before the I/O thread starts; throws
    // StartFailed on a bind failure.
    explicit Actor(NodeCore& core);
    ~Actor();

    // The I/O thread's body: returns once command::Stop came and BYE is done.
    void run();
    // A receiver leading in the I/O thread's place (Leadership, while the
    // I/O thread is parked): runs the poll loop on the calling thread until
    // `done()` or `deadline`. False once the node is stopping.
    // noexcept: what escapes the poll loop ends the process, as on the I/O
    // thread (it would leave the I/O lock held, and the actor half-way).
    bool lead(std::chrono::steady_clock::time_point deadline, const std::function<bool()>& done) noexcept;

private:
    using Clock = std::chrono::steady_clock;

    // What a data handler needs besides its message: the authenticated
    // session it came from and the frame its payloads point into.
    struct Inbound {
        const std::string& identity;  // the session's routing id
        Session& session;
        const std::shared_ptr<ReceivedFrame>& frame;
        PeerCounters* counters;  // the sender's, when it is a known peer
    };

    // Poll loop (poll_loop.cpp). One wait and whatever it found ready; true when something was.
    bool poll_once(std::chrono::milliseconds timeout);
    std::chrono::milliseconds next_timeout() const;
    void build_poll_set();
    // Runs the handler of every socket the last wait found ready.
    void dispatch_ready();
    // Expires half-done handshakes, closes rejected links, retries links
    // whose HELLO was never answered, forgets peers that said BYE a while ago.
    void sweep();
    // Links whose queue filled since the last look: a slow_consumer event
    // each, and a link cut off (OverflowPolicy::disconnect) is taken down
    // and reconnected.
    void check_slow_links();
    // Reconnects links whose WELCOME is overdue (the peer refused or lost
    // the HELLO: a full session table, say), with backoff.
    void retry_handshakes();
    // Closes links (not seeds) that have not been up for options.forget_after,
    // and forgets their peers.
    void forget_unreachable(Clock::time_point now);
    // Drops the views of peers that sent a SNAPSHOT while our link to them
    // was not up, and whose link is still not up 2 heartbeat timeouts later.
    void drop_unlinked_views(Clock::time_point now);
    // Ends the sessions whose connection closed (SessionTable::erase_disconnected),
    // and drops a view whose origin's connection it was while our link to it is not up.
    void end_disconnected_sessions();
    void on_router();
    // Connections the ZAP handler or the CurveZMQ handshake refused.
    void on_zap();
    void on_server_monitor(zmq::socket_t& monitor, Watch& watch, const char* socket);
    void on_sub(Subscription& sub);
    // Subscriptions to our PUB: which node's connection is which descriptor.
    void on_pub();
    void on_admin();
    // Sends admin_reply_; false while its client's queue is full (and the wait not over).
    bool send_admin_reply();
    void on_link_input(Link& link);
    void on_link_monitor(Link& link);

    // Frames on the ROUTER (router.cpp).
    // `connection`: the ZAP handler's name for the connection it came on.
    void on_router_frame(const std::string& identity, const Connection& connection, zmq::message_t&& frame);
    // Whether a frame of `size` bytes may be decoded at all (counted and logged when not).
    bool size_admitted(std::size_t size, bool authenticated);
    // Validates an authenticated peer's frame as a whole before any of it is applied.
    bool check_data_frame(const std::string& identity, const Session& session);
    void apply_data_frame(const std::string& identity, Session& session, const std::shared_ptr<ReceivedFrame>& frame);
    void reply(const std::string& identity, const wire::WireMessage& message);

    // Handshake and lifecycle (handshake.cpp).
    void send_hello(Link& link);
    // This node as its WELCOME names it, for the proofs.
    wire::Answerer self_as_answerer() const;
    void on_handshake(const std::string& identity, const Connection& connection, wire::Hello& hello,
                      std::string_view hello_bytes);
    void on_handshake(const std::string& identity, const Connection& connection, wire::Auth& auth,
                      std::string_view);
    void on_reply(Link& link, const wire::Welcome& welcome);
    void on_reply(Link& link, const wire::ByeAck&);
    void on_reply(Link& link, const wire::Leaving&);
    // Whether a proven WELCOME leads to a peer this link should go on with:
    // not this node itself, not an incarnation already linked another way.
    bool wanted(const Link& link, const wire::Welcome& welcome);
    bool on_data(Inbound& in, wire::Peers& peers);
    bool on_data(Inbound& in, wire::Bye& bye);
    // `name`'s incarnation `creation` stopped (BYE or LEAVING): down for good,
    // no longer linked to nor listened to.
    void departed(const std::string& name, std::uint64_t creation);
    // Stops linking to the incarnation behind `link`: closes it, or for a
    // seed opens it afresh, since a seed is whatever runs at its endpoint.
    void let_go(Link& link);
    // Stopping: tells the node of session `identity` that we leave, unless
    // our link to `name` is up (BYE goes there).
    void tell_leaving(const std::string& identity, const std::string& name);
    void learn(const wire::PeerAddress& address);
    void peer_up(Link& link, const wire::Welcome& welcome);
    void connect_sub(const std::string& name, Peer& peer, const std::string& pub);
    void disconnect_sub(Peer& peer);
    void announce(const std::string& name);
    void peer_down(const std::string& name, DownReason reason, const std::string& detail);
    void reject(const std::string& who, const std::string& why);
    // A connection failed the security handshake or ZAP (counted, logged; an event at most every second).
    void refused(const std::string& what);

    // SEND and PUBLISH go to delivery_.
    bool on_data(Inbound& in, wire::Send& send);
    bool on_data(Inbound& in, wire::Publish& publish);

    // Membership (gossip.cpp).
    // Publishes own deltas not yet gossiped, then (with_digest) a DIGEST.
    void gossip(bool with_digest);
    // `from`: the peer whose PUB it came from, the only origin it may speak for.
    void on_gossip_frame(zmq::message_t& frame, const std::string& from);
    // Fault injection (Options::testing): whether to discard this gossip frame.
    bool dropped_by_test();
    void on_gossip(wire::Delta& delta, membership::Effects& fx);
    void on_gossip(const wire::Digest& digest, membership::Effects& fx);
    bool on_data(Inbound& in, wire::Resync&);
    bool on_data(Inbound& in, wire::Snapshot& part);
    bool on_data(Inbound& in, wire::DigestAck& ack);
    void send_snapshot(Link& link);
    void apply_snapshot(Session& session);
    void membership_peer_up(const std::string& name, std::uint64_t creation, bool again);
    // `name`'s incarnation `creation` is gone (State::any_creation: whichever).
    void membership_peer_down(const std::string& name, std::uint64_t creation);
    // Partial partitions (reach.cpp). The peers this node sees up, sorted (its DIGEST's reach).
    std::vector<std::string> reach() const;
    // A DIGEST from `from` said which peers it sees up.
    void on_reach(const std::string& from, std::vector<std::string>& reach);
    // Which peers that are down for us are up for others (Peer::seen_up_by):
    // an event when such an episode begins, a log line when it ends.
    void check_reach();
    // Fault injection (faults.cpp): an admin "fault" request's args, its reply.
    nlohmann::json fault(const nlohmann::json& args);
    void partition(const std::string& name);
    void heal(const std::string& name);  // empty: every fault
    // Resyncs asked for within the backoff, sent once it has passed; how
    // long until the first of them is.
    void send_due_resyncs();
    void serve_snapshot(Peer& peer, Link& link, Clock::time_point now);
    Clock::duration until_resyncs_due() const;
    void count_purged(const std::string& name, const membership::Effects& fx);
    void carry_out(membership::Effects& fx);

    // What the API threads queued (commands.cpp): sends the queued messages,
    // then carries out the typed commands; `doorbell`: it rang (clear it).
    void on_commands(bool doorbell);
    // Packs the drained messages (outgoing_) into their links and flushes them.
    void send_outgoing();
    // Runs on a sender's thread, holding the I/O lock while this thread
    // sleeps in poll: sends the queued messages as on_commands would. False
    // when this thread must look after all (commands wait, a link has input
    // or frames waiting, or a slow consumer to report).
    bool send_queued_here();
    void on_command(const command::Stop&);
    void on_command(const command::Gossip&);
    void on_command(const command::PublishDigest&);
    void on_command(const command::Emit& emit);
    // Node keys: trusts `keys` from now on; nodes whose key went are revoked.
    void on_command(const command::TrustKeys& trust);
    void revoke(const std::string& name);
    // Closes every connection with `name` (ours and its, gossip included)
    // and reports it down: revoke, and fault injection's partition.
    void cut_off(const std::string& name, DownReason reason, const std::string& detail);

    // Links, events, shutdown (actor.cpp).
    // Null when node keys are in use and `name` has no trusted key.
    Link* open_link(const std::string& endpoint, const std::string& name, bool seed);
    // The CurveZMQ key the node called `name` serves with (empty: not trusted).
    std::string server_key(const std::string& name) const;
    void close_link(Link& link);
    void emit(PeerEvent event);
    void shutdown();

    NodeCore& core_;
    spdlog::logger& log_;
    RateLimitedLog bad_input_;                           // remote bad input, at most a line a second per kind
    const std::string identity_;                         // our routing id
    zmq::context_t context_;
    ZapHandler zap_;                                     // bound before any server socket
    zmq::socket_t router_;                               // bound; all directed traffic in
    zmq::socket_t pub_;                                  // bound (an XPUB); gossip out
    zmq::socket_t admin_;                                // bound when options.admin is set
    zmq::socket_t router_monitor_;                       // handshake failures on the ROUTER
    zmq::socket_t pub_monitor_;                          // ... on the PUB
    zmq::socket_t admin_monitor_;                        // ... and on the admin endpoint
    Watch router_watch_{router_};
    Watch pub_watch_{pub_};
    Watch router_monitor_watch_{router_monitor_};
    Watch pub_monitor_watch_{pub_monitor_};
    Watch admin_monitor_watch_{admin_monitor_};
    Watch admin_watch_{admin_};
    AdminService admin_service_;
    // An admin reply its client had no room for yet; dropped (and counted) at give_up.
    struct AdminReply {
        std::string client;  // routing id
        std::string answer;
        Clock::time_point give_up;
    };
    static constexpr auto admin_reply_wait = std::chrono::milliseconds(200);
    std::optional<AdminReply> admin_reply_;
    std::string admin_stuck_client_;  // the last client whose reply timed out

    TrustedKeys trusted_;                                // node keys: public key -> name, as last loaded
    // Node keys: the descriptor of each node's latest connection to our PUB.
    std::map<std::string, int> subscriber_fds_;
    std::set<int> subscribed_fds_;  // PUB connections that have subscribed (a new one gets a digest)
    PeerTable peers_;                                    // by peer name
    SessionTable sessions_{core_.testing.session_capacity};  // by inbound routing id
    std::map<std::string, std::unique_ptr<Link>> links_; // by peer ROUTER endpoint
    std::vector<std::unique_ptr<Link>> graveyard_;       // closed this iteration; freed at its end
    std::vector<std::unique_ptr<Subscription>> closed_subs_;  // the same for SUBs
    std::vector<std::string> ignored_endpoints_;         // endpoints that turned out to be this node
    std::uint64_t link_serial_ = 0;                      // names monitor endpoints uniquely
    // How long a link waits for WELCOME before it reconnects, by endpoint:
    // doubled at each retry, forgotten once the link is up.
    std::map<std::string, Clock::duration> handshake_wait_;
    // Peers whose view we hold while our link to them is not up, since when
    // (a restarted peer's backfill comes before our link is up; a view whose
    // link never comes up is dropped: it is nobody's to keep).
    std::map<std::string, Clock::time_point> unlinked_views_;
    bool resyncs_due_ = false;  // some peer's resync_due is set
    std::set<std::string> partitioned_;  // fault injection: peers we are cut off from

    PollSet poll_;                                       // rebuilt every iteration
    struct PolledLink {
        Link* link;
        std::size_t monitor;  // its slots in poll_
        std::size_t dealer;   // no_slot: not polled (Link::input_swept, and no frame waits)
    };
    static constexpr std::size_t no_slot = static_cast<std::size_t>(-1);
    std::vector<PolledLink> polled_links_;               // after the fixed slots
    std::vector<Subscription*> polled_subs_;             // in poll_ order, from first_sub_slot_
    std::size_t first_sub_slot_ = 0;

    std::unique_lock<std::mutex> io_;                    // CommandQueue::io_lock: held but in poll
    OutgoingBatch outgoing_;                             // drained from the API threads, reused
    Outbound outbound_{core_.counters, peers_};          // packs it into the links
    std::vector<wire::WireMessage> decoded_;             // the frame being handled, reused
    FrameDelivery delivery_{core_};                      // its SEND and PUBLISH messages

    Clock::time_point next_digest_;                      // when the periodic DIGEST is due
    Clock::time_point last_sweep_{};                     // when sweep() last ran
    Clock::time_point last_refusal_event_{};             // when refused() last emitted an event
    std::uint64_t drop_state_;                           // fault injection's random state
    bool stop_requested_ = false;                        // command::Stop came: leave the loop
    // While a receiver leads (lead()): what it waits for. Once that came, the
    // ROUTER's remaining input is left for the next poll (it stays touched):
    // the receiver's message should not wait for the frames behind it.
    const std::function<bool()>* leader_done_ = nullptr;
    std::vector<std::string> told_leaving_;              // stopping: sessions sent LEAVING (shutdown waits for them to close)
};

}  // namespace liminal::detail
