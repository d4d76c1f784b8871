#pragma once
// The cookie proof of the HELLO handshake (docs/PROTOCOL.md, "Cookie proof").
// Both sides prove knowledge of the cookie with an HMAC-SHA256 over both
// fresh nonces and the exact HELLO bytes; the cookie itself never travels.

#include "wire/messages.hpp"

#include <string_view>

namespace liminal::detail::wire {

enum class ProofRole : std::uint8_t { server = 'S', client = 'C' };

// key = SHA-256(cookie); proof = HMAC-SHA256(key, role || client_nonce ||
// server_nonce || SHA-256(hello message bytes)). The role byte keeps one
// side's proof from being replayed as the other's.
Proof make_proof(std::string_view cookie, ProofRole role, const Nonce& client_nonce, const Nonce& server_nonce,
                 std::string_view hello_bytes);

// Constant-time comparison against the expected proof.
bool check_proof(std::string_view cookie, ProofRole role, const Nonce& client_nonce, const Nonce& server_nonce,
                 std::string_view hello_bytes, const Proof& proof);

// The admin request proof: HMAC-SHA256(SHA-256(cookie), "A" || nonce ||
// SHA-256(body)), the nonce being one the node handed out for this request.
Proof make_admin_proof(std::string_view cookie, const Nonce& nonce, std::string_view body);
bool check_admin_proof(std::string_view cookie, const Nonce& nonce, std::string_view body, const Proof& proof);

// A fresh random nonce.
Nonce make_nonce();

}  // namespace liminal::detail::wire
