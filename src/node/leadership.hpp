#pragma once
// Leader/follower receive: a thread that waits in Process::receive() runs
// the node's poll loop itself while the I/O thread is parked, so a message
// for it wakes it straight from the socket instead of waking the I/O thread,
// which then wakes it: one thread hand-off fewer each way.
//
// Who runs the actor at any time is one of:
//   the I/O thread         (the default: it polls, a receiver waits on its mailbox);
//   a leader               (a receiver polls; the I/O thread is parked);
//   nobody, under a lease  (the leader got its message and returned; the
//                           I/O thread stays parked a while, so that a
//                           receiver that comes straight back leads again
//                           without a hand-off; senders send on their own
//                           thread meanwhile, CommandQueue::io_lock).
// A receiver that finds the I/O thread polling asks it to park (want, and
// the doorbell), and leads once it has. The parked I/O thread looks every
// `recheck`, and takes over once nobody has led for `lease`; a leader that
// has led for a whole `recheck` (a receiver waiting long) lets it sleep
// until that leader returns. So input from the network waits at most about
// `recheck` while nobody leads; the doorbell ends a lease at once, so API
// commands never wait for one.
//
// Only the hand-off is here. What a leader runs (the poll loop, under the
// I/O lock) is the Actor's; a mailbox says when its receiver is done. A
// leader stops reading at the frame that brought what it waits for: the
// frames behind it are the next poller's (Actor::on_router).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace liminal::detail {

class Leadership {
public:
    using Clock = std::chrono::steady_clock;
    // Runs the poll loop on the calling thread until `done()` or `deadline`;
    // false when the node is stopping (the I/O thread takes over for good).
    using Lead = std::function<bool(Clock::time_point deadline, const std::function<bool()>& done)>;

    // `doorbell`: the command queue's eventfd, which every poller polls.
    explicit Leadership(int doorbell, std::chrono::microseconds lease = std::chrono::microseconds(200),
                        std::chrono::microseconds recheck = std::chrono::microseconds(1000))
        : doorbell_(doorbell), lease_(lease), recheck_(recheck) {}

    // The I/O thread: from now on receivers may lead by `lead`.
    void open(Lead lead);
    // The I/O thread, before it shuts down (not parked): nobody leads from
    // now on; would-be leaders waiting for a hand-off give up.
    void close();

    // The I/O thread, between polls: whether a receiver asked it to park.
    bool wanted() const noexcept { return want_.load(std::memory_order_relaxed); }
    // The I/O thread: parks while a receiver leads or its lease runs.
    // `unlock` and `relock` let go of the I/O lock and take it back.
    void park(const std::function<void()>& unlock, const std::function<void()>& relock);

    // A receiver whose mailbox is empty: leads until `done()` (checked
    // before every poll) or `deadline`. False when it did not lead (another
    // thread leads, this is the I/O thread or a leader itself, or the node is
    // not running): wait on the mailbox then. True: done() held, or the
    // deadline passed.
    bool lead(Clock::time_point deadline, const std::function<bool()>& done);
    // Something a leading receiver waits for happened outside the poll loop
    // (a local send to it, its mailbox closed): wakes whoever polls.
    void ring();
    // The doorbell rang: a lease ends now, so the I/O thread looks at once.
    void nudge();

private:
    const int doorbell_;
    const std::chrono::microseconds lease_;
    const std::chrono::microseconds recheck_;
    std::mutex mutex_;
    std::condition_variable changed_;
    Lead lead_;                      // guarded by mutex_: set while open
    std::thread::id io_thread_;      // guarded by mutex_
    bool leading_ = false;           // guarded by mutex_
    bool parked_ = false;            // guarded by mutex_
    bool asleep_ = false;            // guarded by mutex_: parked without a timeout (a leader polls)
    bool lease_over_ = false;        // guarded by mutex_: the doorbell rang, or a leader saw the node stop
    int askers_ = 0;                 // guarded by mutex_: receivers that asked it to park and have not led yet
    Clock::time_point led_since_{};  // guarded by mutex_: when the current leader began
    Clock::time_point led_until_{};  // guarded by mutex_: when the last leader returned
    std::atomic<bool> want_{false};
    std::atomic<bool> parked_hint_{false};  // parked_, read without the lock by nudge()
};

}  // namespace liminal::detail
