#pragma once
// Our outbound connection to one peer's ROUTER: a DEALER and its monitor, the
// handshake of the current connection, and everything waiting to be sent on
// it. A Link owns its sending: messages are packed into frames, frames go
// straight to the DEALER or wait (bounded in bytes) until it is writable.
// Runs on the I/O thread, or a sender holding the I/O lock (actor.hpp).

#include "node/counters.hpp"
#include "node/node_keys.hpp"
#include "node/rate_limited_log.hpp"
#include "node/sockets.hpp"
#include "wire/codec.hpp"

#include <liminal/options.hpp>

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace liminal::detail {

class Link {
public:
    using Clock = std::chrono::steady_clock;

    enum class State : std::uint8_t {
        connecting,  // TCP/ZMTP not up yet, or dropped and reconnecting
        hello_sent,  // ZMTP up, HELLO sent, waiting for WELCOME
        up,          // WELCOME checked, AUTH sent: traffic may flow
    };

    // Connects at once; ZeroMQ reconnects by itself until the link is closed.
    // `own`, `server_key`: the CurveZMQ keys of this node and of the peer;
    // `expected`: the peer's name when it is known before its WELCOME (from
    // PEERS, or a NAME=ENDPOINT seed), else empty.
    Link(zmq::context_t& context, const Options& options, const CurveKeypair& own, const std::string& server_key,
         std::string endpoint, std::string expected, const std::string& identity, std::uint64_t serial, bool seed,
         Counters& counters, Backpressure& backpressure, RateLimitedLog& bad_input);
    ~Link();
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;

    const std::string& endpoint() const noexcept { return endpoint_; }
    const std::string& expected() const noexcept { return expected_; }
    bool seed() const noexcept { return seed_; }  // configured as a seed (reported while unreachable)
    State state() const noexcept { return state_; }
    bool up() const noexcept { return state_ == State::up; }

    // The handshake of the current connection (handshake.cpp drives it).
    // Sends HELLO; anything packed before belongs to the old connection and is dropped.
    void send_hello(const wire::Hello& hello);
    const wire::Nonce& nonce() const noexcept { return nonce_; }
    // HELLO went out longer than `timeout` ago and no WELCOME came.
    bool handshake_overdue(Clock::duration timeout) const {
        return state_ == State::hello_sent && Clock::now() - hello_sent_at_ > timeout;
    }
    const std::string& hello_bytes() const noexcept { return hello_bytes_; }  // what both proofs bind
    // WELCOME checked out: traffic to `name` may flow, counted in `counters`.
    void came_up(const std::string& name, std::uint64_t creation, std::shared_ptr<PeerCounters> counters);
    // The connection dropped (or its peer went down): what waits is dropped
    // and counted under dropped_node_down; ZeroMQ reconnects.
    void went_down();
    // ZeroMQ reports the connection lost: the same, and a handshake in
    // progress is abandoned too.
    void disconnected();
    // Not up since `now - duration` or earlier (or never up since it was opened).
    bool not_up_for(Clock::duration duration, Clock::time_point now) const {
        return !up() && now - not_up_since_ >= duration;
    }
    Clock::time_point not_up_since() const noexcept { return not_up_since_; }
    // A link reopened in place of an older one (a retried handshake) goes on from its time.
    void set_not_up_since(Clock::time_point since) noexcept { not_up_since_ = since; }
    // The peer behind the link once a WELCOME checked out (kept across drops).
    const std::string& peer_name() const noexcept { return peer_name_; }
    std::uint64_t peer_creation() const noexcept { return peer_creation_; }

    // Sending a control frame (handshake, snapshot, acks): never dropped for
    // a slow peer, but one that would take the queue past twice its limit
    // cuts the link off (cut_off()) whatever the policy.
    void send(const wire::WireMessage& message) { send_frame(wire::encode_frame(message), 0); }
    // `messages`: the SEND and PUBLISH messages in it, `publishes` of them PUBLISH.
    void send_frame(std::string bytes, std::size_t messages, std::size_t publishes = 0);
    // Packs one encoded SEND or PUBLISH (`publish`) into the next frame
    // (sent by flush()), if the queue has room under limits.peer_overflow:
    // false when it was dropped. The message is in flight (the ledger's
    // in_flight_peers) from the moment the API queued it; the link counts
    // where it ends: handed to ZeroMQ (sends_remote, publish_frames_out) or
    // dropped, under its reason.
    bool pack(std::string_view message, bool publish);
    // Sends the frame being packed; unless `force`, it keeps filling while
    // earlier frames wait for the DEALER.
    void flush(bool force = false);
    // The queue went over its limit under OverflowPolicy::disconnect, or a
    // control frame found no room: the actor takes the peer down and
    // reconnects (reconnect()).
    bool cut_off() const noexcept { return cut_off_; }
    void reconnect();
    // A slow-consumer report or a cut-off waits for the actor (check_slow_links).
    bool needs_report() const noexcept { return slow_report_ || cut_off_; }
    // A slow-consumer episode began since the last call (reported once: the
    // next only after the queue drained below a quarter of its limit).
    bool take_slow_report() noexcept { return std::exchange(slow_report_, false); }
    // Bytes waiting in this link's own queue (pending frames and packing).
    std::size_t queued_bytes() const noexcept { return pending_bytes_ + packing_.size(); }
    // Forgets everything waiting or packed; counts its messages in `counter`.
    void drop_pending(std::atomic<std::uint64_t>& counter);
    // The DEALER is writable: frames that waited go now, in order.
    void on_writable();
    bool waiting() const noexcept { return !pending_.empty(); }
    // Sends BYE; nothing may follow it on this link.
    void send_bye(const wire::Bye& bye);
    bool bye_sent() const noexcept { return bye_sent_; }
    void bye_acked() noexcept { bye_acked_ = true; }
    // Up, BYE sent, not acknowledged yet.
    bool awaiting_bye_ack() const noexcept { return up() && !bye_acked_; }
    // Whether a reply is due on the DEALER: WELCOME or LEAVING answers our
    // HELLO, BYE_ACK our BYE. Not up (connecting): a reply to an earlier
    // HELLO may still be in the pipe. An up link that sent no BYE is due
    // none; a stopping peer's LEAVING may still come unasked.
    bool replies_due() const noexcept { return state_ != State::up || bye_sent_; }
    // Whether the DEALER's input is left to Actor::sweep instead of the poll:
    // nothing is due on it, and it sends. Its descriptor then fires for
    // ZeroMQ's flow control every few frames sent (every send_hwm / 2),
    // which would wake the poller for nothing.
    bool input_swept() const noexcept { return !replies_due() && (sent_ || sent_before_); }
    // A sweep period ends (Actor::sweep): a link sends while it sent in this one or the last.
    void sweep_period_over() noexcept {
        sent_before_ = sent_;
        sent_ = false;
    }
    // What the poll set asked of the DEALER in its last iteration (the actor's):
    // ZMQ_POLLIN and/or ZMQ_POLLOUT, or 0.
    short polled() const noexcept { return polled_; }
    void set_polled(short want) noexcept { polled_ = want; }

    // Input, for the poll loop: a frame or a monitor event, if one is waiting.
    std::optional<zmq::message_t> receive();
    std::optional<MonitorEvent> next_event();
    zmq::socket_t& dealer() noexcept { return dealer_; }
    zmq::socket_t& monitor() noexcept { return monitor_; }
    Watch& dealer_watch() noexcept { return dealer_watch_; }
    Watch& monitor_watch() noexcept { return monitor_watch_; }

    // Closing: a closed link reads and sends nothing more and is destroyed at
    // the end of the poll iteration; a rejected one is no longer up and is
    // closed after a delay (what it sent last may still go out).
    bool closing() const noexcept { return closing_; }
    void mark_closing() noexcept { closing_ = true; }
    void close_after(Clock::duration delay) {
        state_ = State::connecting;
        close_at_ = Clock::now() + delay;
    }
    const std::optional<Clock::time_point>& close_at() const noexcept { return close_at_; }

    // A security handshake failed: whether to report it now. A protocol or
    // ZAP failure (`certain`) is reported at once, a broken-off handshake
    // only when it happens twice in a row (the server closes on a wrong key
    // without a word, but so does a connection that breaks); each link
    // reports once.
    bool report_refusal(bool certain) noexcept {
        ++failed_handshakes_;
        if (refused_ || (!certain && failed_handshakes_ < 2)) return false;
        refused_ = true;
        return true;
    }
    void handshake_succeeded() noexcept { failed_handshakes_ = 0; }

    // Whether an unreachable-peer warning is due (at most every 5 s).
    bool retry_report_due();

private:
    // A frame waiting for a slow or not yet writable peer.
    struct PendingFrame {
        zmq::message_t message;
        std::size_t messages = 0;   // SEND and PUBLISH messages in it
        std::size_t publishes = 0;  // of those, PUBLISH
    };
    void count_sent(std::size_t bytes, std::size_t messages, std::size_t publishes);
    // Sends without waiting; false: the DEALER has no room even after
    // ZeroMQ's flow-control commands were processed.
    bool send_now(zmq::message_t& message);
    // Room for `bytes` more under the policy (dropping the oldest data frames
    // for drop_oldest); false: the new message is to be dropped.
    bool make_room(std::size_t bytes);
    // Messages in flight dropped, counted for the node (the ledger) and the peer.
    void drop(std::atomic<std::uint64_t>& counter, std::size_t messages);
    void set_congested(bool congested);  // what senders under OverflowPolicy::block see
    void congested();   // the queue is full: a slow-consumer episode, reported once
    void uncongested(); // below half its limit again

    const std::string endpoint_;        // the peer ROUTER endpoint we connect to
    const std::string connect_to_;      // the same, from Options::source_address
    const std::string expected_;        // the peer's name, if known before its WELCOME
    const std::string server_key_;      // the CurveZMQ key its ROUTER must prove
    const bool seed_;
    Clock::time_point not_up_since_ = Clock::now();
    const std::size_t queue_limit_;     // limits.peer_queue_bytes
    const OverflowPolicy policy_;       // limits.peer_overflow
    const std::size_t hard_limit_;      // where messages are dropped (above queue_limit_ under block)
    const std::size_t pack_limit_;      // the largest frame pack() builds
    Counters& counters_;
    Backpressure& backpressure_;
    RateLimitedLog& bad_input_;
    zmq::socket_t dealer_;
    zmq::socket_t monitor_;             // PAIR reading the dealer's monitor events
    Watch dealer_watch_;
    Watch monitor_watch_;

    State state_ = State::connecting;
    wire::Nonce nonce_{};               // our HELLO challenge on the current connection
    std::string hello_bytes_;           // the HELLO message we sent
    Clock::time_point hello_sent_at_{};
    std::string peer_name_;
    std::uint64_t peer_creation_ = 0;
    std::shared_ptr<PeerCounters> peer_counters_;  // the peer's, once up

    std::deque<PendingFrame> pending_;  // frames the DEALER would not take yet
    std::size_t pending_bytes_ = 0;
    wire::FrameWriter packing_;         // messages being packed into the next frame
    std::size_t packing_messages_ = 0;
    std::size_t packing_publishes_ = 0;
    bool bye_sent_ = false;
    bool bye_acked_ = false;
    bool cut_off_ = false;
    bool slow_ = false;                 // in a slow-consumer episode
    bool congested_ = false;            // told to backpressure_ and the peer's counters
    bool slow_report_ = false;

    bool closing_ = false;
    short polled_ = 0;
    bool sent_ = false;         // a frame went to the DEALER in this sweep period
    bool sent_before_ = false;  // ... in the one before
    std::optional<Clock::time_point> close_at_;
    Clock::time_point last_retry_report_{};
    bool refused_ = false;
    int failed_handshakes_ = 0;         // in a row, since the last that succeeded
};

}  // namespace liminal::detail
