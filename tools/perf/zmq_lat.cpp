// Raw ZeroMQ latency baseline: zmq_local_lat (bound ROUTER, echoes) and
// zmq_remote_lat (DEALER, sends and waits for the echo), by ZMQ_PERF_LOCAL.

#include "perf_common.hpp"
#include "zmq_curve.hpp"

#include <zmq.hpp>

int main(int argc, char** argv) {
    const auto args = liminal::perf::parse_args(argc, argv, "roundtrip-count", {"--curve"});
    zmq::context_t context;
#ifdef ZMQ_PERF_LOCAL
    zmq::socket_t router(context, zmq::socket_type::router);
    liminal::perf::curve_server(router, args);
    router.bind(args.endpoint);
    for (std::size_t i = 0; i < args.count; ++i) {
        zmq::message_t id, body;
        (void)router.recv(id);
        (void)router.recv(body);
        router.send(id, zmq::send_flags::sndmore);
        router.send(body, zmq::send_flags::none);
    }
#else
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    liminal::perf::curve_client(dealer, args);
    dealer.connect(args.endpoint);
    std::vector<double> samples;
    samples.reserve(args.count);
    for (std::size_t i = 0; i < args.count; ++i) {
        zmq::message_t message(args.size);
        const auto start = std::chrono::steady_clock::now();
        dealer.send(message, zmq::send_flags::none);
        zmq::message_t reply;
        (void)dealer.recv(reply);
        samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / 2);
    }
    liminal::perf::print_latency(args.size, std::move(samples));
#endif
    return 0;
}
