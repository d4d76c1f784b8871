// Wire codec: golden bytes for every message, round trips, and bad input.

#include "support/hex.hpp"
#include "wire/codec.hpp"
#include "wire/proof.hpp"

#include <catch2/catch.hpp>

#include <sodium.h>
#include <zmq.h>

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
#include <set>
#include <sstream>

using namespace liminal::detail::wire;
using liminal::test::from_hex;
using liminal::test::repeat_hex;
using liminal::test::to_hex;

// Every allocation of this test program goes through here, so a test can
// measure what one call allocates at its peak (allocation_peak below). Not
// under AddressSanitizer, which owns operator new: that build decodes the same
// hostile frames for memory safety, and the plain build measures them.
#if defined(__SANITIZE_ADDRESS__)
namespace {
constexpr bool measuring = false;
}  // namespace
#else
namespace {
constexpr bool measuring = true;
std::atomic<bool> tracking{false};
std::atomic<std::int64_t> live_bytes{0};
std::atomic<std::int64_t> peak_bytes{0};

void* tracked_new(std::size_t size) {
    void* p = std::malloc(size == 0 ? 1 : size);
    if (p == nullptr) throw std::bad_alloc();
    if (tracking.load(std::memory_order_relaxed)) {
        const auto now = live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p))) +
                         static_cast<std::int64_t>(malloc_usable_size(p));
        auto peak = peak_bytes.load();
        while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
        }
    }
    return p;
}

void tracked_delete(void* p) noexcept {
    if (p == nullptr) return;
    if (tracking.load(std::memory_order_relaxed)) live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)));
    std::free(p);
}
}  // namespace

