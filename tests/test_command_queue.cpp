// The queue from API threads to the I/O thread: who sends a message that
// starts a burst (its sender, when the I/O thread sleeps), and when the
// doorbell rings instead. A fake I/O thread here is whoever holds io_lock().

#include "node/command_queue.hpp"

#include <catch2/catch.hpp>

#include <poll.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

using namespace liminal;
using namespace liminal::detail;
using namespace std::chrono_literals;

namespace {

bool doorbell_rang(const CommandQueue& queue) {
    pollfd fd{queue.fd(), POLLIN, 0};
    return ::poll(&fd, 1, 0) == 1;
}

bool push(CommandQueue& queue, const std::string& bytes) {
    return queue.push(
        nullptr, "b@127.0.0.1", 1, [&](std::string& out) { out += bytes; }, [] {});
}

// A flusher that takes what waits on the calling thread, as the actor's does.
struct Flusher {
    explicit Flusher(CommandQueue& q, bool a = true) : queue(q), answer(a) {}
    CommandQueue& queue;
    bool answer;                  // what it tells the queue: nothing left for the I/O thread
    int calls = 0;
    std::thread::id thread;
    OutgoingBatch taken;

    bool operator()() {
        ++calls;
        thread = std::this_thread::get_id();
        OutgoingBatch batch;
        if (queue.drain_messages(batch)) {
            taken.bytes += batch.bytes;
            taken.items.insert(taken.items.end(), batch.items.begin(), batch.items.end());
        }
        return answer;
    }
};

}  // namespace

TEST_CASE("a message that starts a burst while the I/O thread sleeps is sent by its sender, without the doorbell",
          "[queue]") {
    CommandQueue queue;
    Flusher flusher(queue);
    queue.set_flusher([&] { return flusher(); });
    REQUIRE(push(queue, "one"));
    CHECK(flusher.calls == 1);
    CHECK(flusher.thread == std::this_thread::get_id());
    CHECK(flusher.taken.bytes == "one");
    CHECK_FALSE(queue.pending());
    CHECK_FALSE(doorbell_rang(queue));
}

TEST_CASE("within a burst the doorbell rings, so that messages gather for the I/O thread", "[queue]") {
    CommandQueue queue;
    Flusher flusher(queue);
    queue.set_flusher([&] { return flusher(); });
    queue.set_burst_gap(std::chrono::hours(1));  // every message follows the last within the gap
    REQUIRE(push(queue, "one"));   // the first ever starts a burst
    REQUIRE(flusher.calls == 1);
    REQUIRE(push(queue, "two"));
    REQUIRE(push(queue, "three"));  // queued behind "two": no second ring either
    CHECK(flusher.calls == 1);
    CHECK(doorbell_rang(queue));
    OutgoingBatch batch;
    queue.drain(batch, true);
    CHECK(batch.bytes == "twothree");
    CHECK_FALSE(doorbell_rang(queue));
}

TEST_CASE("while the I/O thread holds its lock a sender rings the doorbell and does not wait", "[queue]") {
    CommandQueue queue;
    Flusher flusher(queue);
    queue.set_flusher([&] { return flusher(); });
    std::mutex m;
    std::condition_variable cv;
    bool held = false, done = false;
    std::thread io([&] {
        std::lock_guard io_lock(queue.io_lock());
        std::unique_lock lock(m);
        held = true;
        cv.notify_all();
        cv.wait(lock, [&] { return done; });
    });
    {
        std::unique_lock lock(m);
        REQUIRE(cv.wait_for(lock, 5s, [&] { return held; }));
    }
    REQUIRE(push(queue, "one"));  // returns while the lock is still held
    CHECK(flusher.calls == 0);
    CHECK(doorbell_rang(queue));
    CHECK(queue.pending());
    {
        std::lock_guard lock(m);
        done = true;
    }
    cv.notify_all();
    io.join();
}

TEST_CASE("a flusher that leaves work for the I/O thread, or none set, rings the doorbell", "[queue]") {
    CommandQueue queue;
    SECTION("a flusher that says a socket wants the I/O thread") {
        Flusher flusher(queue, false);
        queue.set_flusher([&] { return flusher(); });
        REQUIRE(push(queue, "one"));
        CHECK(flusher.calls == 1);
        CHECK(flusher.taken.bytes == "one");  // sent here all the same
        CHECK(doorbell_rang(queue));
    }
    SECTION("no flusher (the I/O thread is stopping)") {
        REQUIRE(push(queue, "one"));
        CHECK(doorbell_rang(queue));
        CHECK(queue.pending());
    }
}

TEST_CASE("a sender never carries out typed commands: with one waiting, messages are left to the I/O thread",
          "[queue]") {
    CommandQueue queue;
    queue.post(command::Gossip{});
    REQUIRE(doorbell_rang(queue));
    REQUIRE(push(queue, "one"));
    OutgoingBatch batch;
    CHECK_FALSE(queue.drain_messages(batch));
    CHECK(batch.items.empty());
    CHECK(queue.pending());
    queue.drain(batch, true);
    CHECK(batch.commands.size() == 1);
    CHECK(batch.bytes == "one");
}

TEST_CASE("the queue says when the I/O thread itself queued something, until it is taken", "[queue]") {
    CommandQueue queue;
    queue.set_consumer();  // this thread plays the I/O thread
    OutgoingBatch out;
    // An API thread's message: pending, but not the consumer's.
    bool pushed = false;
    std::thread([&] { pushed = push(queue, "from an API thread"); }).join();
    REQUIRE(pushed);
    CHECK(queue.pending());
    CHECK_FALSE(queue.queued_by_consumer());
    // A callback on the I/O thread answers.
    REQUIRE(push(queue, "a reply"));
    CHECK(queue.queued_by_consumer());
    queue.drain(out, true);
    CHECK(out.items.size() == 2);
    CHECK_FALSE(queue.pending());
    CHECK_FALSE(queue.queued_by_consumer());
    // A typed command it posts counts the same.
    queue.post(command::Gossip{});
    CHECK(queue.queued_by_consumer());
    queue.drain(out, false);
    CHECK(out.commands.size() == 1);
    CHECK_FALSE(queue.queued_by_consumer());
}
