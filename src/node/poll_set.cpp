#include "node/poll_set.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace liminal::detail {
namespace {

// While a descriptor could not be registered (the system's epoll limits),
// its socket is asked on every wait, and no wait is longer than this.
constexpr int unregistered_wait_ms = 10;

}  // namespace

PollSet::PollSet() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

PollSet::~PollSet() { ::close(epoll_); }

void PollSet::reset(int doorbell) {
    for (const auto& entry : entries_) entry_of_fd_[static_cast<std::size_t>(entry.fd)] = 0;
    entries_.clear();
    wanted_.clear();
    doorbell_ = doorbell;
    wanted_.emplace_back(doorbell, 0);
}

std::size_t PollSet::add(zmq::socket_t& socket, Watch& watch, short want) {
    entries_.push_back({&socket, &watch, want, 0, false, watch.fd});
    wanted_.emplace_back(watch.fd, watch.serial);
    const auto fd = static_cast<std::size_t>(watch.fd);
    if (fd >= entry_of_fd_.size()) entry_of_fd_.resize(fd + 1, 0);
    entry_of_fd_[fd] = static_cast<int>(entries_.size());
    return entries_.size() - 1;
}

void PollSet::sync() {
    std::sort(wanted_.begin(), wanted_.end());
    if (wanted_ == registered_) return;
    // Removals first: a new socket may have been given a closed one's
    // descriptor number. (A closed descriptor left epoll by itself: the
    // removal then fails, which is fine.)
    for (const auto& old : registered_) {
        if (std::binary_search(wanted_.begin(), wanted_.end(), old)) continue;
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, old.first, nullptr);
    }
    std::vector<Registration> now;
    now.reserve(wanted_.size());
    for (const auto& registration : wanted_) {
        if (std::binary_search(registered_.begin(), registered_.end(), registration)) {
            now.push_back(registration);
            continue;
        }
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = registration.first;
        if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, registration.first, &event) == 0 ||
            (errno == EEXIST && ::epoll_ctl(epoll_, EPOLL_CTL_MOD, registration.first, &event) == 0))
            now.push_back(registration);
    }
    registered_ = std::move(now);
}

bool PollSet::registered(const Registration& registration) const {
    return std::binary_search(registered_.begin(), registered_.end(), registration);
}

bool PollSet::wait(std::chrono::milliseconds timeout, std::unique_lock<std::mutex>& io) {
    // A touched socket may be ready without its descriptor saying so: ask it
    // first, and sleep only if none is.
    bool ready = false;
    for (auto& entry : entries_) {
        entry.ready = 0;
        entry.fired = false;
        if (!entry.watch->touched) continue;
        entry.watch->touched = false;
        entry.ready = static_cast<short>(entry.socket->get(zmq::sockopt::events) & entry.want);
        ready = ready || entry.ready != 0;
    }
    sync();
    const bool all_registered = registered_.size() == wanted_.size();
    int wait_ms = ready ? 0 : static_cast<int>(timeout.count());
    if (!all_registered) wait_ms = std::min(wait_ms, unregistered_wait_ms);
    events_.resize(wanted_.size());
    // While this thread sleeps, a sender may take the lock and send on the
    // sockets itself (CommandQueue::io_lock); it rings the doorbell if it
    // leaves anything for this thread to look at.
    if (wait_ms > 0) io.unlock();
    const int fired = ::epoll_wait(epoll_, events_.data(), static_cast<int>(events_.size()), wait_ms);
    if (wait_ms > 0) io.lock();
    doorbell_rang_ = false;
    for (int i = 0; i < fired; ++i) {  // none on EINTR
        const int fd = events_[static_cast<std::size_t>(i)].data.fd;
        if (fd == doorbell_) {
            doorbell_rang_ = true;
            continue;
        }
        const auto slot = static_cast<std::size_t>(fd);
        if (slot < entry_of_fd_.size() && entry_of_fd_[slot] > 0)
            entries_[static_cast<std::size_t>(entry_of_fd_[slot] - 1)].fired = true;
    }
    ready = ready || doorbell_rang_;
    for (auto& entry : entries_) {
        if (!entry.fired && (all_registered || registered({entry.fd, entry.watch->serial}))) continue;
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