void* operator new(std::size_t size) { return tracked_new(size); }
void* operator new[](std::size_t size) { return tracked_new(size); }
void operator delete(void* p) noexcept { tracked_delete(p); }
void operator delete[](void* p) noexcept { tracked_delete(p); }
void operator delete(void* p, std::size_t) noexcept { tracked_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { tracked_delete(p); }
#endif

namespace {

// The most memory `call` held at once beyond what was allocated before it
// (0 when not measuring).
template <typename Call>
std::int64_t allocation_peak(Call&& call) {
#if defined(__SANITIZE_ADDRESS__)
    call();
    return 0;
#else
    live_bytes = 0;
    peak_bytes = 0;
    tracking = true;
    call();
    tracking = false;
    return peak_bytes.load();
#endif
}

template <typename T>
T fill(std::uint8_t byte) {
    T out{};
    out.fill(byte);
    return out;
}

Hello sample_hello() {
    return Hello{1, "a@h", 2, "tcp://x:1", "tcp://x:2", fill<Nonce>(0x11)};
}

Welcome sample_welcome() { return Welcome{"b@h", 3, "r", "p", fill<Nonce>(0x22), fill<Proof>(0x33)}; }

Send sample_send() { return Send{1000, 7, 300, {{"k", "v"}}, "hi"}; }

// Every message with its exact frame bytes. Changing one of these breaks the
// protocol: bump the frame version instead.
const std::vector<std::pair<WireMessage, std::string>>& golden() {
    static const std::vector<std::pair<WireMessage, std::string>> vectors = {
        {sample_hello(),
         "01 97 01 01 a3614068 02 a9" + to_hex("tcp://x:1") + "a9" + to_hex("tcp://x:2") + "c410" +
             repeat_hex("11", 16)},
        {sample_welcome(), "01 97 02 a3624068 03 a172 a170 c410" + repeat_hex("22", 16) + "c420" + repeat_hex("33", 32)},
        {Auth{fill<Proof>(0xab)}, "01 92 03 c420" + repeat_hex("ab", 32)},
        {Bye{"a@h", 5}, "01 93 04 a3614068 05"},
        {ByeAck{}, "01 91 05"},
        {Leaving{"a@h", 5}, "01 93 07 a3614068 05"},
        {Peers{{{"b@h", 3, "r", "p"}, {"c@h", 4, "s", "q"}}}, "01 92 06 92 94 a3624068 03 a172 a170 94 a3634068 04 a173 a171"},
        {sample_send(), "01 96 10 cd03e8 07 cd012c 81 a16b a176 c402 6869"},
        {Publish{"ch", 7, fill<MessageId>(0x44), 3, 1000, {}, "x", {fill<MessageId>(0x55)}},
         "01 99 11 a26368 07 c410" + repeat_hex("44", 16) + "03 cd03e8 80 c401 78 91 c410" + repeat_hex("55", 16)},
        {Delta{true, "a@h", 2, 9, "s", "g", {1, 300}}, "01 97 20 a3614068 02 09 a173 a167 92 01 cd012c"},
        {Delta{false, "a@h", 2, 9, "s", "g", {1, 300}}, "01 97 21 a3614068 02 09 a173 a167 92 01 cd012c"},
        {Digest{"a@h", 2, 9, 0xdeadbeef, {"b@h"}}, "01 96 22 a3614068 02 09 cedeadbeef 91 a3624068"},
        {Resync{}, "01 91 23"},
        {Snapshot{9, 0, true, {{"s", "g", {1, 2}}}}, "01 95 24 09 00 01 91 93 a173 a167 92 01 02"},
        {DigestAck{2, 9}, "01 93 25 02 09"},
    };
    return vectors;
}

}  // namespace

TEST_CASE("every message encodes to its golden bytes", "[codec]") {
    for (const auto& [message, hex] : golden()) {
        CHECK(to_hex(encode_frame(message)) == to_hex(from_hex(hex)));
    }
}

TEST_CASE("every golden frame decodes back to its message", "[codec]") {
    std::vector<WireMessage> out;
    for (const auto& [message, hex] : golden()) {
        const std::string frame = from_hex(hex);
        REQUIRE(decode_frame(frame, out) == DecodeError::none);
        REQUIRE(out.size() == 1);
        CHECK(out[0] == message);
    }
}

// The frame fuzzer (tests/fuzz/fuzz_frame.cpp) starts from these frames:
// each golden frame must be a seed of its corpus, so a new message type or
// a changed encoding is fuzzed from its first day.
TEST_CASE("the frame fuzzer's seed corpus holds every golden frame", "[codec][fuzz]") {
    std::set<std::string> seeds;
    for (const auto& entry : std::filesystem::directory_iterator(LIMINAL_FUZZ_CORPUS "/frame")) {
        std::ifstream file(entry.path(), std::ios::binary);
        std::ostringstream bytes;
        bytes << file.rdbuf();
        seeds.insert(bytes.str());
    }
    for (const auto& [message, hex] : golden()) {
        INFO("golden frame " << hex);
        CHECK(seeds.contains(from_hex(hex)));
    }
}

TEST_CASE("fields a later version appends to a known message are stepped over, whatever they are",
          "[codec][compat]") {
    // A trailing value of every msgpack kind, nested ones too.
    const std::vector<std::string> trailing = {
        "00", "7f", "ff", "c0", "c2", "c3", "a3 78797a", "d9 03 78797a", "da 0001 78", "db 00000001 78",
        "c4 02 0102", "c5 0001 01", "c6 00000001 01", "ca 3f800000", "cb 3ff0000000000000", "cc 01", "cd 0102",
        "ce 01020304", "cf 0102030405060708", "d0 80", "d1 0102", "d2 01020304", "d3 0102030405060708",
        "d4 01 02", "d5 01 0102", "d6 01 01020304", "d7 01 0102030405060708", "d8 01" + repeat_hex("02", 16),
        "c7 02 01 0102", "c8 0001 01 02", "c9 00000001 01 02", "92 01 a178", "81 a16b 92 01 02",
        "dc 0002 01 02", "dd 00000001 90", "de 0001 01 02", "df 00000001 80 90", "93 91 91 90 80 00"};
    std::vector<WireMessage> out;
    for (const auto& [message, hex] : golden()) {
        const std::string frame = from_hex(hex);
        const auto header = static_cast<std::uint8_t>(frame[1]);
        REQUIRE(header >= 0x91);
        REQUIRE(header < 0x9e);  // a fixarray with room for two more fields
        for (const auto& extra : trailing) {
            INFO("trailing " << extra);
            std::string longer = frame;
            longer[1] = static_cast<char>(header + 1);
            longer += from_hex(extra);
            REQUIRE(decode_frame(longer, out) == DecodeError::none);
            REQUIRE(out.size() == 1);
            CHECK(out[0] == message);
        }
        // Two appended fields, then another message in the same frame.
        std::string two = frame;
        two[1] = static_cast<char>(header + 2);
        two += from_hex("a3 78797a 92 01 02") + frame.substr(1);
        REQUIRE(decode_frame(two, out) == DecodeError::none);
        REQUIRE(out.size() == 2);
        CHECK(out[0] == message);
        CHECK(out[1] == message);
    }
    // A trailing value that claims more than the frame holds is refused at
    // once (nothing is allocated for what it claims); 0xc1 is no value.
    CHECK(decode_frame(from_hex("01 92 05 dd ffffffff"), out) == DecodeError::truncated);
    CHECK(decode_frame(from_hex("01 92 05 df 7fffffff 00 00"), out) == DecodeError::truncated);
    CHECK(decode_frame(from_hex("01 92 05 db ffffffff 00"), out) == DecodeError::truncated);
    CHECK(decode_frame(from_hex("01 92 05 c9 ffffffff 00"), out) == DecodeError::truncated);
    CHECK(decode_frame(from_hex("01 92 05 c1"), out) == DecodeError::malformed);
    CHECK(decode_frame(from_hex("01 92 05 92 01"), out) == DecodeError::truncated);
    CHECK(out.empty());
}

TEST_CASE("a frame packs several messages back to back", "[codec]") {
    FrameWriter writer;
    for (std::uint64_t i = 1; i <= 100; ++i) writer.add(Send{9, i, i * 2, {}, "payload " + std::to_string(i)});
    CHECK(writer.messages() == 100);
    const std::string frame = writer.take();
    CHECK(writer.empty());
    std::vector<WireMessage> out;
    REQUIRE(decode_frame(frame, out) == DecodeError::none);
    REQUIRE(out.size() == 100);
    for (std::uint64_t i = 1; i <= 100; ++i) {
        const auto& send = std::get<Send>(out[i - 1]);
        CHECK(send.to_id == i);
        CHECK(send.from_id == i * 2);
        CHECK(send.payload == "payload " + std::to_string(i));
    }
}

TEST_CASE("large values use the wide msgpack forms and round-trip", "[codec]") {
    const std::string payload(70000, 'x');
    Send send{~0ULL, 1ULL << 40, 65536, {}, payload};
    for (int i = 0; i < 20; ++i) send.headers["key" + std::to_string(i)] = std::string(40, 'v');
    const std::string frame = encode_frame(send);  // decoded payloads are views into it
    std::vector<WireMessage> out;
    REQUIRE(decode_frame(frame, out) == DecodeError::none);
    CHECK(std::get<Send>(out[0]) == send);
}

TEST_CASE("the hot-path encoders write exactly what FrameWriter writes", "[codec]") {
    // Sizes on both sides of every msgpack length form: fix, 8, 16 and 32 bits.
    const std::vector<std::size_t> sizes = {0, 1, 31, 32, 255, 256, 65535, 65536, 70000};
    std::mt19937 random(7);
    for (const auto size : sizes) {
        liminal::Headers headers;
        const auto header_count = random() % 20;
        for (std::size_t i = 0; i < header_count; ++i)
            headers["k" + std::to_string(i)] = std::string(random() % 300, 'h');
        const std::string payload(size, 'p');
        const std::string channel(std::min<std::size_t>(size, 255), 'c');
        std::vector<MessageId> parents(random() % 65, fill<MessageId>(0x66));
        const std::uint64_t big = 1ULL << (random() % 64);

        FrameWriter writer;
        writer.add(Publish{channel, big, fill<MessageId>(0x44), big + 1, big + 2, headers, payload, parents});
        writer.add(Send{big, big + 3, big + 4, headers, payload});
        std::string fast(1, static_cast<char>(frame_version));
        append_publish(fast, PublishFields{channel, big, fill<MessageId>(0x44), big + 1, big + 2}, headers, payload,
                       parents);
        append_send(fast, big, big + 3, big + 4, headers, payload);
        CHECK(fast == writer.bytes());
    }
}

TEST_CASE("bad frames give an error value and nothing decoded", "[codec][bad-input]") {
    std::vector<WireMessage> out;
    CHECK(decode_frame("", out) == DecodeError::empty);
    CHECK(decode_frame(from_hex("01"), out) == DecodeError::empty);
    CHECK(decode_frame(from_hex("02 91 05"), out) == DecodeError::bad_version);
    CHECK(decode_frame(from_hex("00 91 05"), out) == DecodeError::bad_version);
    CHECK(decode_frame(from_hex("01 91 7f"), out) == DecodeError::unknown_type);
    CHECK(decode_frame(from_hex("01 92 04 a3614068"), out) == DecodeError::malformed);  // BYE without its creation
    CHECK(decode_frame(from_hex("01 90"), out) == DecodeError::malformed);              // no type
    CHECK(decode_frame(from_hex("01 05"), out) == DecodeError::malformed);              // not an array
    CHECK(decode_frame(from_hex("01 93 04 05 a3614068"), out) == DecodeError::malformed);  // fields swapped
    CHECK(decode_frame(from_hex("01 dd ffffffff 05"), out) == DecodeError::truncated);  // lying count
    CHECK(decode_frame(from_hex("01 92 03 c410") + repeat_hex("ab", 16), out) == DecodeError::malformed);  // short proof
    CHECK(decode_frame(from_hex("01 97 20 a3614068 02 09 a173 a167 92 01 00"), out) == DecodeError::malformed);  // pid id 0
    CHECK(decode_frame(from_hex("01 97 20 a3614068 02 09 a173 a0 91 01"), out) == DecodeError::malformed);  // empty group
    CHECK(decode_frame(from_hex("01 95 24 09 00 02 90"), out) == DecodeError::malformed);  // last flag 2
    // A 2-field group (a trailing byte, so that the input could hold a 3-field one).
    CHECK(decode_frame(from_hex("01 95 24 09 00 01 91 92 a173 a167 00"), out) == DecodeError::malformed);
    // A group count the bytes left cannot hold (each group takes 6 bytes at least).
    CHECK(decode_frame(from_hex("01 95 24 09 00 01 91 92 a173 a167"), out) == DecodeError::truncated);
    CHECK(out.empty());
}

TEST_CASE("a good message followed by a bad one rejects the whole frame", "[codec][bad-input]") {
    FrameWriter writer;
    writer.add(sample_send());
    std::string frame = writer.take() + from_hex("91 7f");
    std::vector<WireMessage> out;
    CHECK(decode_frame(frame, out) == DecodeError::unknown_type);
    CHECK(out.empty());
    frame = encode_frame(sample_send()) + from_hex("96 10 cd03");
    CHECK(decode_frame(frame, out) == DecodeError::truncated);
    CHECK(out.empty());
}

TEST_CASE("every truncation of every golden frame is an error", "[codec][bad-input]") {
    std::vector<WireMessage> out;
    for (const auto& [message, hex] : golden()) {
        const std::string frame = from_hex(hex);
        for (std::size_t size = 0; size < frame.size(); ++size) {
            const auto error = decode_frame(std::string_view(frame).substr(0, size), out);
            CHECK(error != DecodeError::none);
            CHECK(out.empty());
        }
    }
}

TEST_CASE("a PEERS with too many peers is refused", "[codec][bad-input]") {
    Peers peers;
    peers.peers.assign(max_peers_in_hello + 1, PeerAddress{"c@h", 1, "r", "p"});
    std::vector<WireMessage> out;
    CHECK(decode_frame(encode_frame(peers), out) == DecodeError::malformed);
    peers.peers.resize(max_peers_in_hello);
    CHECK(decode_frame(encode_frame(peers), out) == DecodeError::none);
}

TEST_CASE("a DIGEST from a version 3 origin has no reach, a version 4 reach is bounded", "[codec][compat][bad-input]") {
    std::vector<WireMessage> out;
    // Version 3 wrote four fields: the reach is empty, not an error.
    REQUIRE(decode_frame(from_hex("01 95 22 a3614068 02 09 cedeadbeef"), out) == DecodeError::none);
    CHECK(std::get<Digest>(out.at(0)) == Digest{"a@h", 2, 9, 0xdeadbeef, {}});
    // A name list that claims more names than its bytes hold: refused before allocating.
    CHECK(decode_frame(from_hex("01 96 22 a3614068 02 09 00 dd 00000fff a162"), out) == DecodeError::truncated);
    CHECK(decode_frame(from_hex("01 96 22 a3614068 02 09 00 91 a0 a0"), out) == DecodeError::malformed);  // an empty name
    CHECK(decode_frame(from_hex("01 96 22 a3614068 02 09 00 91 01 01"), out) == DecodeError::malformed);  // not a str
    Digest many{"a@h", 2, 9, 0, std::vector<std::string>(max_peers_in_hello + 1, "n")};
    CHECK(decode_frame(encode_frame(many), out) == DecodeError::malformed);
    many.reach.resize(max_peers_in_hello);
    CHECK(decode_frame(encode_frame(many), out) == DecodeError::none);
}

TEST_CASE("a HELLO fits in a handshake frame", "[codec]") {
    const Hello longest{protocol_version, std::string(128, 'n'), ~std::uint64_t{0}, "tcp://" + std::string(253, 'h') + ":65535",
                        "tcp://" + std::string(253, 'h') + ":65535", fill<Nonce>(1)};
    CHECK(encode_frame(longest).size() <= max_handshake_frame_bytes);
}

// A smoke test, not a fuzzer: under the sanitizers it shows that 20,000
// mutated golden frames and random frames neither crash the decoder nor read
// out of bounds, and that every refused frame leaves nothing decoded. The
// count of accepted frames only shows that the mutations reach past the first
// byte; it checks nothing about the decoder.
TEST_CASE("mutated and random frames never crash the decoder", "[codec][bad-input][fuzz]") {
    std::mt19937 random(12345);
    std::vector<WireMessage> out;
    std::size_t accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string frame;
        if (round % 2 == 0) {
            frame = from_hex(golden()[static_cast<std::size_t>(round / 2) % golden().size()].second);
            const int flips = 1 + static_cast<int>(random() % 4);
            for (int i = 0; i < flips; ++i) {
                frame[random() % frame.size()] = static_cast<char>(random());
            }
        } else {
            frame.resize(random() % 64);
            for (auto& c : frame) c = static_cast<char>(random());
            if (!frame.empty()) frame[0] = static_cast<char>(frame_version);
        }
        const auto error = decode_frame(frame, out);
        if (error == DecodeError::none) {
            ++accepted;
        } else {
            CHECK(out.empty());
        }
    }
    // Some flips land in payload bytes and still decode; most do not.
    CHECK(accepted > 0);
    CHECK(accepted < 20000);
}

