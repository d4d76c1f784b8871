// Leader/follower receive (leadership.hpp): a receiver that would wait runs
// the poll loop on its own thread while the I/O thread is parked. A fake I/O
// thread here polls the doorbell and parks when asked, as the actor does;
// a leader polls the doorbell too, and holds the I/O lock except in poll.

#include "node/leadership.hpp"
#include "node/mailbox.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

using namespace liminal;
using namespace liminal::detail;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// One wait on the doorbell, as a poller does: true when it rang (and it is cleared).
bool wait_doorbell(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
    std::uint64_t count = 0;
    [[maybe_unused]] const auto read = ::read(fd, &count, sizeof count);
    return true;
}

struct FakeIo {
    explicit FakeIo(std::chrono::microseconds lease = 200us, std::chrono::microseconds recheck = 1000us)
        : doorbell(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), leadership(doorbell, lease, recheck) {}
    ~FakeIo() {
        stop_io();
        ::close(doorbell);
    }

    // The I/O thread: opens the leadership, then polls and parks when asked.
    // `park_when_asked` false: it never parks (a receiver waits for it in vain).
    void start(bool park_when_asked = true) {
        io_thread = std::thread([this, park_when_asked] {
            std::unique_lock io(io_lock);
            leadership.open([this](Clock::time_point deadline, const std::function<bool()>& done) {
                return lead(deadline, done);
            });
            io_thread_led = leadership.lead(Clock::now() + 20s, [] { return true; });
            opened = true;
            while (!stop) {
                io.unlock();  // asleep in poll
                polls.fetch_add(1);
                wait_doorbell(doorbell, 1ms);
                io.lock();
                if (park_when_asked && leadership.wanted()) {
                    parks.fetch_add(1);
                    parked = true;
                    leadership.park([&] { io.unlock(); }, [&] { io.lock(); });
                    parked = false;
                }
            }
            leadership.close();
        });
        REQUIRE(test::wait_until([&] { return opened.load(); }));
    }
    void stop_io() {
        stop = true;
        leadership.nudge();
        if (io_thread.joinable()) io_thread.join();
    }

    // What a leader runs: the "poll loop" on the leader's thread, holding the I/O lock but in poll.
    bool lead(Clock::time_point deadline, const std::function<bool()>& done) {
        std::unique_lock io(io_lock, std::try_to_lock);
        leader_held_lock = io.owns_lock();
        if (!io) return true;
        leader = std::this_thread::get_id();
        leads.fetch_add(1);
        leading = true;
        while (!done() && Clock::now() < deadline) {
            io.unlock();
            wait_doorbell(doorbell, std::chrono::ceil<std::chrono::milliseconds>(
                                        std::min<Clock::duration>(deadline - Clock::now(), 60s)));
            io.lock();
        }
        leading = false;
        return !stopping;
    }

    int doorbell;
    Leadership leadership;
    std::mutex io_lock;
    std::thread io_thread;
    std::atomic<bool> opened{false}, stop{false}, parked{false}, leading{false}, stopping{false};
    std::atomic<bool> leader_held_lock{false};
    std::atomic<int> parks{0}, leads{0}, polls{0};
    std::thread::id leader;
    std::optional<bool> io_thread_led;  // whether the I/O thread itself could lead
};

// A receiver leading on its own thread until `release` is set (or 20 s pass).
struct Receiver {
    Receiver(FakeIo& io, std::atomic<bool>& release)
        : thread([&io, &release, this] {
              led = io.leadership.lead(Clock::now() + 20s, [&] { return release.load(); });
              returned = true;
          }) {}
    ~Receiver() {
        if (thread.joinable()) thread.join();
    }
    std::atomic<bool> led{false}, returned{false};
    std::thread thread;
};

}  // namespace

TEST_CASE("a receiver that would wait has the I/O thread park, then polls on its own thread holding the I/O lock",
          "[leadership]") {
    FakeIo io;
    io.start();
    std::atomic<bool> release{false};
    Receiver receiver(io, release);
    REQUIRE(test::wait_until([&] { return io.leading.load(); }));
    CHECK(io.parks.load() == 1);
    CHECK(io.parked.load());
    CHECK(io.leader_held_lock.load());
    CHECK(io.leader == receiver.thread.get_id());
    release = true;
    io.leadership.ring();  // what it waits for came from outside its poll loop
    receiver.thread.join();
    CHECK(receiver.led.load());
}

TEST_CASE("under the lease a receiver that comes back leads again without asking, and the doorbell ends the lease",
          "[leadership]") {
    FakeIo io(std::chrono::hours(1));  // a lease that only the doorbell ends
    io.start();
    const auto led = [&] { return io.leading.load(); };  // done once it leads
    REQUIRE(io.leadership.lead(Clock::now() + 20s, led));
    REQUIRE(io.parks.load() == 1);
    const int polls = io.polls.load();
    for (int i = 0; i < 3; ++i) {
        CHECK(io.leadership.lead(Clock::now() + 20s, led));
        CHECK_FALSE(io.leadership.wanted());
    }
    CHECK(io.leads.load() == 4);
    CHECK(io.parks.load() == 1);      // asked once
    CHECK(io.polls.load() == polls);  // and the I/O thread stayed parked
    CHECK(io.parked.load());
    io.leadership.nudge();  // what CommandQueue does when the doorbell rings
    CHECK(test::wait_until([&] { return !io.parked.load() && io.polls.load() > polls; }));
}

