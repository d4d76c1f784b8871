#include "node/link.hpp"

#include <spdlog/fmt/fmt.h>

#include <zmq.h>

#include <algorithm>

namespace liminal::detail {
namespace {

constexpr std::size_t max_pack_bytes = 256 * 1024;

}  // namespace

Link::Link(zmq::context_t& context, const Options& options, const CurveKeypair& own, const std::string& server_key,
           std::string endpoint, std::string expected, const std::string& identity, std::uint64_t serial, bool seed,
           Counters& counters, Backpressure& backpressure, RateLimitedLog& bad_input)
    : endpoint_(std::move(endpoint)), connect_to_(connect_endpoint(endpoint_, options.source_address)),
      expected_(std::move(expected)), server_key_(server_key), seed_(seed), queue_limit_(options.limits.peer_queue_bytes),
      policy_(options.limits.peer_overflow),
      // Under block, senders wait from half the limit on, so what reaches
      // the link after that is at most what the outbound queue held then.
      hard_limit_(queue_limit_ + (policy_ == OverflowPolicy::block ? options.limits.outbound_queue_bytes : 0)),
      pack_limit_(std::min(max_pack_bytes, options.limits.max_frame_bytes)), counters_(counters),
      backpressure_(backpressure),
      bad_input_(bad_input), dealer_(context, zmq::socket_type::dealer), monitor_(context, zmq::socket_type::pair),
      dealer_watch_(dealer_), monitor_watch_(monitor_) {
    configure_peer_socket(dealer_, options);
    dealer_.set(zmq::sockopt::routing_id, identity);
    // No pipe until a handshake completes: nothing queued for a dead peer is
    // delivered to its restarted incarnation (ZMQ-NOTES §4).
    dealer_.set(zmq::sockopt::immediate, 1);
    dealer_.set(zmq::sockopt::reconnect_ivl, 100);
    dealer_.set(zmq::sockopt::reconnect_ivl_max, 5000);
    dealer_.set(zmq::sockopt::connect_timeout, 2000);

    secure_client(dealer_, options.security, own, server_key_);
    start_monitor(dealer_, monitor_, "inproc://liminal-link-" + std::to_string(serial),
                  ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
                      handshake_failed_events);
    dealer_.connect(connect_to_);
}

Link::~Link() {
    drop_pending(counters_.dropped_node_down);  // the peer is gone: nothing more goes to it
    set_congested(false);  // a closed link holds no sender up
    zmq_socket_monitor(dealer_.handle(), nullptr, 0);
    dealer_.close();
    monitor_.close();
}

void Link::send_hello(const wire::Hello& hello) {
    std::string frame = wire::encode_frame(hello);
    nonce_ = hello.nonce;
    hello_bytes_ = frame.substr(1);
    state_ = State::hello_sent;
    hello_sent_at_ = Clock::now();
    // A reconnect runs the handshake again; anything packed before belongs to the old connection.
    drop_pending(counters_.dropped_node_down);
    send_frame(std::move(frame), 0);
}

void Link::came_up(const std::string& name, std::uint64_t creation, std::shared_ptr<PeerCounters> counters) {
    state_ = State::up;
    peer_name_ = name;
    peer_creation_ = creation;
    peer_counters_ = std::move(counters);
    if (peer_counters_) peer_counters_->congested.store(congested_, std::memory_order_relaxed);
}

void Link::went_down() {
    drop_pending(counters_.dropped_node_down);
    if (state_ == State::up) {
        not_up_since_ = Clock::now();
        state_ = State::connecting;
    }
}

void Link::disconnected() {
    drop_pending(counters_.dropped_node_down);
    if (state_ == State::up) not_up_since_ = Clock::now();
    state_ = State::connecting;
}

void Link::send_frame(std::string bytes, std::size_t messages, std::size_t publishes) {
    if (bye_sent_ || cut_off_) {  // stopping: the peer has forgotten this connection; or cut off
        drop(cut_off_ ? counters_.dropped_slow_consumer : counters_.dropped_node_down, messages);
        return;
    }
    if (messages == 0) flush(true);     // a control frame goes after every message packed before it
    const std::size_t size = bytes.size();
    zmq::message_t message = to_message(std::move(bytes));
    if (pending_.empty()) {
        dealer_watch_.touched = true;
        if (send_now(message)) {
            count_sent(size, messages, publishes);
            if (queued_bytes() * 4 < queue_limit_) uncongested();
            return;
        }
    }
    // Data frames were given room when packed; a control frame is never
    // dropped (the protocol would lose its place), but one that finds the
    // queue at twice its (hard) limit means the peer has stopped reading.
    if (messages == 0 && pending_bytes_ + size > 2 * hard_limit_) {
        cut_off_ = true;
        congested();
        drop_pending(counters_.dropped_slow_consumer);
        return;
    }
    pending_bytes_ += size;
    pending_.push_back(PendingFrame{std::move(message), messages, publishes});
}

bool Link::make_room(std::size_t bytes) {
    if (queued_bytes() + bytes <= hard_limit_) return true;
    congested();
    switch (policy_) {
    case OverflowPolicy::drop_oldest: {
        // The oldest waiting data frames go; control frames keep their place.
        std::size_t dropped = 0;
        for (auto it = pending_.begin(); it != pending_.end() && queued_bytes() + bytes > hard_limit_;) {
            if (it->messages == 0) {
                ++it;
                continue;
            }
            dropped += it->messages;
            pending_bytes_ -= it->message.size();
            it = pending_.erase(it);
        }
        drop(counters_.dropped_backpressure, dropped);
        return queued_bytes() + bytes <= hard_limit_;
    }
    case OverflowPolicy::disconnect:
        cut_off_ = true;
        drop_pending(counters_.dropped_slow_consumer);
        return false;
    case OverflowPolicy::drop_newest:
    case OverflowPolicy::block:  // senders that ignored the wait (none on this node's API)
        return false;
    }
    return false;
}

void Link::set_congested(bool congested) {
    if (congested_ == congested) return;
    congested_ = congested;
    if (peer_counters_) peer_counters_->congested.store(congested, std::memory_order_relaxed);
    if (congested)
        backpressure_.congested();
    else
        backpressure_.drained();
}

void Link::congested() {
    set_congested(true);
    if (slow_) return;
    slow_ = true;
    slow_report_ = true;
    bump(counters_.slow_consumers);
    if (peer_counters_) bump(peer_counters_->slow_consumers);
}

void Link::uncongested() {
    slow_ = false;
    set_congested(false);
}

void Link::reconnect() {
    drop_pending(counters_.dropped_slow_consumer);
    // A fresh connection: ZeroMQ drops what its pipe held (linger 0), the
    // monitor reports the disconnect and the handshake runs again.
    dealer_.disconnect(connect_to_);
    dealer_.connect(connect_to_);
    state_ = State::connecting;
    cut_off_ = false;
}

void Link::count_sent(std::size_t bytes, std::size_t messages, std::size_t publishes) {
    sent_ = true;
    bump(counters_.frames_out);
    bump(counters_.bytes_out, bytes);
    if (messages != 0) {
        Counters::Entry entry(counters_.ledger);
        counters_.in_flight_peers.fetch_sub(messages, std::memory_order_relaxed);
        bump(counters_.sends_remote, messages - publishes);
        bump(counters_.publish_frames_out, publishes);
    }
    if (peer_counters_) {
        bump(peer_counters_->messages_out, messages);
        bump(peer_counters_->bytes_out, bytes);
    }
}

void Link::drop(std::atomic<std::uint64_t>& counter, std::size_t messages) {
    if (messages == 0) return;
    settle(counters_, counters_.in_flight_peers, counter, messages);
    if (peer_counters_) bump(peer_counters_->dropped, messages);
}

bool Link::pack(std::string_view message, bool publish) {
    if (bye_sent_) {
        drop(counters_.dropped_node_down, 1);  // stopping: nothing may follow BYE
        return false;
    }
    if (cut_off_ || !make_room(message.size())) {
        drop(cut_off_ ? counters_.dropped_slow_consumer : counters_.dropped_backpressure, 1);
        bad_input_.dropped("backpressure", fmt::format("peer {} is not keeping up; dropping its messages", endpoint_));
        return false;
    }
    if (packing_.size() + message.size() > pack_limit_) flush(true);
    packing_.add_encoded(message);
    ++packing_messages_;
    if (publish) ++packing_publishes_;
    // Senders under OverflowPolicy::block wait from half the limit on.
    if (policy_ == OverflowPolicy::block && queued_bytes() * 2 >= queue_limit_) congested();
    return true;
}

bool Link::send_now(zmq::message_t& message) {
    if (dealer_.send(message, zmq::send_flags::dontwait)) return true;
    // The pipe may have room that ZeroMQ has not been told of: the peer's
    // reads come back as commands (every send_hwm / 2 frames) that a send
    // processes only about once a millisecond. Asking ZMQ_EVENTS processes
    // them; a sender does not ask after sending on a DEALER the poll leaves
    // out (Actor::send_queued_here), so a full pipe is where it is asked.
    if ((dealer_.get(zmq::sockopt::events) & ZMQ_POLLOUT) == 0) return false;
    return dealer_.send(message, zmq::send_flags::dontwait).has_value();
}

void Link::flush(bool force) {
    if (packing_.empty()) return;
    // While frames wait for the DEALER, messages keep filling the frame
    // being packed: what waits in ZeroMQ's pipe (send_hwm frames) is then
    // few large frames, not many small ones.
    if (!force && !pending_.empty() && packing_.size() < pack_limit_) return;
    const std::size_t messages = packing_messages_, publishes = packing_publishes_;
    packing_messages_ = packing_publishes_ = 0;
    send_frame(packing_.take(), messages, publishes);
}

void Link::drop_pending(std::atomic<std::uint64_t>& counter) {
    std::size_t dropped = packing_messages_;
    for (const auto& frame : pending_) dropped += frame.messages;
    drop(counter, dropped);
    pending_.clear();
    pending_bytes_ = 0;
    packing_.clear();
    packing_messages_ = packing_publishes_ = 0;
    uncongested();
}

void Link::on_writable() {
    while (!pending_.empty()) {
        PendingFrame& front = pending_.front();
        const std::size_t size = front.message.size();
        if (!dealer_.send(front.message, zmq::send_flags::dontwait)) return;
        pending_bytes_ -= size;
        count_sent(size, front.messages, front.publishes);
        pending_.pop_front();
        if (queued_bytes() * 4 < queue_limit_) uncongested();
    }
    flush(true);  // what was packed while the DEALER was busy
}

void Link::send_bye(const wire::Bye& bye) {
    flush(true);
    send(bye);
    bye_sent_ = true;
}

std::optional<zmq::message_t> Link::receive() {
    zmq::message_t frame;
    if (!dealer_.recv(frame, zmq::recv_flags::dontwait)) {
        // Writability matters only while frames wait: then ZMQ_EVENTS must say.
        if (pending_.empty()) dealer_watch_.drained();
        return std::nullopt;
    }
    return frame;
}

std::optional<MonitorEvent> Link::next_event() {
    auto event = read_monitor_event(monitor_);
    if (!event) monitor_watch_.drained();
    return event;
}

bool Link::retry_report_due() {
    const auto now = Clock::now();
    if (now - last_retry_report_ <= std::chrono::seconds(5)) return false;
    last_retry_report_ = now;
    return true;
}

}  // namespace liminal::detail
