// What the API threads queued, on the I/O thread: the batch's messages go
// into their peers' next frames first (Outbound), then its typed commands
// are carried out in order, each by its own handler.

#include "node/actor.hpp"

namespace liminal::detail {

void Actor::on_commands(bool doorbell) {
    core_.commands.drain(outgoing_, doorbell);
    send_outgoing();
    for (const auto& command : outgoing_.commands) std::visit([this](const auto& c) { on_command(c); }, command);
}

void Actor::send_outgoing() {
    // The batch's room in the command queue comes back once its messages are
    // in their peers' queues, whatever happens here (CommandQueue::packed).
    struct Packed {
        CommandQueue& commands;
        ~Packed() { commands.packed(); }
    } packed{core_.commands};
    if (core_.testing.packing) core_.testing.packing(outgoing_.bytes.size());
    outbound_.pack(outgoing_);
    outgoing_.routes.clear();  // nothing may point at the batch's routes after this
    // Everything queued for a peer in this batch leaves as one frame.
    for (auto& [endpoint, link] : links_) link->flush();
}

bool Actor::send_queued_here() {
    if (!core_.commands.drain_messages(outgoing_)) return false;
    send_outgoing();
    bool quiet = true;
    for (auto& [endpoint, link] : links_) {
        if (!link->dealer_watch().touched) continue;  // not sent on here
        if (link->waiting() || link->needs_report()) {
            quiet = false;
            continue;
        }
        // A DEALER the poll does not read for input (Link::input_swept) is
        // sweep()'s to read, and a send asks for ZeroMQ's flow control
        // itself when it finds no room (Link::send_now): nothing to ask here.
        if ((link->polled() & ZMQ_POLLIN) == 0) continue;
        // Sending may have consumed the descriptor's signal for input that
        // came meanwhile: the poll would not see it.
        if ((link->dealer().get(zmq::sockopt::events) & ZMQ_POLLIN) != 0) {
            quiet = false;
            continue;
        }
        link->dealer_watch().drained();  // just asked: the descriptor signals what comes next
    }
    return quiet;
}

void Actor::on_command(const command::Stop&) { stop_requested_ = true; }

void Actor::on_command(const command::Gossip&) { gossip(false); }

void Actor::on_command(const command::PublishDigest&) { gossip(true); }

void Actor::on_command(const command::Emit& command) { emit(command.event); }

}  // namespace liminal::detail