TEST_CASE("the cluster keys are Argon2id of the cookie, split with crypto_kdf", "[codec][proof]") {
    const auto& keys = cluster_keys("secret");
    const auto hex = [](const auto& bytes) { return to_hex(std::string(bytes.begin(), bytes.end())); };
    const auto z85 = [](const std::string& text) {
        std::string raw(32, '\0');
        REQUIRE(zmq_z85_decode(reinterpret_cast<std::uint8_t*>(raw.data()), text.c_str()) != nullptr);
        return to_hex(raw);
    };
    // Computed independently from docs/PROTOCOL.md §5 (Python: libsodium's
    // Argon2id through ctypes, hashlib's BLAKE2b and SHA-512, X25519 base point).
    CHECK(hex(keys.proof) == "79a82565f604cbad2c8d0e75c58f9bffa898590d37349f26c0b7bb1ede4baa1e");
    CHECK(hex(keys.admin) == "eb2307878cfeb5609690da15cd3df43009ca41fcbec13f4308ddc261acf0779c");
    CHECK(z85(keys.curve_public) == "76f80bfdb2afcb4859dbaf1cbf069cc10c0a2eb5bd5e5bfddfecbaa7f4b98b01");
    CHECK(z85(keys.curve_secret) == "d3adf70fba9debbc7619d8684fa834daee8a05eef2b5fdcdd6b406bdfb0fc8bf");
    CHECK(cluster_keys("secret ").proof != keys.proof);
    CHECK(&cluster_keys("secret") == &keys);  // derived once per process
}

