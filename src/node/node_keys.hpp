#pragma once
// Per-node keys (Security::node_keys): each node's own CurveZMQ keypair, in a
// key file that `liminal-cli keygen` writes, and the trusted-keys file that
// binds each public key to the one node name it may speak as.
//
//   key file:      public = <Z85>        trusted keys:  <Z85 public key> <name@host>
//                  secret = <Z85>                       (one line per node; # comments)

#include <map>
#include <string>

namespace liminal::detail {

// A CurveZMQ keypair, each key 40 Z85 characters.
struct CurveKeypair {
    std::string public_key;
    std::string secret_key;
};

// Public key (Z85) -> node name. A name appears at most once.
using TrustedKeys = std::map<std::string, std::string>;

CurveKeypair generate_keypair();
// The text of a key file for `name`.
std::string format_key_file(const CurveKeypair& keys, const std::string& name);
// Throw StartFailed naming the file and line for anything malformed.
CurveKeypair read_key_file(const std::string& path);
TrustedKeys read_trusted_keys(const std::string& path);
// The public key trusted for `name`, or empty.
std::string key_of(const TrustedKeys& trusted, const std::string& name);

}  // namespace liminal::detail
