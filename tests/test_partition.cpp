// Real partitions: nodes as processes of their own (support/test_host.cpp),
// each on its own loopback address with its outgoing connections bound to
// it, split and healed with nftables. They need root and nft (CI has both);
// elsewhere each test says so and passes without running.

#include "support/partition.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>

using namespace std::chrono_literals;
using liminal::test::all_see;
using liminal::test::Firewall;
using liminal::test::Host;
using liminal::test::host_address;
using liminal::test::views_agree;
using liminal::test::wait_until;

namespace {

std::unique_ptr<Host> host(int n, const std::string& seed = "", liminal::test::HostTimings timings = {}) {
    return std::make_unique<Host>("h" + std::to_string(n) + "@" + host_address(n), host_address(n), seed, timings);
}

}  // namespace

TEST_CASE("after a 60 s silent split heals, a join made at once is seen across it within 0.5 s", "[partition]") {
    LIMINAL_REQUIRE_FIREWALL();
    Firewall firewall;
    auto a = host(2);
    auto b = host(3, a->router);
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    const std::string before = a->join("g");
    REQUIRE(wait_until([&] { return b->holds("g", before); }));

    firewall.cut(a->address, b->address);
    REQUIRE(all_see({a.get(), b.get()}, "down"));
    REQUIRE_FALSE(b->holds("g", before));  // purged across the split
    // The split lasts long enough for every reconnect to back off as far as
    // it goes (and for the kernel's SYN retries, where nothing caps them).
    const auto healed_at = std::chrono::steady_clock::now() + 60s;
    REQUIRE_FALSE(wait_until([&] { return a->peer_state(b->name) == "up"; },  // wait-ok: the split's length
                             std::chrono::duration_cast<std::chrono::milliseconds>(healed_at - std::chrono::steady_clock::now())));
    firewall.heal();
    REQUIRE(all_see({a.get(), b.get()}, "up"));
    REQUIRE(wait_until([&] { return b->holds("g", before); }));  // the backfill

    const std::string after = a->join("g");
    const auto joined = std::chrono::steady_clock::now();
    REQUIRE(wait_until([&] { return b->holds("g", after); }, 5s));
    const auto lag = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - joined);
    INFO("the join was seen across the healed split after " << lag.count() << " ms");
    CHECK(lag <= 500ms);
    CHECK(views_agree({a.get(), b.get()}));
}