TEST_CASE("a short or repetitive cookie is called weak, a generated one is not", "[codec][proof]") {
    CHECK_FALSE(cookie_weakness("test-cookie").empty());
    CHECK_FALSE(cookie_weakness(std::string(40, 'a')).empty());
    const std::string fresh = make_cookie();
    CHECK(fresh.size() == 64);
    CHECK(cookie_weakness(fresh).empty());
    CHECK(make_cookie() != fresh);
}

TEST_CASE("cookie proofs are HMAC-SHA256 over role, nonces, the HELLO and the answerer", "[codec][proof]") {
    // The key is SHA-256("secret") here, so that the vectors need no Argon2.
    Key key{}, other{};
    crypto_hash_sha256(key.data(), reinterpret_cast<const unsigned char*>("secret"), 6);
    crypto_hash_sha256(other.data(), reinterpret_cast<const unsigned char*>("Secret"), 6);
    const auto client = fill<Nonce>(0x11);
    const auto server = fill<Nonce>(0x22);
    const Answerer b{"b@h", 3, "r", "p"};
    const Proof server_proof = make_proof(key, ProofRole::server, client, server, "hello-bytes", b);
    const Proof client_proof = make_proof(key, ProofRole::client, client, server, "hello-bytes", b);
    const auto as_string = [](const Proof& p) { return std::string(p.begin(), p.end()); };
    // Computed independently (Python hashlib/hmac) from docs/PROTOCOL.md §5.
    CHECK(to_hex(as_string(server_proof)) == "a1e6323389d069c9ea3500e66b906d4f1b058ef8b3bbc5e5481ce19f7e52ecef");
    CHECK(to_hex(as_string(client_proof)) == "0e63305e3f28d6d79cbda17b063fea96fabe2e079d42b1f032298034e8c83f47");
    CHECK(check_proof(key, ProofRole::server, client, server, "hello-bytes", b, server_proof));
    CHECK_FALSE(check_proof(key, ProofRole::client, client, server, "hello-bytes", b, server_proof));
    CHECK_FALSE(check_proof(other, ProofRole::server, client, server, "hello-bytes", b, server_proof));
    CHECK_FALSE(check_proof(key, ProofRole::server, server, client, "hello-bytes", b, server_proof));
    CHECK_FALSE(check_proof(key, ProofRole::server, client, server, "hello-byteS", b, server_proof));
    // Any other answerer: another name, creation or endpoint.
    for (const Answerer other : {Answerer{"c@h", 3, "r", "p"}, Answerer{"b@h", 4, "r", "p"}, Answerer{"b@h", 3, "R", "p"},
                                 Answerer{"b@h", 3, "r", "P"}, Answerer{"b@h3", 0, "r", "p"}})
        CHECK_FALSE(check_proof(key, ProofRole::server, client, server, "hello-bytes", other, server_proof));
    CHECK(make_nonce() != make_nonce());
}

