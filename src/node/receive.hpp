#pragma once
// SEND and PUBLISH from peers into local mailboxes, one received frame at a
// time: the frame's deliveries are gathered and handed to each mailbox in one
// batch when the frame is done (finish), and its payloads, senders, headers
// and envelopes stay in the frame's block (ReceivedFrame): no copy per
// delivery. Runs on the I/O thread.

#include "node/delivery.hpp"
#include "node/node_core.hpp"
#include "node/session.hpp"
#include "wire/messages.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <memory>
#include <string_view>
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

class FrameDelivery {
public:
    explicit FrameDelivery(NodeCore& core) : core_(core) {}

    // One message of `frame`, from the authenticated `session`.
    void send(const Session& session, wire::Send& send, const std::shared_ptr<ReceivedFrame>& frame);
    void publish(const Session& session, wire::Publish& publish, const std::shared_ptr<ReceivedFrame>& frame);
    // The frame is done: delivers everything, counts it, forgets the frame.
    void finish();

private:
    // The sender of a message in `frame`, shared by consecutive messages of
    // the same process; null only if the frame has no room left (never, when
    // reserve_for counted right).
    const Pid* sender(ReceivedFrame& frame, const Session& session, std::uint64_t id);
    // Points the cached route and mailboxes at `channel`.
    void cache_route(std::string_view channel);
    // Adds the PUBLISH messages received for the cached route to its channel's count.
    void count_route_received();

    NodeCore& core_;
    DeliveryBatch deliveries_;                           // the frame's deliveries
    std::size_t frame_bytes_ = 0;                        // the size of the frame they came in
    // A frame usually carries many publishes to one channel: its route and
    // mailboxes are looked up once per frame.
    std::shared_ptr<const ChannelRoute> route_;          // the frame's last PUBLISH channel ...
    std::vector<std::shared_ptr<Mailbox>> mailboxes_;    // ... and its local subscribers' mailboxes
    std::uint64_t publishes_ = 0;                        // PUBLISH messages in the frame
    std::uint64_t route_received_ = 0;                   // of those, delivered by route_
    // Messages of the frame that reach no mailbox, counted (accepted and
    // dropped) once per frame:
    std::uint64_t stale_ = 0;                            // SENDs to an earlier incarnation's pid
    std::uint64_t gone_ = 0;                             // to no process: SENDs, and publishes to subscribers gone
};

}  // namespace liminal::detail
