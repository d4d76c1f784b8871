#pragma once
// What the API threads ask of the I/O thread, besides sending the messages
// they encoded (Outgoing): typed commands, carried out in order on the I/O
// thread, each by its own handler (Actor::on_command).

#include "node/node_keys.hpp"

#include <liminal/events.hpp>

#include <variant>

namespace liminal::detail {

namespace command {

// Node::stop(): send BYE to every peer, wait for the acknowledgements (or the
// grace), close every socket and end the I/O thread.
struct Stop {};

// Own membership deltas wait in the outbox: gossip them. Posted when the
// outbox goes from empty to non-empty, so a burst of joins costs one.
struct Gossip {};

// sync_membership(): publish a DIGEST now; the peers' acknowledgements of it
// are what the barrier waits for.
struct PublishDigest {};

// reload_trusted_keys(): the trusted keys as the file now says.
struct TrustKeys {
    TrustedKeys keys;
};

// An event that happened off the I/O thread (a mailbox filled up): the I/O
// thread emits it, so every event reaches on_peer_event from one thread, in order.
struct Emit {
    PeerEvent event;
};

}  // namespace command

using Command = std::variant<command::Stop, command::Gossip, command::PublishDigest, command::TrustKeys, command::Emit>;

}  // namespace liminal::detail