TEST_CASE("a hostile frame makes the decoder allocate in proportion to its bytes, not to its counts", "[codec][bad-input]") {
    constexpr std::size_t junk = 1u << 20;
    const std::string garbage(junk, '\xc1');  // 0xc1: never valid msgpack
    std::vector<WireMessage> out;
    // A SNAPSHOT announcing as many groups as the bytes could hold at 6 bytes
    // each: the groups (88 bytes in memory) used to be created up front.
    const std::string snapshot = from_hex("01 95 24 09 00 01 dd") + from_hex("0002aaaa") + garbage;
    const auto snapshot_peak = allocation_peak([&] { CHECK(decode_frame(snapshot, out) != DecodeError::none); });
    if (measuring) CHECK(snapshot_peak <= static_cast<std::int64_t>(2 * junk));
    // A JOIN announcing a million ids: 8 bytes each in memory.
    const std::string join = from_hex("01 97 20 a3614068 02 09 a173 a167 dd") + from_hex("000fffff") + garbage;
    const auto join_peak = allocation_peak([&] { CHECK(decode_frame(join, out) != DecodeError::none); });
    if (measuring) CHECK(join_peak <= static_cast<std::int64_t>(2 * junk));
    // 4 MiB of 2-byte RESYNCs (2 million messages of ~184 bytes each once
    // decoded): refused at max_messages_per_frame.
    std::string resyncs = from_hex("01");
    for (std::size_t i = 0; i < (4u << 20) / 2; ++i) resyncs += from_hex("91 23");
    std::vector<WireMessage> fresh;
    const auto resync_peak = allocation_peak([&] { CHECK(decode_frame(resyncs, fresh) == DecodeError::too_many_messages); });
    if (measuring) CHECK(resync_peak <= static_cast<std::int64_t>(3 * max_messages_per_frame * sizeof(WireMessage)));
    CHECK(fresh.empty());
    // At the limit, a frame still decodes.
    std::string most = from_hex("01");
    for (std::size_t i = 0; i < max_messages_per_frame; ++i) most += from_hex("91 23");
    CHECK(decode_frame(most, fresh) == DecodeError::none);
    CHECK(fresh.size() == max_messages_per_frame);
}
