// liminal_local_thr and liminal_remote_thr (by LIMINAL_PERF_LOCAL): channel
// throughput across two nodes. local binds, subscribes one process to `thr`
// and times the messages; remote joins through local's endpoint, waits for
// the subscriber (convergence barrier) and publishes.

#include "perf_common.hpp"

#include "perf_node.hpp"

int main(int argc, char** argv) {
    const auto args = liminal::perf::parse_args(argc, argv, "message-count", {"--curve"});
    const bool curve = args.has("--curve");
#ifdef LIMINAL_PERF_LOCAL
    auto o = liminal::perf::node_options("local_thr@127.0.0.1", curve);
    o.listen = args.endpoint;
    liminal::Node node(o);
    auto sub = node.spawn();
    node.subscribe("thr", sub.pid());
    if (!sub.receive(std::chrono::seconds(60))) {
        std::fprintf(stderr, "liminal_local_thr: no message within 60 s\n");
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 1; i < args.count; ++i) {
        if (!sub.receive(std::chrono::seconds(10))) {
            std::fprintf(stderr, "liminal_local_thr: stalled after %zu messages (dropped: %llu)\n", i,
                         static_cast<unsigned long long>(node.stats().dropped_mailbox_full));
            return 1;
        }
    }
    liminal::perf::print_throughput(args.size, args.count, std::chrono::steady_clock::now() - start);
#else
    auto o = liminal::perf::node_options("remote_thr@127.0.0.1", curve);
    o.seeds = {args.endpoint};
    liminal::Node node(o);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (node.members(liminal::channels_scope, "thr").empty()) {
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr, "liminal_remote_thr: no subscriber of 'thr' within 30 s\n");
            return 1;
        }
        node.next_event(std::chrono::milliseconds(5));
    }
    const std::string payload(args.size, 'x');
    for (std::size_t i = 0; i < args.count; ++i) {
        while (node.publish("thr", payload).would_block) {
        }
    }
    node.stop();
    const auto stats = node.stats();
    if (stats.dropped_node_down + stats.dropped_backpressure > 0) {
        std::fprintf(stderr, "liminal_remote_thr: %llu messages dropped\n",
                     static_cast<unsigned long long>(stats.dropped_node_down + stats.dropped_backpressure));
        return 1;
    }
#endif
    return 0;
}
