#include "node/poll_set.hpp"

namespace liminal::detail {

void PollSet::reset(int doorbell) {
    entries_.clear();
    fds_.clear();
    fds_.push_back({doorbell, POLLIN, 0});
}

std::size_t PollSet::add(zmq::socket_t& socket, Watch& watch, short want) {
    entries_.push_back({&socket, &watch, want, 0});
    fds_.push_back({watch.fd, POLLIN, 0});
    return entries_.size() - 1;
}

bool PollSet::wait(std::chrono::milliseconds timeout, std::unique_lock<std::mutex>& io) {
    // A touched socket may be ready without its descriptor saying so: ask it
    // first, and sleep only if none is.
    bool ready = false;
    for (auto& entry : entries_) {
        entry.ready = 0;
        if (!entry.watch->touched) continue;
        entry.watch->touched = false;
        entry.ready = static_cast<short>(entry.socket->get(zmq::sockopt::events) & entry.want);
        ready = ready || entry.ready != 0;
    }
    const int wait_ms = ready ? 0 : static_cast<int>(timeout.count());
    // While this thread sleeps, a sender may take the lock and send on the
    // sockets itself (CommandQueue::io_lock); it rings the doorbell if it
    // leaves anything for this thread to look at.
    if (wait_ms > 0) io.unlock();
    const int polled = ::poll(fds_.data(), fds_.size(), wait_ms);
    if (wait_ms > 0) io.lock();
    if (polled < 0) {
        for (auto& fd : fds_) fd.revents = 0;  // EINTR: nothing signalled
    }
    ready = ready || doorbell_rang();
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (fds_[i + 1].revents == 0) continue;
        Entry& entry = entries_[i];
        entry.ready = static_cast<short>(entry.ready | (entry.socket->get(zmq::sockopt::events) & entry.want));
        ready = ready || entry.ready != 0;
    }
    return ready;
}

bool PollSet::take(std::size_t index, short event) {
    Entry& entry = entries_[index];
    if (!(entry.ready & event)) return false;
    entry.watch->touched = true;
    return true;
}

}  // namespace liminal::detail
