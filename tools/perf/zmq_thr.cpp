// Raw ZeroMQ baselines for throughput, the pattern liminal uses underneath:
// a DEALER sending to a bound ROUTER. Built as zmq_local_thr (ROUTER, counts
// and times) and zmq_remote_thr (DEALER, sends), chosen by ZMQ_PERF_LOCAL.

#include "perf_common.hpp"
#include "zmq_curve.hpp"

#include <zmq.hpp>

int main(int argc, char** argv) {
    const auto args = liminal::perf::parse_args(argc, argv, "message-count", {"--curve"});
    zmq::context_t context;
#ifdef ZMQ_PERF_LOCAL
    zmq::socket_t router(context, zmq::socket_type::router);
    liminal::perf::curve_server(router, args);
    router.set(zmq::sockopt::rcvhwm, 100000);
    router.bind(args.endpoint);
    zmq::message_t id, body;
    (void)router.recv(id);
    (void)router.recv(body);
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 1; i < args.count; ++i) {
        (void)router.recv(id);
        (void)router.recv(body);
    }
    liminal::perf::print_throughput(args.size, args.count, std::chrono::steady_clock::now() - start);
#else
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    liminal::perf::curve_client(dealer, args);
    dealer.set(zmq::sockopt::sndhwm, 100000);
    dealer.set(zmq::sockopt::linger, -1);
    dealer.connect(args.endpoint);
    for (std::size_t i = 0; i < args.count; ++i) {
        zmq::message_t message(args.size);
        dealer.send(message, zmq::send_flags::none);
    }
#endif
    return 0;
}
