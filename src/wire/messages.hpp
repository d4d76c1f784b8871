#pragma once
// Every wire message liminal speaks, defined once. docs/PROTOCOL.md is the
// normative description; this file and it change together.
//
// A frame is one protocol-version byte followed by one or more messages back
// to back. Each message is a msgpack array whose first element is the message
// type. A receiver decodes and validates the whole frame before acting on any
// message in it.

#include <liminal/message.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace liminal::detail::wire {

// First byte of every frame.
inline constexpr std::uint8_t frame_version = 1;
// Carried in HELLO: the highest protocol version the sender speaks. Two
// nodes speak the lower of their two versions; a HELLO below
// min_protocol_version is rejected. A later version only appends fields to
// known messages (stepped over by older decoders) and adds message types
// that it sends only to peers that speak them.
// 2: the cookie proofs also bind the answering node's identity.
// 3: LEAVING.
// 4: DIGEST carries the peers its origin sees up (partial partitions).
inline constexpr std::uint64_t protocol_version = 4;
inline constexpr std::uint64_t min_protocol_version = 3;

// Message type ids. NEVER renumber: retire an id instead of reusing it.
enum class MessageType : std::uint8_t {
    hello = 1,    // DEALER -> ROUTER: introduce, challenge
    welcome = 2,  // ROUTER -> DEALER reply: introduce, prove, challenge
    auth = 3,     // DEALER -> ROUTER: prove
    bye = 4,      // DEALER -> ROUTER: clean stop
    bye_ack = 5,  // ROUTER -> DEALER reply to BYE
    peers = 6,    // DEALER -> ROUTER: peers the sender has seen come up
    leaving = 7,  // ROUTER -> DEALER: clean stop, told to a node the sender has no up link to
    send = 16,    // DEALER -> ROUTER: a directed message to a local pid
    publish = 17, // DEALER -> ROUTER: a channel envelope for the receiver's local subscribers
    join = 32,    // PUB: the origin's pids joined a group (first join only)
    leave = 33,   // PUB: the origin's pids left a group (last leave only)
    digest = 34,  // PUB: the origin's seq and membership hash, periodically
    resync = 35,  // DEALER -> ROUTER: send me your whole membership
    snapshot = 36,   // DEALER -> ROUTER: one part of the sender's whole membership
    digest_ack = 37, // DEALER -> ROUTER: I have applied your membership up to seq
};

// The way each message travels. A receiver applies a message only from its
// own path (and the node dispatches by it: a message has a handler for its
// path and no other).
enum class Path : std::uint8_t {
    handshake,  // DEALER -> ROUTER, alone in its frame, before authentication
    data,       // DEALER -> ROUTER, from an authenticated session
    reply,      // ROUTER -> DEALER, alone in its frame
    gossip,     // PUB -> SUB
};

// Limits of the field types the messages below share. The decoder refuses a
// message over any of them, and the API refuses to send one (so that no bad
// message can poison the frame it is packed into); the codec's table
// (codec.cpp) says which message has which field.
inline constexpr std::size_t max_peers_in_hello = 4096;  // peer lists (PEERS, DIGEST's reach)
inline constexpr std::size_t max_headers = 256;          // headers: SEND, PUBLISH
inline constexpr std::size_t max_parents = 64;           // causal parents: PUBLISH
inline constexpr std::size_t max_name_bytes = 255;       // names (scope, group, channel): non-empty, at most this
// Messages in one frame, at most: a decoded message takes up to ~200 bytes
// however few bytes it took on the wire (RESYNC is 2), so this bounds what a
// frame can make a receiver allocate. liminal's senders pack at most 256 KiB
// per frame, never more than ~16,000 messages.
inline constexpr std::size_t max_messages_per_frame = 65536;
// A frame from a connection that has not authenticated yet (HELLO, AUTH), at
// most; a receiver drops a larger one without decoding it. A HELLO carries
// one node's name, creation, two endpoints and a nonce.
inline constexpr std::size_t max_handshake_frame_bytes = 4096;
// Every length on the wire is a msgpack 32-bit length.
inline constexpr std::size_t max_length = 0xffffffffu;

inline constexpr std::size_t nonce_size = 16;
inline constexpr std::size_t proof_size = 32;
using Nonce = std::array<std::uint8_t, nonce_size>;
using Proof = std::array<std::uint8_t, proof_size>;

// A node as another node knows it; the peer lists in HELLO/WELCOME carry these.
struct PeerAddress {
    std::string name;
    std::uint64_t creation = 0;
    std::string router;
    std::string pub;
    friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};

