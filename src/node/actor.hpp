#pragma once
// The node's I/O thread: owns every ZeroMQ socket, runs the poll loop and
// carries out the protocol (docs/PROTOCOL.md).
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
//   links to one name: the second to check out is closed (on_welcome);
// - a restarted peer is first seen as a new creation on either side: the old
//   incarnation is reported down(restarted) before the new one goes up
//   (peer_up);
// - a BYE or SEND from a connection of an old incarnation is ignored
//   (on_router_frame compares creations);
// - sends queued for a peer that goes down are dropped and counted
//   (peer_down).

#include "node/admin.hpp"
#include "node/delivery.hpp"
#include "node/node_core.hpp"
#include "node/links.hpp"
#include "wire/codec.hpp"

#include <zmq.hpp>

#include <poll.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace liminal::detail {

// A frame from a peer and what its deliveries share: every delivered
// message's payload is a view into `message`, and the senders, headers and
// envelopes of its messages live here too, so a frame costs one allocation
// however many messages it carries, and a delivery one reference to it.
// The vectors are reserved for the whole frame before the first element is
// added: they never reallocate under a message that points into them.
struct ReceivedFrame {
    explicit ReceivedFrame(zmq::message_t&& frame) : message(std::move(frame)) {}
    // Reserves room for the data messages in `decoded`.
    void reserve_for(const std::vector<wire::WireMessage>& decoded);

    zmq::message_t message;
    std::vector<Pid> senders;
    std::vector<Headers> headers;
    std::vector<Envelope> envelopes;
};

class Actor {
public:
    // Binds the ROUTER and PUB and fills core.router_endpoint / pub_endpoint.
    // Runs on the constructing thread, before the I/O thread starts; throws
    // liminal::Error on a bind failure.
    explicit Actor(NodeCore& core);
    ~Actor();

    // The I/O thread's body: returns once command::Stop came and BYE is done.
    void run();

private:
    using Clock = std::chrono::steady_clock;

    // An inbound connection on our ROUTER, by routing id.
    struct Session {
        bool authenticated = false;
        // A SNAPSHOT arriving in parts: applied once the last part is in.
        std::vector<membership::GroupIds> snapshot_groups;
        std::uint64_t snapshot_seq = 0;
        std::uint64_t snapshot_next_part = 0;
        std::size_t snapshot_ids = 0;
        wire::Hello hello;             // the claims, applied only once AUTH checks out
        std::string hello_bytes;
        wire::Nonce server_nonce{};
        Clock::time_point started;
    };

    // What we know of a peer node, by name.
    struct Peer {
        std::uint64_t creation = 0;
        std::string router;
        std::string pub;
        PeerState state = PeerState::connecting;
        Link* link = nullptr;           // our link to it, when one exists
        std::chrono::system_clock::time_point since;
        std::shared_ptr<PeerCounters> counters = std::make_shared<PeerCounters>();
        Clock::time_point last_resync{};  // when we last asked it for a snapshot
        std::optional<Clock::time_point> departed;  // said BYE: forgotten a while after
    };

    // Poll loop. One wait and whatever it found ready; true when something was.
    bool poll_once(std::chrono::milliseconds timeout);
    std::chrono::milliseconds next_timeout() const;
    // Expires half-done handshakes, closes rejected links, forgets peers
    // that said BYE a while ago.
    void sweep();

    // Inputs.
    void on_router();
    void on_router_frame(const std::string& identity, zmq::message_t&& frame);
    bool check_session_frame(const std::string& identity, const Session& session);
    void on_sub();
    void on_admin();
    void on_link_input(Link& link);
    void on_link_monitor(Link& link);

    // Handshake and lifecycle (handshake.cpp).
    void send_hello(Link& link);
    void on_hello(const std::string& identity, wire::Hello& hello, std::string_view hello_bytes);
    void on_auth(const std::string& identity, const wire::Auth& auth);
    void on_welcome(Link& link, const wire::Welcome& welcome);
    void on_bye(const std::string& identity, const wire::Hello& who);
    void on_send(const Session& session, wire::Send& send, const std::shared_ptr<ReceivedFrame>& frame);

    // Membership and channels (gossip.cpp).
    // Publishes own deltas not yet gossiped, then (with_digest) a DIGEST.
    void gossip(bool with_digest);
    void on_gossip_frame(zmq::message_t& frame);
    void on_publish(const Session& session, wire::Publish& publish, const std::shared_ptr<ReceivedFrame>& frame);
    // The sender of a message in `frame`, shared by consecutive messages of
    // the same process; null only if the frame has no room left (never, when
    // reserve_for counted right).
    const Pid* frame_sender(ReceivedFrame& frame, const Session& session, std::uint64_t id);
    // Adds the PUBLISH messages received for publish_route_ to its channel's count.
    void count_route_received();
    // Counts and forgets what was cached for the frame just applied.
    void end_frame();
    void on_resync(const Session& session);
    void on_snapshot_part(Session& session, wire::Snapshot& part);
    void on_digest_ack(const Session& session, const wire::DigestAck& ack);
    void send_snapshot(Link& link);
    void membership_peer_up(const std::string& name, std::uint64_t creation, bool again);
    void membership_peer_down(const std::string& name);
    void carry_out(membership::Effects& fx);
    Link* up_link(const std::string& name);
    void learn(const wire::PeerAddress& address);
    void peer_up(Link& link, const wire::Welcome& welcome);
    void announce(const std::string& name);
    void peer_down(const std::string& name, DownReason reason, const std::string& detail);
    void reject(const std::string& who, const std::string& why);
    std::vector<wire::PeerAddress> known_peers() const;

