#include "wire/proof.hpp"

#include <sodium.h>

#include <stdexcept>

namespace liminal::detail::wire {
namespace {

void ensure_sodium() {
    // sodium_init is idempotent and thread-safe; it returns 1 when already initialised.
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

Proof hmac(std::string_view cookie, unsigned char role, const Nonce& first, const Nonce& second,
           std::string_view bytes) {
    ensure_sodium();
    unsigned char key[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(key, reinterpret_cast<const unsigned char*>(cookie.data()), cookie.size());
    unsigned char bytes_hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(bytes_hash, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());

    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, key, sizeof key);
    crypto_auth_hmacsha256_update(&state, &role, 1);
    crypto_auth_hmacsha256_update(&state, first.data(), first.size());
    crypto_auth_hmacsha256_update(&state, second.data(), second.size());
    crypto_auth_hmacsha256_update(&state, bytes_hash, sizeof bytes_hash);
    Proof proof{};
    crypto_auth_hmacsha256_final(&state, proof.data());
    sodium_memzero(key, sizeof key);
    return proof;
}

}  // namespace

Proof make_proof(std::string_view cookie, ProofRole role, const Nonce& client_nonce, const Nonce& server_nonce,
                 std::string_view hello_bytes) {
    return hmac(cookie, static_cast<unsigned char>(role), client_nonce, server_nonce, hello_bytes);
}

Proof make_admin_proof(std::string_view cookie, const Nonce& nonce, std::string_view body) {
    // The second nonce slot is all zeros: the node's nonce alone makes it fresh.
    return hmac(cookie, 'A', nonce, Nonce{}, body);
}

bool check_admin_proof(std::string_view cookie, const Nonce& nonce, std::string_view body, const Proof& proof) {
    const Proof expected = make_admin_proof(cookie, nonce, body);
    return sodium_memcmp(expected.data(), proof.data(), proof.size()) == 0;
}

bool check_proof(std::string_view cookie, ProofRole role, const Nonce& client_nonce, const Nonce& server_nonce,
                 std::string_view hello_bytes, const Proof& proof) {
    const Proof expected = make_proof(cookie, role, client_nonce, server_nonce, hello_bytes);
    return sodium_memcmp(expected.data(), proof.data(), proof.size()) == 0;
}

Nonce make_nonce() {
    ensure_sodium();
    Nonce nonce{};
    randombytes_buf(nonce.data(), nonce.size());
    return nonce;
}

}  // namespace liminal::detail::wire
