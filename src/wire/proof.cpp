#include "wire/proof.hpp"

#include <sodium.h>

#include <initializer_list>
#include <stdexcept>
#include <string>

namespace liminal::detail::wire {
namespace {

void ensure_sodium() {
    // sodium_init is idempotent and thread-safe; it returns 1 when already initialised.
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

// HMAC-SHA256(key, role || first || second || SHA-256(b) for each b of `hashed`).
Proof hmac(const Key& key, unsigned char role, const Nonce& first, const Nonce& second,
           std::initializer_list<std::string_view> hashed) {
    ensure_sodium();
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, key.data(), key.size());
    crypto_auth_hmacsha256_update(&state, &role, 1);
    crypto_auth_hmacsha256_update(&state, first.data(), first.size());
    crypto_auth_hmacsha256_update(&state, second.data(), second.size());
    for (const auto bytes : hashed) {
        unsigned char hash[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
        crypto_auth_hmacsha256_update(&state, hash, sizeof hash);
    }
    Proof proof{};
    crypto_auth_hmacsha256_final(&state, proof.data());
    return proof;
}

void append_be(std::string& out, std::uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(value >> (8 * i)));
}

void append_field(std::string& out, std::string_view field) {
    append_be(out, field.size(), 4);
    out.append(field);
}

std::string answerer_bytes(const Answerer& answerer) {
    std::string out;
    append_field(out, answerer.name);
    append_be(out, answerer.creation, 8);
    append_field(out, answerer.router);
    append_field(out, answerer.pub);
    return out;
}

}  // namespace

Proof make_proof(const Key& key, ProofRole role, const Nonce& client_nonce, const Nonce& server_nonce,
                 std::string_view hello_bytes, const Answerer& answerer) {
    const std::string identity = answerer_bytes(answerer);
    return hmac(key, static_cast<unsigned char>(role), client_nonce, server_nonce, {hello_bytes, identity});
}

Proof make_admin_proof(const Key& key, const Nonce& nonce, std::string_view body) {
    // The second nonce slot is all zeros: the node's nonce alone makes it fresh.
    return hmac(key, 'A', nonce, Nonce{}, {body});
}

bool check_admin_proof(const Key& key, const Nonce& nonce, std::string_view body, const Proof& proof) {
    const Proof expected = make_admin_proof(key, nonce, body);
    return sodium_memcmp(expected.data(), proof.data(), proof.size()) == 0;
}

bool check_proof(const Key& key, ProofRole role, const Nonce& client_nonce, const Nonce& server_nonce,
                 std::string_view hello_bytes, const Answerer& answerer, const Proof& proof) {
    const Proof expected = make_proof(key, role, client_nonce, server_nonce, hello_bytes, answerer);
    return sodium_memcmp(expected.data(), proof.data(), proof.size()) == 0;
}

Nonce make_nonce() {
    ensure_sodium();
    Nonce nonce{};
    randombytes_buf(nonce.data(), nonce.size());
    return nonce;
}

}  // namespace liminal::detail::wire
