#include "wire/proof.hpp"

#include <sodium.h>

#include <stdexcept>

namespace liminal::detail::wire {
namespace {

void ensure_sodium() {
    // sodium_init is idempotent and thread-safe; it returns 1 when already initialised.
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace

Proof make_proof(std::string_view cookie, ProofRole role, const Nonce& client_nonce, const Nonce& server_nonce,
                 std::string_view hello_bytes) {
    ensure_sodium();
    unsigned char key[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(key, reinterpret_cast<const unsigned char*>(cookie.data()), cookie.size());
    unsigned char hello_hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hello_hash, reinterpret_cast<const unsigned char*>(hello_bytes.data()), hello_bytes.size());

    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, key, sizeof key);
    const auto role_byte = static_cast<unsigned char>(role);
    crypto_auth_hmacsha256_update(&state, &role_byte, 1);
    crypto_auth_hmacsha256_update(&state, client_nonce.data(), client_nonce.size());
    crypto_auth_hmacsha256_update(&state, server_nonce.data(), server_nonce.size());
    crypto_auth_hmacsha256_update(&state, hello_hash, sizeof hello_hash);
    Proof proof{};
    crypto_auth_hmacsha256_final(&state, proof.data());
    sodium_memzero(key, sizeof key);
    return proof;
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
