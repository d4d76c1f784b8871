#include "node/leadership.hpp"

#include <unistd.h>

#include <cstdint>

namespace liminal::detail {

void Leadership::open(Lead lead) {
    std::lock_guard lock(mutex_);
    lead_ = std::move(lead);
    io_thread_ = std::this_thread::get_id();
}

void Leadership::close() {
    {
        std::lock_guard lock(mutex_);
        lead_ = nullptr;
    }
    changed_.notify_all();
}

void Leadership::park(const std::function<void()>& unlock, const std::function<void()>& relock) {
    std::unique_lock lock(mutex_);
    want_.store(false, std::memory_order_relaxed);
    if (!lead_) return;
    parked_ = true;
    parked_hint_.store(true, std::memory_order_relaxed);
    lease_over_ = false;
    // The receiver that asked has a lease's time to take over.
    led_until_ = Clock::now();
    unlock();
    changed_.notify_all();
    for (;;) {
        const auto now = Clock::now();
        // A receiver that asked is on its way: it may not be scheduled within a lease.
        if (!leading_ && askers_ == 0 && (lease_over_ || now - led_until_ >= lease_)) break;
        if (leading_ && now - led_since_ >= recheck_) {
            // A receiver waits long: sleep until it returns (it says so).
            asleep_ = true;
            changed_.wait(lock, [&] { return !asleep_; });
            continue;
        }
        if (leading_ || askers_ > 0)
            changed_.wait_for(lock, recheck_);
        else
            changed_.wait_until(lock, led_until_ + lease_);
    }
    parked_ = false;
    parked_hint_.store(false, std::memory_order_relaxed);
    lock.unlock();
    relock();
}

bool Leadership::lead(Clock::time_point deadline, const std::function<bool()>& done) {
    std::unique_lock lock(mutex_);
    const auto self = std::this_thread::get_id();
    if (!lead_ || leading_ || self == io_thread_) return false;
    if (!parked_) {
        // Ask the I/O thread to park, and wait until it has (or until there
        // is no need: what we wait for came meanwhile).
        // Counted as an asker until it leads or gives up, so that the I/O
        // thread, once parked, waits for it however late it is scheduled.
        ++askers_;
        const auto give_up = [&](bool led) {
            --askers_;
            lock.unlock();
            changed_.notify_all();
            return led;
        };
        want_.store(true, std::memory_order_relaxed);
        lock.unlock();
        ring();
        lock.lock();
        while (!parked_ || leading_) {
            if (!lead_ || leading_) return give_up(false);
            lock.unlock();
            const bool finished = done();
            lock.lock();
            if (finished || Clock::now() >= deadline) return give_up(true);
            changed_.wait_until(lock, std::min(deadline, Clock::now() + recheck_));
        }
        --askers_;
    }
    leading_ = true;
    lease_over_ = false;  // the leader polls the doorbell itself
    led_since_ = Clock::now();
    const Lead run = lead_;
    lock.unlock();
    bool running = false;
    try {
        running = run(deadline, done);
    } catch (...) {
        lock.lock();
        leading_ = false;
        lease_over_ = true;
        asleep_ = false;
        lock.unlock();
        changed_.notify_all();
        throw;
    }
    lock.lock();
    leading_ = false;
    led_until_ = Clock::now();
    lease_over_ = lease_over_ || !running;
    // No wake-up for the I/O thread unless it sleeps for good: it looks
    // again within `recheck`.
    const bool wake = asleep_ || !running;
    asleep_ = false;
    lock.unlock();
    if (wake) changed_.notify_all();
    return true;
}

void Leadership::ring() {
    std::lock_guard lock(mutex_);
    if (!lead_) return;  // not running: the doorbell may be gone
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(doorbell_, &one, sizeof one);
}

void Leadership::nudge() {
    if (!parked_hint_.load(std::memory_order_relaxed)) return;
    {
        std::lock_guard lock(mutex_);
        if (!parked_ || leading_) return;  // a leader polls the doorbell itself
        lease_over_ = true;
    }
    changed_.notify_all();
}

}  // namespace liminal::detail
