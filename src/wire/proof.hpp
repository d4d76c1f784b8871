#pragma once
// The cookie proof of the HELLO handshake (docs/PROTOCOL.md, "Cookie proof").
// Both sides prove knowledge of the cookie (through the key derived from it) with an HMAC-SHA256 over both
// fresh nonces, the exact HELLO bytes (the connecting node's claims) and the
// answering node's identity as its WELCOME states it; the cookie itself never
// travels.

#include "wire/keys.hpp"
#include "wire/messages.hpp"

#include <string_view>

namespace liminal::detail::wire {

enum class ProofRole : std::uint8_t { server = 'S', client = 'C' };

// The node that answers a HELLO, as its WELCOME names it. Binding it into
// both proofs keeps a WELCOME from being reused under another identity: a
// node's own HELLO reflected back to it gets an answer that names itself.
struct Answerer {
    std::string_view name;
    std::uint64_t creation = 0;
    std::string_view router;
    std::string_view pub;
};

// key = the cluster's proof key (keys.hpp); proof = HMAC-SHA256(key, role || client_nonce ||
// server_nonce || SHA-256(hello message bytes) || SHA-256(answerer)), where
// answerer = u32 |name| name u64 creation u32 |router| router u32 |pub| pub
// (big-endian). The role byte keeps one side's proof from being replayed as
// the other's.
Proof make_proof(const Key& key, ProofRole role, const Nonce& client_nonce, const Nonce& server_nonce,
                 std::string_view hello_bytes, const Answerer& answerer);

// Constant-time comparison against the expected proof.
bool check_proof(const Key& key, ProofRole role, const Nonce& client_nonce, const Nonce& server_nonce,
                 std::string_view hello_bytes, const Answerer& answerer, const Proof& proof);

// The admin request proof: HMAC-SHA256(admin key, "A" || nonce ||
// SHA-256(body)), the nonce being one the node handed out for this request.
Proof make_admin_proof(const Key& key, const Nonce& nonce, std::string_view body);
bool check_admin_proof(const Key& key, const Nonce& nonce, std::string_view body, const Proof& proof);

// A fresh random nonce.
Nonce make_nonce();

}  // namespace liminal::detail::wire
