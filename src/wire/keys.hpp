#pragma once
// The keys a cluster secret gives (docs/PROTOCOL.md §5): the cookie is
// stretched once with Argon2id, so that each guess at it costs an attacker
// who recorded traffic tens of milliseconds, and the result is split into
// one key per use. Every node holding the cookie derives the same keys.

#include <array>
#include <string>
#include <string_view>

namespace liminal::detail::wire {

using Key = std::array<unsigned char, 32>;

struct ClusterKeys {
    Key proof{};               // HMAC key of the HELLO/AUTH proofs
    Key admin{};               // HMAC key of admin request proofs
    std::string curve_public;  // CurveZMQ keypair every member uses, Z85 (40 characters)
    std::string curve_secret;
};

// The keys of `cookie` (its exact bytes). The first call for a cookie takes
// ~30 ms and 16 MiB briefly; later calls in the process are answered from a
// cache.
const ClusterKeys& cluster_keys(std::string_view cookie);

// Why `cookie` is easy to guess, or empty when it is not: fewer than 16
// bytes, or fewer than 8 distinct bytes.
std::string cookie_weakness(std::string_view cookie);

// A fresh cookie: 32 random bytes as 64 hexadecimal characters.
std::string make_cookie();

}  // namespace liminal::detail::wire
