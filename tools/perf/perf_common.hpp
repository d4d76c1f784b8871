#pragma once
// Shared by the perf tools: argument parsing and output in the format of
// libzmq's perf tools (local_thr, local_lat), so results read the same.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include <algorithm>
#include <mutex>

namespace liminal::perf {

struct Args {
    std::string endpoint;
    std::size_t size = 0;
    std::size_t count = 0;
    std::vector<std::string> flags;  // the optional arguments after the count
    bool has(const std::string& flag) const { return std::find(flags.begin(), flags.end(), flag) != flags.end(); }
};

// `<endpoint> <message-size> <count> [flag...]`, each flag one of `allowed`;
// exits 2 with a usage line otherwise.
inline Args parse_args(int argc, char** argv, const char* count_name, std::vector<std::string> allowed = {}) {
    bool ok = argc >= 4;
    for (int i = 4; ok && i < argc; ++i) ok = std::find(allowed.begin(), allowed.end(), argv[i]) != allowed.end();
    if (!ok) {
        std::string optional;
        for (const auto& flag : allowed) optional += " [" + flag + "]";
        std::fprintf(stderr, "usage: %s <endpoint> <message-size> <%s>%s\n", argv[0], count_name, optional.c_str());
        std::exit(2);
    }
    Args args;
    args.endpoint = argv[1];
    char* end = nullptr;
    args.size = std::strtoull(argv[2], &end, 10);
    if (*end != '\0') std::exit(2);
    args.count = std::strtoull(argv[3], &end, 10);
    if (*end != '\0' || args.count == 0) {
        std::fprintf(stderr, "%s: %s must be a positive number\n", argv[0], count_name);
        std::exit(2);
    }
    for (int i = 4; i < argc; ++i) args.flags.emplace_back(argv[i]);
    return args;
}


// Set once (by a callback, say), waited for with a deadline.
class Flag {
public:
    void set() {
        std::lock_guard lock(mutex_);
        set_ = true;
        changed_.notify_all();
    }
    bool wait(std::chrono::seconds timeout) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return set_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool set_ = false;
};

inline void print_throughput(std::size_t size, std::size_t count, std::chrono::steady_clock::duration elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const double rate = static_cast<double>(count) / seconds;
    std::printf("message size: %zu [B]\n", size);
    std::printf("message count: %zu\n", count);
    std::printf("mean throughput: %.0f [msg/s]\n", rate);
    std::printf("mean throughput: %.3f [Mb/s]\n", rate * static_cast<double>(size) * 8 / 1e6);
}

// Half round trips in microseconds: average, p50, p99.
inline void print_latency(std::size_t size, std::vector<double> half_rtt_us) {
    std::sort(half_rtt_us.begin(), half_rtt_us.end());
    double sum = 0;
    for (const double v : half_rtt_us) sum += v;
    const auto at = [&](double q) { return half_rtt_us[static_cast<std::size_t>(q * static_cast<double>(half_rtt_us.size() - 1))]; };
    std::printf("message size: %zu [B]\n", size);
    std::printf("roundtrip count: %zu\n", half_rtt_us.size());
    std::printf("average latency: %.3f [us]\n", sum / static_cast<double>(half_rtt_us.size()));
    std::printf("p50 latency: %.3f [us]\n", at(0.50));
    std::printf("p99 latency: %.3f [us]\n", at(0.99));
}

}  // namespace liminal::perf
