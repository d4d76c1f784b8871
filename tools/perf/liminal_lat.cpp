// liminal_local_lat and liminal_remote_lat (by LIMINAL_PERF_LOCAL): directed
// send latency between two pids on two nodes. local binds and runs an echo
// process in group `lat`; remote joins through local's endpoint, finds the
// echo pid and pings it.
//
// By default both processes block in receive() on their own thread, so each
// message crosses from the node's I/O thread to the process's thread. With
// `--callback` (given to both) they take messages by callback on the I/O
// thread instead (Process::on_message with CallbackThread::delivering, the
// low-latency opt-in), and answer from there; with `--own-thread-callback`
// by callback on the process's own thread (on_message's default). With
// `--curve` the nodes run encrypted (the default security); otherwise
// plaintext, like the raw ZeroMQ baseline.

#include "perf_common.hpp"

#include "perf_node.hpp"


int main(int argc, char** argv) {
    const auto args =
        liminal::perf::parse_args(argc, argv, "roundtrip-count", {"--callback", "--own-thread-callback", "--curve"});
    const bool own_thread = args.has("--own-thread-callback");
    const bool callback = args.has("--callback") || own_thread;
    const auto where = own_thread ? liminal::Process::CallbackThread::own : liminal::Process::CallbackThread::delivering;
    const bool curve = args.has("--curve");
#ifdef LIMINAL_PERF_LOCAL
    auto o = liminal::perf::node_options("local_lat@127.0.0.1", curve);
    o.listen = args.endpoint;
    liminal::Node node(o);
    auto echo = node.spawn();
    node.join("default", "lat", echo.pid());
    if (callback) {
        liminal::perf::Flag done;
        std::size_t echoed = 0;  // the I/O thread's only
        echo.on_message([&](liminal::Message message) {
            node.send(echo.pid(), message.from(), message.payload());
            if (++echoed == args.count) done.set();
        }, where);
        // A generous bound: the run is over when remote has all its echoes.
        if (!done.wait(std::chrono::seconds(120 + args.count / 1000))) {
            std::fprintf(stderr, "liminal_local_lat: %zu of %zu pings echoed\n", echoed, args.count);
            return 1;
        }
        node.stop();
        return 0;
    }
    for (std::size_t i = 0; i < args.count; ++i) {
        auto message = echo.receive(std::chrono::seconds(60));
        if (!message) {
            std::fprintf(stderr, "liminal_local_lat: no ping within 60 s\n");
            return 1;
        }
        node.send(echo.pid(), message->from(), message->payload());
    }
    node.stop();
#else
    auto o = liminal::perf::node_options("remote_lat@127.0.0.1", curve);
    o.seeds = {args.endpoint};
    liminal::Node node(o);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::vector<liminal::Pid> targets;
    while ((targets = node.members("default", "lat")).empty()) {
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr, "liminal_remote_lat: no echo process within 30 s\n");
            return 1;
        }
        node.next_event(std::chrono::milliseconds(5));
    }
    // The echo node must know us too before it can answer.
    if (!node.sync_membership(std::chrono::seconds(30)).ok) return 1;
    auto self = node.spawn();
    const std::string payload(args.size, 'x');
    std::vector<double> samples;
    samples.reserve(args.count);
    if (callback) {
        liminal::perf::Flag done;
        auto start = std::chrono::steady_clock::now();
        self.on_message([&](liminal::Message) {
            const auto now = std::chrono::steady_clock::now();
            samples.push_back(std::chrono::duration<double, std::micro>(now - start).count() / 2);
            if (samples.size() == args.count) return done.set();
            start = std::chrono::steady_clock::now();
            node.send(self.pid(), targets.front(), payload);
        }, where);
        node.send(self.pid(), targets.front(), payload);
        if (!done.wait(std::chrono::seconds(10 + args.count / 1000))) {
            std::fprintf(stderr, "liminal_remote_lat: %zu of %zu echoes\n", samples.size(), args.count);
            return 1;
        }
        liminal::perf::print_latency(args.size, std::move(samples));
        return 0;
    }
    for (std::size_t i = 0; i < args.count; ++i) {
        const auto start = std::chrono::steady_clock::now();
        node.send(self.pid(), targets.front(), payload);
        if (!self.receive(std::chrono::seconds(10))) {
            std::fprintf(stderr, "liminal_remote_lat: no echo for ping %zu\n", i);
            return 1;
        }
        samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / 2);
    }
    liminal::perf::print_latency(args.size, std::move(samples));
#endif
    return 0;
}
