#pragma once
// The I/O thread's poll set: ZeroMQ sockets polled through their ZMQ_FD
// (see Watch, sockets.hpp), plus one plain descriptor, the command queue's
// doorbell. zmq_poll reads every socket's ZMQ_EVENTS on every call, a system
// call each; this set asks only the sockets that were touched since, or whose
// descriptor fired. Runs on the I/O thread.

#include "node/sockets.hpp"

#include <zmq.hpp>

#include <poll.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <vector>

namespace liminal::detail {

class PollSet {
public:
    // Starts a new set around the plain descriptor `doorbell` (polled for input).
    void reset(int doorbell);
    // Adds a socket that wants ZMQ_POLLIN and/or ZMQ_POLLOUT; returns its index.
    std::size_t add(zmq::socket_t& socket, Watch& watch, short want);
    // Waits up to `timeout` (not at all when a touched socket is ready already)
    // and records what each socket is ready for. True when anything is.
    // `io` (the I/O lock, held) is let go only while the thread sleeps in poll.
    bool wait(std::chrono::milliseconds timeout, std::unique_lock<std::mutex>& io);
    bool doorbell_rang() const noexcept { return (fds_[0].revents & POLLIN) != 0; }
    // Whether socket `index` is ready for `event`. If so it counts as touched:
    // its handler will send or receive on it.
    bool take(std::size_t index, short event);

private:
    struct Entry {
        zmq::socket_t* socket = nullptr;
        Watch* watch = nullptr;
        short want = 0;   // ZMQ_POLLIN and/or ZMQ_POLLOUT
        short ready = 0;  // of `want`, what ZMQ_EVENTS reported
    };
    std::vector<Entry> entries_;
    std::vector<pollfd> fds_;  // fds_[0] is the doorbell, fds_[i + 1] belongs to entries_[i]
};

}  // namespace liminal::detail
