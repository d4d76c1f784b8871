// A node in a process of its own, for the overload tests (test_overload.cpp),
// which watch its RSS from outside:
//   overload_node sub NAME            a process subscribed to `flood` that never
//                                     reads its mailbox
//   overload_node pub NAME SEED SECONDS SIZE
//                                     publishes SIZE-byte messages to `flood` as
//                                     fast as it can for SECONDS
// Both print `ready <router endpoint>` once serving. sub runs until SIGTERM;
// each then prints its counters as `stats key=value ...` and exits 0.

#include <liminal/liminal.hpp>

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

constexpr const char* cookie = "overload-test-cookie-5b81f09c2d";

void print_stats(liminal::Node& node, std::uint64_t published, std::uint64_t refused) {
    const auto s = node.stats();
    std::printf("stats published=%llu refused=%llu publish_frames_out=%llu dropped_backpressure=%llu "
                "dropped_mailbox_full=%llu delivered_publish=%llu publish_frames_in=%llu dropped_node_down=%llu "
                "dropped_queue_full=%llu\n",
                static_cast<unsigned long long>(published), static_cast<unsigned long long>(refused),
                static_cast<unsigned long long>(s.publish_frames_out),
                static_cast<unsigned long long>(s.dropped_backpressure),
                static_cast<unsigned long long>(s.dropped_mailbox_full),
                static_cast<unsigned long long>(s.delivered_publish),
                static_cast<unsigned long long>(s.publish_frames_in),
                static_cast<unsigned long long>(s.dropped_node_down),
                static_cast<unsigned long long>(s.dropped_queue_full));
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: overload_node sub NAME | pub NAME SEED SECONDS SIZE\n");
        return 2;
    }
    const std::string role = argv[1];
    liminal::Options options;
    options.name = argv[2];
    options.cookie = cookie;
    if (role == "sub") {
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before the node's threads start
        liminal::Node node(options);
        auto process = node.spawn();
        node.subscribe("flood", process.pid());
        std::printf("ready %s\n", node.router_endpoint().c_str());
        std::fflush(stdout);
        int signal = 0;
        sigwait(&stop, &signal);
        print_stats(node, 0, 0);
        return 0;
    }
    if (role != "pub" || argc < 6) return 2;
    options.seeds = {argv[3]};
    const auto seconds = std::chrono::seconds(std::stoi(argv[4]));
    const std::string payload(std::stoul(argv[5]), 'x');
    liminal::Node node(options);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (node.members("channels", "flood").empty()) {
        if (std::chrono::steady_clock::now() > deadline) return 1;
        node.next_event(std::chrono::milliseconds(10));
    }
    std::printf("ready %s\n", node.router_endpoint().c_str());
    std::fflush(stdout);
    std::uint64_t published = 0, refused = 0;
    const auto until = std::chrono::steady_clock::now() + seconds;
    while (std::chrono::steady_clock::now() < until) {
        for (int i = 0; i < 256; ++i) {
            const auto result = node.publish("flood", payload);
            ++published;
            if (result.too_large) ++refused;
        }
    }
    print_stats(node, published, refused);
    return 0;
}