TEST_CASE("once nobody leads the I/O thread takes over when the lease runs out", "[leadership]") {
    FakeIo io(500us, 1000us);
    io.start();
    const auto led = [&] { return io.leading.load(); };  // done once it leads
    REQUIRE(io.leadership.lead(Clock::now() + 20s, led));
    REQUIRE(io.parks.load() == 1);
    const int polls = io.polls.load();
    CHECK(test::wait_until([&] { return !io.parked.load() && io.polls.load() > polls; }));
}

TEST_CASE("one leader at a time: a second receiver waits on its mailbox instead", "[leadership]") {
    FakeIo io;
    io.start();
    std::atomic<bool> release{false};
    Receiver first(io, release);
    REQUIRE(test::wait_until([&] { return io.leading.load(); }));
    std::atomic<bool> never{false};
    CHECK_FALSE(io.leadership.lead(Clock::now() + 20s, [&] { return never.load(); }));
    release = true;
    io.leadership.ring();
    first.thread.join();
    CHECK(io.leads.load() == 1);
}

TEST_CASE("the I/O thread, a leader's own callbacks and a closed node never lead", "[leadership]") {
    FakeIo io;
    std::atomic<bool> nested{true};
    std::atomic<bool> release{false};
    std::optional<bool> inner;
    // A leader's callback that receives: it must not wait for itself to park.
    Leadership& leadership = io.leadership;
    io.start();
    REQUIRE(leadership.lead(Clock::now() + 20s, [&] {
        if (io.leading && !inner) inner = leadership.lead(Clock::now() + 20s, [&] { return nested.load(); });
        return inner.has_value();
    }));
    REQUIRE(inner.has_value());
    CHECK_FALSE(*inner);
    REQUIRE(io.io_thread_led.has_value());
    CHECK_FALSE(*io.io_thread_led);
    io.stop_io();  // closes it
    CHECK_FALSE(leadership.lead(Clock::now() + 20s, [&] { return release.load(); }));
    CHECK(io.leads.load() == 1);
}

TEST_CASE("a receiver waiting for an I/O thread that does not park gives up when the node closes", "[leadership]") {
    FakeIo io;
    io.start(false);  // never parks: the hand-off is still being asked for when close() comes
    std::atomic<bool> never{false};
    std::atomic<bool> returned{false};
    std::optional<bool> led;
    std::thread receiver([&] {
        led = io.leadership.lead(Clock::now() + 20s, [&] { return never.load(); });
        returned = true;
    });
    REQUIRE(test::wait_until([&] { return io.leadership.wanted(); }));
    const auto closing = Clock::now();
    io.stop_io();
    receiver.join();
    CHECK(Clock::now() - closing < 10s);  // not the receiver's 20 s deadline
    REQUIRE(led.has_value());
    CHECK_FALSE(*led);
    CHECK(io.leads.load() == 0);
}

TEST_CASE("a leader that sees the node stop hands the I/O thread back at once, whatever the lease", "[leadership]") {
    FakeIo io(std::chrono::hours(1));
    io.start();
    io.stopping = true;  // the leader's poll loop reports the node stopping
    const auto led = [&] { return io.leading.load(); };  // done once it leads
    REQUIRE(io.leadership.lead(Clock::now() + 20s, led));
    CHECK(test::wait_until([&] { return !io.parked.load(); }));
}

TEST_CASE("a mailbox whose consumer leads is woken by a push from another thread and by its close", "[leadership]") {
    FakeIo io;
    io.start();
    auto mailbox = std::make_shared<Mailbox>(MailboxLimits{}, nullptr, nullptr,
                                             std::shared_ptr<Leadership>(&io.leadership, [](Leadership*) {}));
    std::optional<Message> got;
    std::atomic<bool> returned{false};
    std::thread consumer([&] {
        got = mailbox->pop(20s);
        returned = true;
    });
    // The consumer polls for the node, asleep in poll (the fake's waits
    // until its deadline): only the doorbell wakes it.
    REQUIRE(test::wait_until([&] { return io.leading.load(); }));
    const auto pushed = Clock::now();
    REQUIRE(mailbox->push(Message(Pid{}, Headers{}, "hello")) == PushResult::delivered);
    consumer.join();
    CHECK(Clock::now() - pushed < 10s);  // not the 20 s it would sleep unrung
    REQUIRE(got.has_value());
    CHECK(got->payload() == "hello");

    returned = false;
    std::thread closed_consumer([&] {
        got = mailbox->pop(20s);
        returned = true;
    });
    REQUIRE(test::wait_until([&] { return io.leading.load(); }));
    const auto closing = Clock::now();
    mailbox->close();
    closed_consumer.join();
    CHECK(Clock::now() - closing < 10s);
    CHECK_FALSE(got.has_value());
}
