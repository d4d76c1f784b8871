#include "wire/keys.hpp"

#include <sodium.h>
#include <zmq.h>

#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

namespace liminal::detail::wire {
namespace {

// Argon2id at libsodium's "interactive" operation count with a quarter of its
// memory: ~30 ms here, so one core tests ~30 cookie guesses a second.
constexpr unsigned long long stretch_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t stretch_memory = crypto_pwhash_MEMLIMIT_INTERACTIVE / 4;
constexpr unsigned char stretch_salt[crypto_pwhash_SALTBYTES] = {'l', 'i', 'm', 'i', 'n', 'a', 'l', ' ',
                                                                 'c', 'l', 'u', 's', 't', 'e', 'r', '2'};
constexpr char kdf_context[crypto_kdf_CONTEXTBYTES + 1] = "liminal2";

void ensure_sodium() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string z85(const unsigned char (&key)[32]) {
    char text[41];
    if (zmq_z85_encode(text, key, sizeof key) == nullptr) throw std::runtime_error("Z85 encoding failed");
    return std::string(text, 40);
}

ClusterKeys derive(std::string_view cookie) {
    Key master{};
    if (crypto_pwhash(master.data(), master.size(), cookie.data(), cookie.size(), stretch_salt, stretch_ops,
                      stretch_memory, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("liminal: not enough memory to stretch the cookie");
    }
    ClusterKeys keys;
    crypto_kdf_derive_from_key(keys.proof.data(), keys.proof.size(), 1, kdf_context, master.data());
    crypto_kdf_derive_from_key(keys.admin.data(), keys.admin.size(), 2, kdf_context, master.data());
    unsigned char seed[crypto_box_SEEDBYTES], pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    crypto_kdf_derive_from_key(seed, sizeof seed, 3, kdf_context, master.data());
    crypto_box_seed_keypair(pk, sk, seed);
    keys.curve_public = z85(pk);
    keys.curve_secret = z85(sk);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(master.data(), master.size());
    return keys;
}

}  // namespace

const ClusterKeys& cluster_keys(std::string_view cookie) {
    ensure_sodium();
    // Keyed by the cookie's hash, so the cache holds no cookie.
    std::array<unsigned char, crypto_hash_sha256_BYTES> id{};
    crypto_hash_sha256(id.data(), reinterpret_cast<const unsigned char*>(cookie.data()), cookie.size());
    static std::mutex mutex;
    static std::map<std::array<unsigned char, crypto_hash_sha256_BYTES>, ClusterKeys> cache;
    const std::lock_guard lock(mutex);
    if (const auto it = cache.find(id); it != cache.end()) return it->second;
    return cache.emplace(id, derive(cookie)).first->second;
}

std::string cookie_weakness(std::string_view cookie) {
    if (cookie.size() < 16) return std::to_string(cookie.size()) + " bytes long (16 at least)";
    const std::set<char> distinct(cookie.begin(), cookie.end());
    if (distinct.size() < 8) return "only " + std::to_string(distinct.size()) + " distinct characters";
    return {};
}

std::string make_cookie() {
    ensure_sodium();
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    char hex[2 * sizeof bytes + 1];
    sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
    return std::string(hex, 2 * sizeof bytes);
}

}  // namespace liminal::detail::wire
