// The poll loop's poll set (poll_set.hpp): ZeroMQ sockets waited on through
// their ZMQ_FD in one epoll instance, plus the command queue's doorbell. The
// set is rebuilt on every iteration, so these check that what joins it wakes
// a wait, that what left it does not, and that a socket given the
// descriptor number of a closed one is waited on, not taken for the old one.

#include "node/poll_set.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace liminal::detail;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Two connected PAIR sockets: what is sent on `out` is input on `in`.
struct Pair {
    Pair(zmq::context_t& context, const std::string& name)
        : out(context, zmq::socket_type::pair), in(context, zmq::socket_type::pair) {
        in.bind("inproc://" + name);
        out.connect("inproc://" + name);
    }
    zmq::socket_t out;
    zmq::socket_t in;
};

struct Fixture {
    Fixture() : doorbell(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) { REQUIRE(doorbell >= 0); }
    ~Fixture() { ::close(doorbell); }

    // One wait of up to `timeout`, timed.
    bool wait(std::chrono::milliseconds timeout) {
        std::unique_lock io(io_lock);
        const auto start = Clock::now();
        const bool ready = set.wait(timeout, io);
        took = Clock::now() - start;
        return ready;
    }

    zmq::context_t context;
    int doorbell;
    std::mutex io_lock;
    PollSet set;
    Clock::duration took{};
};

}  // namespace

TEST_CASE("the poll set wakes for a socket whose input came, and for the doorbell") {
    Fixture f;
    Pair pair(f.context, "input");
    Watch watch(pair.in);
    f.set.reset(f.doorbell);
    const auto index = f.set.add(pair.in, watch, ZMQ_POLLIN);
    // A new watch is touched: asked first, and nothing is there.
    CHECK_FALSE(f.wait(0ms));
    CHECK_FALSE(watch.touched);

    // Input now comes through the descriptor alone.
    REQUIRE(pair.out.send(zmq::str_buffer("x"), zmq::send_flags::dontwait));
    f.set.reset(f.doorbell);
    REQUIRE(f.set.add(pair.in, watch, ZMQ_POLLIN) == index);
    REQUIRE(f.wait(10'000ms));
    CHECK(f.took < 5s);
    CHECK_FALSE(f.set.doorbell_rang());
    CHECK(f.set.take(index, ZMQ_POLLIN));
    CHECK(watch.touched);  // taken: its handler reads it
    zmq::message_t message;
    REQUIRE(pair.in.recv(message, zmq::recv_flags::dontwait));

    // The doorbell, with the socket still touched (asked again: nothing).
    const std::uint64_t one = 1;
    REQUIRE(::write(f.doorbell, &one, sizeof one) == static_cast<ssize_t>(sizeof one));
    f.set.reset(f.doorbell);
    f.set.add(pair.in, watch, ZMQ_POLLIN);
    REQUIRE(f.wait(10'000ms));
    CHECK(f.took < 5s);
    CHECK(f.set.doorbell_rang());
    CHECK_FALSE(f.set.take(index, ZMQ_POLLIN));
}

TEST_CASE("a socket that left the poll set no longer wakes its wait, and wakes it again once back") {
    Fixture f;
    Pair first(f.context, "first"), second(f.context, "second");
    Watch first_watch(first.in), second_watch(second.in);
    f.set.reset(f.doorbell);
    f.set.add(first.in, first_watch, ZMQ_POLLIN);
    f.set.add(second.in, second_watch, ZMQ_POLLIN);
    CHECK_FALSE(f.wait(0ms));

    // Only the second socket is in the set when the first gets input.
    f.set.reset(f.doorbell);
    const auto second_index = f.set.add(second.in, second_watch, ZMQ_POLLIN);
    REQUIRE(first.out.send(zmq::str_buffer("x"), zmq::send_flags::dontwait));
    CHECK_FALSE(f.wait(100ms));  // wait-ok: the whole timeout passes, as nothing in the set is ready
    CHECK(f.took >= 90ms);
    CHECK_FALSE(f.set.take(second_index, ZMQ_POLLIN));

    // Back in the set, its descriptor (never read since) wakes the wait.
    f.set.reset(f.doorbell);
    f.set.add(second.in, second_watch, ZMQ_POLLIN);
    const auto first_index = f.set.add(first.in, first_watch, ZMQ_POLLIN);
    REQUIRE(f.wait(10'000ms));
    CHECK(f.took < 5s);
    CHECK(f.set.take(first_index, ZMQ_POLLIN));
}

TEST_CASE("a new socket given the descriptor number of a closed one is waited on") {
    Fixture f;
    auto old_pair = std::make_unique<Pair>(f.context, "old");
    Watch old_watch(old_pair->in);
    const int reused = old_watch.fd;
    f.set.reset(f.doorbell);
    f.set.add(old_pair->in, old_watch, ZMQ_POLLIN);
    CHECK_FALSE(f.wait(0ms));  // registered

    // The old socket closes (ZeroMQ closes its descriptor a little later);
    // the set no longer holds it.
    old_pair.reset();
    f.set.reset(f.doorbell);
    REQUIRE(liminal::test::wait_until([&] { return ::fcntl(reused, F_GETFD) == -1 && errno == EBADF; }));

    // New sockets take the lowest free descriptors: one of them gets its
    // number. (A PAIR is symmetric: whichever end got it is the one polled.)
    std::vector<std::unique_ptr<Pair>> pairs;
    zmq::socket_t* polled = nullptr;
    zmq::socket_t* sender = nullptr;
    for (int i = 0; i < 256 && polled == nullptr; ++i) {
        auto& pair = *pairs.emplace_back(std::make_unique<Pair>(f.context, "new" + std::to_string(i)));
        if (pair.in.get(zmq::sockopt::fd) == reused) polled = &pair.in, sender = &pair.out;
        if (pair.out.get(zmq::sockopt::fd) == reused) polled = &pair.out, sender = &pair.in;
    }
    REQUIRE(polled != nullptr);
    Watch watch(*polled);
    REQUIRE(watch.fd == reused);
    REQUIRE(watch.serial != old_watch.serial);
    f.set.add(*polled, watch, ZMQ_POLLIN);  // the set still holds the old registration: not waited on since
    CHECK_FALSE(f.wait(0ms));

    REQUIRE(sender->send(zmq::str_buffer("x"), zmq::send_flags::dontwait));
    f.set.reset(f.doorbell);
    const auto index = f.set.add(*polled, watch, ZMQ_POLLIN);
    REQUIRE(f.wait(10'000ms));
    CHECK(f.took < 5s);
    CHECK(f.set.take(index, ZMQ_POLLIN));
}
