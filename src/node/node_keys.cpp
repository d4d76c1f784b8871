#include "node/node_keys.hpp"

#include <liminal/error.hpp>
#include <liminal/pid.hpp>

#include <sodium.h>
#include <zmq.h>

#include <array>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace liminal::detail {
namespace {

bool valid_z85_key(const std::string& text) {
    std::array<std::uint8_t, 32> raw{};
    return text.size() == 40 && zmq_z85_decode(raw.data(), text.c_str()) != nullptr;
}

[[noreturn]] void bad(const std::string& path, int line, const std::string& why) {
    throw StartFailed("liminal: " + path + ":" + std::to_string(line) + ": " + why);
}

// Calls `each(line_number, words)` for every line that is not blank or a comment.
template <typename Each>
void for_each_line(const std::string& path, Each each) {
    std::ifstream in(path);
    if (!in) throw StartFailed("liminal: cannot read " + path);
    std::string text;
    for (int number = 1; std::getline(in, text); ++number) {
        std::istringstream words(text);
        std::vector<std::string> fields;
        for (std::string word; words >> word;) fields.push_back(word);
        if (fields.empty() || fields[0][0] == '#') continue;
        each(number, fields);
    }
}

}  // namespace

CurveKeypair generate_keypair() {
    // libsodium itself, not zmq_curve_keypair: in libzmq 4.3.4 that closes
    // libsodium's random source under other contexts' feet (ZMQ-NOTES §7).
    if (sodium_init() < 0) throw StartFailed("liminal: libsodium failed to initialise");
    unsigned char public_raw[crypto_box_PUBLICKEYBYTES], secret_raw[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(public_raw, secret_raw);
    char public_key[41], secret_key[41];
    zmq_z85_encode(public_key, public_raw, sizeof public_raw);
    zmq_z85_encode(secret_key, secret_raw, sizeof secret_raw);
    sodium_memzero(secret_raw, sizeof secret_raw);
    return {std::string(public_key, 40), std::string(secret_key, 40)};
}

std::string format_key_file(const CurveKeypair& keys, const std::string& name) {
    return "# liminal node key of " + name + ": keep it secret (mode 0600)\npublic = " + keys.public_key +
           "\nsecret = " + keys.secret_key + "\n";
}

CurveKeypair read_key_file(const std::string& path) {
    CurveKeypair keys;
    for_each_line(path, [&](int line, const std::vector<std::string>& fields) {
        if (fields.size() != 3 || fields[1] != "=" || (fields[0] != "public" && fields[0] != "secret"))
            bad(path, line, "expected 'public = KEY' or 'secret = KEY'");
        if (!valid_z85_key(fields[2])) bad(path, line, "not a 40-character Z85 key");
        (fields[0] == "public" ? keys.public_key : keys.secret_key) = fields[2];
    });
    if (keys.public_key.empty() || keys.secret_key.empty()) bad(path, 0, "needs both a public and a secret key");
    char derived[41];
    if (zmq_curve_public(derived, keys.secret_key.c_str()) != 0 || keys.public_key != std::string(derived, 40))
        bad(path, 0, "the public key is not the secret key's");
    return keys;
}

TrustedKeys read_trusted_keys(const std::string& path) {
    TrustedKeys trusted;
    std::set<std::string> names;
    for_each_line(path, [&](int line, const std::vector<std::string>& fields) {
        if (fields.size() != 2) bad(path, line, "expected 'PUBLIC_KEY name@host'");
        if (!valid_z85_key(fields[0])) bad(path, line, "not a 40-character Z85 key");
        if (!is_valid_node_name(fields[1])) bad(path, line, "'" + fields[1] + "' is not a node name (name@host)");
        if (trusted.contains(fields[0])) bad(path, line, "this key is listed twice");
        if (!names.insert(fields[1]).second) bad(path, line, fields[1] + " is listed twice");
        trusted.emplace(fields[0], fields[1]);
    });
    return trusted;
}

std::string key_of(const TrustedKeys& trusted, const std::string& name) {
    for (const auto& [key, owner] : trusted) {
        if (owner == name) return key;
    }
    return {};
}

}  // namespace liminal::detail
