// The admin endpoint's request handling, as a stranger and as a cookie
// holder. The first input byte picks the frames: the rest as one frame; the
// rest split into two at the first NUL (a body and a proof that is whatever
// it is); three frames; or a proven request, where this harness asks for a
// challenge, puts its nonce where the body says @NONCE@ and signs the body
// with the cluster's admin key, so the commands themselves are reached.
// Every reply must be one JSON object with a boolean "ok"; nothing may throw.

#include "fuzz.hpp"
#include "node/admin.hpp"
#include "wire/proof.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace liminal::detail;

namespace {

// A node's shared state, built once (its keys cost an Argon2id run): the
// admin service reads it as it reads a running node's.
NodeCore& core() {
    static NodeCore* core = [] {
        auto* c = new NodeCore();
        c->options.name = "fuzz@h";
        c->options.cookie = "fuzz cookie";
        c->creation = 42;
        c->keys = &wire::cluster_keys(c->options.cookie);
        c->testing.admin_test_hooks = true;
        return c;
    }();
    return *core;
}

// A little membership, afresh for each input: test-inject adds to it, and
// what one input added must not slow down (or steer) the next.
void reset_membership(NodeCore& c) {
    c.membership = std::make_unique<Membership>(c.options.name, c.creation);
    membership::Effects fx;
    c.membership->state.join("default", "workers", {1, 2}, fx);
    c.membership->state.inject_for_test("b@h", 7, "default", "workers", 3);
}

void check_reply(const std::string& reply) {
    const auto json = nlohmann::json::parse(reply, nullptr, false);
    LIMINAL_FUZZ_CHECK(json.is_object());
    LIMINAL_FUZZ_CHECK(json.contains("ok") && json["ok"].is_boolean());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string rest(liminal::fuzz::bytes(data + 1, size - 1));
    reset_membership(core());
    AdminService service(core());  // a fresh one: proven nonces are single-use and remembered
    std::vector<std::string> frames;
    switch (data[0] % 4) {
    case 0: frames = {rest}; break;
    case 1: {
        const auto nul = rest.find('\0');
        frames = {rest.substr(0, nul), nul == std::string::npos ? std::string() : rest.substr(nul + 1)};
        break;
    }
    case 2: frames = {rest, rest, rest}; break;
    default: {
        const auto challenge = nlohmann::json::parse(service.handle({R"({"cmd":"challenge"})"}));
        const std::string nonce_hex = challenge.at("nonce").get<std::string>();
        wire::Nonce nonce{};
        for (std::size_t i = 0; i < nonce.size(); ++i)
            nonce[i] = static_cast<std::uint8_t>(std::stoul(nonce_hex.substr(2 * i, 2), nullptr, 16));
        std::string body = rest;
        if (const auto at = body.find("@NONCE@"); at != std::string::npos) body.replace(at, 7, nonce_hex);
        const auto proof = wire::make_admin_proof(core().keys->admin, nonce, body);
        frames = {body, std::string(proof.begin(), proof.end())};
        break;
    }
    }
    check_reply(service.handle(frames));
    return 0;
}
