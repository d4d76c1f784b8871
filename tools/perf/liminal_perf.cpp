// liminal-perf: cluster scenarios. So far: backfill (a newcomer joining a
// node that holds M memberships: how long until its view is complete, and
// how much memory the view costs per remote membership).
//
//   liminal-perf backfill [memberships] [groups]     (defaults 100000 1000)

#include "perf_node.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

// Resident set size in bytes (Linux).
std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

int backfill(std::size_t memberships, std::size_t groups) {
    if (groups == 0 || memberships < groups) {
        std::fprintf(stderr, "liminal-perf backfill: need memberships >= groups > 0\n");
        return 2;
    }
    auto a_options = liminal::perf::node_options("holder@127.0.0.1");
    liminal::Node a(a_options);
    // memberships / groups processes, each in every group: the pg shape of
    // many workers in many groups.
    const std::size_t per_group = memberships / groups;
    std::vector<liminal::Process> processes;
    std::vector<liminal::Pid> pids;
    for (std::size_t i = 0; i < per_group; ++i) {
        processes.push_back(a.spawn());
        pids.push_back(processes.back().pid());
    }
    for (std::size_t g = 0; g < groups; ++g) a.join("default", "group-" + std::to_string(g), pids);
    const std::size_t total = per_group * groups;

    const std::size_t rss_before = rss_bytes();
    const auto start = std::chrono::steady_clock::now();
    auto b_options = liminal::perf::node_options("newcomer@127.0.0.1");
    b_options.seeds = {a.router_endpoint()};
    liminal::Node b(b_options);
    const auto deadline = start + std::chrono::seconds(120);
    while (b.stats().snapshots_applied == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr, "liminal-perf backfill: no snapshot within 120 s\n");
            return 1;
        }
        b.next_event(std::chrono::milliseconds(1));
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const std::size_t rss_after = rss_bytes();
    std::size_t seen = 0;
    for (const auto& group : b.which_groups("default")) seen += b.remote_members("default", group).size();
    if (seen != total) {
        std::fprintf(stderr, "liminal-perf backfill: view has %zu of %zu memberships\n", seen, total);
        return 1;
    }
    std::printf("memberships: %zu in %zu groups\n", total, groups);
    std::printf("backfill complete: %.1f [ms] from the newcomer's start\n", ms);
    std::printf("memory: %.0f [B] per remote membership (RSS growth, newcomer node included)\n",
                static_cast<double>(rss_after - std::min(rss_after, rss_before)) / static_cast<double>(total));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string scenario = argc > 1 ? argv[1] : "";
    if (scenario == "backfill") {
        const std::size_t memberships = argc > 2 ? std::stoull(argv[2]) : 100'000;
        const std::size_t groups = argc > 3 ? std::stoull(argv[3]) : 1'000;
        return backfill(memberships, groups);
    }
    std::fprintf(stderr,
                 "usage: liminal-perf backfill [memberships] [groups]\n"
                 "  backfill: a newcomer joins a node holding the memberships; prints the time until its view\n"
                 "            is complete and the memory per remote membership\n");
    return 2;
}