    // Outputs (outbound.cpp).
    // Sends what the API threads queued, then carries out their commands;
    // `doorbell`: it rang (clear it).
    void on_commands(bool doorbell);
    void on_command(const command::Stop&);
    void on_command(const command::Gossip&);
    void on_command(const command::PublishDigest&);
    // Queues one message from the API threads into its nodes' frames.
    void queue_outgoing(const Outgoing& item, std::string_view message);
    void queue_encoded(Link& link, std::string_view message);
    void flush(Link& link);
    void send_frame(Link& link, std::string bytes, std::size_t messages);
    void on_link_writable(Link& link);
    void drop_pending(Link& link, std::atomic<std::uint64_t>& counter);
    void reply(const std::string& identity, const wire::WireMessage& message);

    // Links and lifecycle.
    Link& open_link(const std::string& endpoint, bool seed);
    void close_link(Link& link);
    void publish_directory(const std::string& name);
    void emit(PeerEvent event);
    void shutdown();

    // Logging of remote bad input, at most once a second per kind.
    void log_bad_input(const std::string& kind, const std::string& detail);

    NodeCore& core_;
    spdlog::logger& log_;
    const std::string identity_;                         // our routing id
    zmq::context_t context_;
    zmq::socket_t router_;                               // bound; all directed traffic in
    zmq::socket_t pub_;                                  // bound; gossip out (next issue)
    zmq::socket_t sub_;                                  // connected to every peer's PUB
    zmq::socket_t admin_;                                // bound when options.admin is set
    Watch router_watch_{router_};
    Watch sub_watch_{sub_};
    Watch admin_watch_{admin_};
    AdminService admin_service_;
    std::map<std::string, std::unique_ptr<Link>> links_; // by peer ROUTER endpoint
    std::map<std::string, Peer> peers_;                  // by peer name
    std::unordered_map<std::string, Session> sessions_;  // by inbound routing id
    std::map<std::string, std::string> sub_connected_;   // peer name -> PUB endpoint the SUB connects to
    std::vector<std::unique_ptr<Link>> graveyard_;      // closed this iteration; freed at its end
    std::vector<std::string> ignored_endpoints_;         // endpoints that turned out to be this node
    std::uint64_t link_serial_ = 0;                      // names monitor endpoints uniquely
    // The poll set, rebuilt every iteration: pollfds_[0] is the doorbell,
    // pollfds_[i + 1] belongs to polled_[i].
    struct Polled {
        zmq::socket_t* socket = nullptr;
        Watch* watch = nullptr;
        short want = 0;      // ZMQ_POLLIN and/or ZMQ_POLLOUT
        short ready = 0;     // of `want`, what ZMQ_EVENTS reported
    };
    std::vector<Polled> polled_;
    std::vector<pollfd> pollfds_;
    std::vector<Link*> polled_links_;                    // polled_[fixed + 2i], [fixed + 2i + 1]: its dealer, monitor
    OutgoingBatch outgoing_;                             // drained from the API threads, reused
    // The links of the last route queue_outgoing resolved, valid for one batch
    // (nothing changes links while a batch is queued).
    const ChannelRoute* resolved_route_ = nullptr;
    std::vector<Link*> resolved_links_;
    std::uint64_t batch_publishes_out_ = 0;              // PUBLISH copies queued in this batch
    std::vector<wire::WireMessage> decoded_;             // decoded frame, reused
    DeliveryBatch deliveries_;                           // the current frame's deliveries
    std::shared_ptr<const ChannelRoute> publish_route_;  // the current frame's last PUBLISH channel ...
    std::vector<std::shared_ptr<Mailbox>> publish_mailboxes_;  // ... and its local subscribers' mailboxes
    std::uint64_t frame_publishes_ = 0;                  // PUBLISH messages in the current frame
    std::uint64_t route_received_ = 0;                   // of those, delivered by publish_route_
    std::unordered_map<std::string, std::pair<Clock::time_point, std::uint64_t>> bad_input_log_;
    Clock::time_point next_digest_;                      // when the periodic DIGEST is due
    Clock::time_point last_sweep_{};                     // when sweep() last ran
    std::uint64_t drop_state_;                           // fault injection's random state
    bool stop_requested_ = false;                        // command::Stop came: leave the loop
};

}  // namespace liminal::detail
