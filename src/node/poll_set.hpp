#pragma once
// The I/O thread's poll set: ZeroMQ sockets polled through their ZMQ_FD
// (see Watch, sockets.hpp), plus one plain descriptor, the command queue's
// doorbell. zmq_poll reads every socket's ZMQ_EVENTS on every call, a system
// call each; this set asks only the sockets that were touched since, or whose
// descriptor fired. The descriptors wait in one epoll instance, registered
// when they join the set and removed when they leave it, so a wait costs the
// same whatever the number of sockets (poll(2) would add and remove a wait
// on every descriptor, every time). Used by whichever thread runs the poll
// loop, under the I/O lock.

#include "node/sockets.hpp"

#include <zmq.hpp>

#include <sys/epoll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace liminal::detail {

class PollSet {
public:
    PollSet();
    ~PollSet();
    PollSet(const PollSet&) = delete;
    PollSet& operator=(const PollSet&) = delete;

    // Starts a new set around the plain descriptor `doorbell` (polled for input).
    void reset(int doorbell);
    // Adds a socket that wants ZMQ_POLLIN and/or ZMQ_POLLOUT; returns its index.
    std::size_t add(zmq::socket_t& socket, Watch& watch, short want);
    // Waits up to `timeout` (not at all when a touched socket is ready already)
    // and records what each socket is ready for. True when anything is.
    // `io` (the I/O lock, held) is let go only while the thread sleeps.
    bool wait(std::chrono::milliseconds timeout, std::unique_lock<std::mutex>& io);
    bool doorbell_rang() const noexcept { return doorbell_rang_; }
    // Whether socket `index` is ready for `event`. If so it counts as touched:
    // its handler will send or receive on it.
    bool take(std::size_t index, short event);

private:
    struct Entry {
        zmq::socket_t* socket = nullptr;
        Watch* watch = nullptr;
        short want = 0;   // ZMQ_POLLIN and/or ZMQ_POLLOUT
        short ready = 0;  // of `want`, what ZMQ_EVENTS reported
        bool fired = false;
        int fd = -1;  // the watch's, kept: a later reset() must not look at a watch that may be gone
    };
    // A descriptor and the Watch::serial it belongs to (0: the doorbell).
    using Registration = std::pair<int, std::uint64_t>;

    // Makes the epoll instance hold exactly this set's descriptors.
    void sync();
    bool registered(const Registration& registration) const;

    int epoll_ = -1;
    int doorbell_ = -1;
    bool doorbell_rang_ = false;
    std::vector<Entry> entries_;
    std::vector<Registration> wanted_;      // this set's, sorted
    std::vector<Registration> registered_;  // the epoll instance's, sorted
    std::vector<int> entry_of_fd_;          // entries_ index + 1 by descriptor; 0 for none
    std::vector<epoll_event> events_;
};

}  // namespace liminal::detail