struct Hello {
    static constexpr Path path = Path::handshake;
    std::uint64_t protocol = protocol_version;
    std::string name;
    std::uint64_t creation = 0;
    std::string router;
    std::string pub;
    Nonce nonce{};
    friend bool operator==(const Hello&, const Hello&) = default;
};

struct Welcome {
    static constexpr Path path = Path::reply;
    std::string name;
    std::uint64_t creation = 0;
    std::string router;
    std::string pub;
    Nonce nonce{};
    Proof proof{};
    friend bool operator==(const Welcome&, const Welcome&) = default;
};

struct Auth {
    static constexpr Path path = Path::handshake;
    Proof proof{};
    friend bool operator==(const Auth&, const Auth&) = default;
};

struct Bye {
    static constexpr Path path = Path::data;
    std::string name;
    std::uint64_t creation = 0;
    friend bool operator==(const Bye&, const Bye&) = default;
};

// BYE for a node that hears nothing on a DEALER of ours: a stopping node
// tells it on that node's own connection to our ROUTER.
struct Leaving {
    static constexpr Path path = Path::reply;
    std::string name;
    std::uint64_t creation = 0;
    friend bool operator==(const Leaving&, const Leaving&) = default;
};

// Sent to every up peer when a peer comes up, so that a full mesh forms
// whatever the order in which HELLOs crossed.
struct Peers {
    static constexpr Path path = Path::data;
    std::vector<PeerAddress> peers;
    friend bool operator==(const Peers&, const Peers&) = default;
};

struct ByeAck {
    static constexpr Path path = Path::reply;
    friend bool operator==(const ByeAck&, const ByeAck&) = default;
};

// The sender's node and creation are those the connection authenticated as,
// so a peer cannot send in another node's name.
struct Send {
    static constexpr Path path = Path::data;
    std::uint64_t to_creation = 0;
    std::uint64_t to_id = 0;
    std::uint64_t from_id = 0;
    Headers headers;
    std::string_view payload;  // decoded: a view into the frame
    friend bool operator==(const Send&, const Send&) = default;
};

using liminal::MessageId;  // liminal/message.hpp

// A channel envelope. The sender's node and creation are the connection's.
struct Publish {
    static constexpr Path path = Path::data;
    std::string_view channel;
    std::uint64_t from_id = 0;
    MessageId id{};
    std::uint64_t sequence = 0;       // per sender
    std::uint64_t timestamp_us = 0;   // sender's clock, µs since the Unix epoch
    Headers headers;
    std::string_view payload;
    std::vector<MessageId> parents;   // causal parents, usually none
    friend bool operator==(const Publish&, const Publish&) = default;
};

// JOIN and LEAVE share one shape: a membership delta of the origin node.
struct Delta {
    static constexpr Path path = Path::gossip;
    bool join = true;
    std::string origin;
    std::uint64_t creation = 0;
    std::uint64_t seq = 0;
    std::string scope;
    std::string group;
    std::vector<std::uint64_t> ids;  // local ids of the origin's pids
    friend bool operator==(const Delta&, const Delta&) = default;
};

struct Digest {
    static constexpr Path path = Path::gossip;
    std::string origin;
    std::uint64_t creation = 0;
    std::uint64_t seq = 0;
    std::uint64_t hash = 0;  // of the origin's whole local membership (docs/PROTOCOL.md)
    // Protocol 4, appended: the peers the origin sees up, by name (at most
    // max_peers_in_hello). Empty from a version 3 origin.
    std::vector<std::string> reach;
    friend bool operator==(const Digest&, const Digest&) = default;
};

struct Resync {
    static constexpr Path path = Path::data;
    friend bool operator==(const Resync&, const Resync&) = default;
};

// One group's members in a SNAPSHOT.
struct GroupMembers {
    std::string scope;
    std::string group;
    std::vector<std::uint64_t> ids;
    friend bool operator==(const GroupMembers&, const GroupMembers&) = default;
};

// A whole membership travels as parts 0..n, the last one flagged; the
// receiver applies it only once the last part is in.
struct Snapshot {
    static constexpr Path path = Path::data;
    std::uint64_t seq = 0;  // the sender's seq that the snapshot reflects
    std::uint64_t part = 0;
    bool last = true;
    std::vector<GroupMembers> groups;
    friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

struct DigestAck {
    static constexpr Path path = Path::data;
    std::uint64_t creation = 0;  // the creation of the node whose membership is acknowledged
    std::uint64_t seq = 0;
    friend bool operator==(const DigestAck&, const DigestAck&) = default;
};

using WireMessage = std::variant<Hello, Welcome, Auth, Bye, ByeAck, Leaving, Peers, Send, Publish, Delta, Digest, Resync,
                                 Snapshot, DigestAck>;

}  // namespace liminal::detail::wire
