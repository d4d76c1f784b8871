#include "node/core.hpp"

#include <liminal/groups.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace liminal::detail {

Stats Counters::snapshot() const {
    Stats stats;
// Acquire: a count added with release (publish_frames_in, last for a frame)
// brings the counts added before it.
#define LIMINAL_COUNTER(name) stats.name = name.load(std::memory_order_acquire);
#include "node/counters.def"
#undef LIMINAL_COUNTER
    return stats;
}

CommandQueue::CommandQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

CommandQueue::~CommandQueue() { ::close(fd_); }

void CommandQueue::wake() {
    const std::uint64_t one = 1;
    // A full eventfd counter (EAGAIN) still means "readable": nothing is lost.
    [[maybe_unused]] const auto written = ::write(fd_, &one, sizeof one);
}

void CommandQueue::drain(OutgoingBatch& out, bool doorbell) {
    if (doorbell) {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto read = ::read(fd_, &count, sizeof count);
    }
    out.clear();
    std::lock_guard lock(mutex_);
    std::swap(out, queue_);
    pending_.store(false, std::memory_order_relaxed);
}

std::optional<PeerDirectory::Route> PeerDirectory::route(const std::string& name) const {
    std::shared_lock lock(mutex_);
    const auto it = peers_.find(name);
    if (it == peers_.end()) return std::nullopt;
    return Route{it->second.info.creation, it->second.info.state};
}

std::vector<PeerInfo> PeerDirectory::snapshot() const {
    std::shared_lock lock(mutex_);
    std::vector<PeerInfo> out;
    out.reserve(peers_.size() + connecting_.size());
    for (const auto& [name, entry] : peers_) {
        PeerInfo info = entry.info;
        if (entry.counters) {
            info.messages_out = entry.counters->messages_out.load(std::memory_order_relaxed);
            info.bytes_out = entry.counters->bytes_out.load(std::memory_order_relaxed);
            info.messages_in = entry.counters->messages_in.load(std::memory_order_relaxed);
            info.bytes_in = entry.counters->bytes_in.load(std::memory_order_relaxed);
        }
        out.push_back(std::move(info));
    }
    for (const auto& endpoint : connecting_) {
        PeerInfo info;
        info.router_endpoint = endpoint;
        info.state = PeerState::connecting;
        out.push_back(std::move(info));
    }
    return out;
}

void PeerDirectory::set(const PeerInfo& info, std::shared_ptr<PeerCounters> counters) {
    std::unique_lock lock(mutex_);
    peers_[info.name] = Entry{info, std::move(counters)};
}

void PeerDirectory::erase(const std::string& name) {
    std::unique_lock lock(mutex_);
    peers_.erase(name);
}

void PeerDirectory::set_connecting(const std::string& endpoint, bool connecting) {
    std::unique_lock lock(mutex_);
    if (connecting)
        connecting_.insert(endpoint);
    else
        connecting_.erase(endpoint);
}

bool EventQueue::push(PeerEvent event) {
    std::lock_guard lock(mutex_);
    bool kept_all = true;
    if (events_.size() >= capacity) {
        events_.pop_front();
        kept_all = false;
    }
    events_.push_back(std::move(event));
    ready_.notify_one();
    return kept_all;
}

std::optional<PeerEvent> EventQueue::pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [this] { return !events_.empty() || closed_; });
    if (events_.empty()) return std::nullopt;
    PeerEvent event = std::move(events_.front());
    events_.pop_front();
    return event;
}

void EventQueue::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
}

void AckBoard::record(const std::string& peer, std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    auto& acked = acked_[peer];
    acked = std::max(acked, seq);
    changed_.notify_all();
}

void AckBoard::forget(const std::string& peer) {
    std::lock_guard lock(mutex_);
    acked_.erase(peer);
}

std::vector<std::string> AckBoard::wait(const std::vector<std::string>& peers, std::uint64_t seq,
                                        std::chrono::steady_clock::time_point until) {
    std::unique_lock lock(mutex_);
    std::vector<std::string> lagging;
    const auto collect = [&] {
        lagging.clear();
        for (const auto& peer : peers) {
            const auto it = acked_.find(peer);
            if (it == acked_.end() || it->second < seq) lagging.push_back(peer);
        }
        return lagging.empty();
    };
    changed_.wait_until(lock, until, collect);
    return lagging;
}

PushResult deliver(Counters& counters, Mailbox& mailbox, Message message, std::atomic<std::uint64_t>& delivered) {
    const PushResult result = mailbox.push(std::move(message));
    switch (result) {
    case PushResult::delivered: bump(delivered); break;
    case PushResult::displaced:
        bump(delivered);
        bump(counters.dropped_mailbox_full);  // the oldest message made room
        break;
    case PushResult::full: bump(counters.dropped_mailbox_full); break;
    case PushResult::closed: bump(counters.dropped_no_such_process); break;
    }
    return result;
}

void DeliveryBatch::add(std::shared_ptr<Mailbox> mailbox, Message message, ChannelCounters* channel) {
    // A frame reaches few mailboxes: a linear search beats a map here.
    auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.mailbox == mailbox; });
    if (it == pending_.end()) {
        pending_.push_back(Pending{std::move(mailbox), {}, {}});
        it = std::prev(pending_.end());
    }
    it->messages.push_back(std::move(message));
    it->channels.push_back(channel);
}

void DeliveryBatch::flush(Counters& counters) {
    for (auto& p : pending_) {
        const std::vector<ChannelCounters*> channels = std::move(p.channels);
        const auto result = p.mailbox->push_batch(p.messages);
        bump(counters.dropped_mailbox_full, result.displaced);
        auto& refused = result.closed ? counters.dropped_no_such_process : counters.dropped_mailbox_full;
        // Under one lock, the first `delivered` went in and the rest were
        // refused. Counted per run of one channel (usually the whole batch),
        // not per message: every count is an atomic add.
        std::size_t publishes = 0, sends = 0, refusals = 0;
        for (std::size_t i = 0; i < channels.size();) {
            std::size_t in = 0, out = 0, j = i;
            for (; j < channels.size() && channels[j] == channels[i]; ++j) ++(j < result.delivered ? in : out);
            if (channels[i] != nullptr) {
                bump(channels[i]->delivered, in);
                bump(channels[i]->dropped, out);
                publishes += in;
            } else {
                sends += in;
            }
            refusals += out;
            i = j;
        }
        bump(counters.delivered_publish, publishes);
        bump(counters.delivered_remote, sends);
        bump(refused, refusals);
    }
    pending_.clear();
}

std::shared_ptr<const ChannelRoute> channel_route(NodeCore& core, std::string_view channel, bool publishing) {
    struct Cached {
        std::uint64_t node = 0;  // NodeCore::creation: unique within the process, never reused
        std::shared_ptr<const ChannelRoute> route;
    };
    thread_local std::array<Cached, 4> cache;
    thread_local std::size_t next_slot = 0;

    Membership& membership = *core.membership;
    const auto version = membership.version.load(std::memory_order_acquire);
    for (const auto& slot : cache) {
        if (slot.node == core.creation && slot.route->version == version && slot.route->channel == channel &&
            (slot.route->counters != nullptr || !publishing))
            return slot.route;
    }
    auto route = std::make_shared<ChannelRoute>();
    route->channel = std::string(channel);
    {
        const std::string scope(channels_scope);
        std::shared_lock lock(membership.mutex);
        // Read under the lock: a Write bumps the version while it holds it.
        route->version = membership.version.load(std::memory_order_acquire);
        route->local = membership.state.local_members(scope, route->channel);
        for (auto& [name, creation] : membership.state.remote_nodes(scope, route->channel))
            route->remote.push_back(ChannelRoute::Node{std::move(name), creation});
    }
    // A channel gets counters once it has a local subscriber or a local
    // publisher: a peer cannot grow the table by naming channels nobody here uses.
    if (publishing || !route->local.empty()) route->counters = &core.channels.at(channel);
    cache[next_slot] = Cached{core.creation, route};
    next_slot = (next_slot + 1) % cache.size();
    return route;
}

void record_effects(Membership& membership, membership::Effects& fx) {
    membership.monitors->dispatch(fx.changes);
    if (fx.deltas.empty()) return;
    for (auto& delta : fx.deltas) membership.outbox.push_back(std::move(delta));
    fx.deltas.clear();
    membership.outbox_ready.store(true, std::memory_order_release);
}

ChannelCounters& ChannelTable::at(std::string_view channel) {
    std::lock_guard lock(mutex_);
    if (const auto it = channels_.find(channel); it != channels_.end()) return *it->second;
    return *channels_.emplace(std::string(channel), std::make_unique<ChannelCounters>()).first->second;
}

std::vector<ChannelStats> ChannelTable::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<ChannelStats> out;
    for (const auto& [name, c] : channels_) {
        out.push_back(ChannelStats{name, c->published.load(), c->nodes_sent.load(), c->received.load(),
                                   c->delivered.load(), c->dropped.load()});
    }
    return out;
}

std::uint64_t new_creation() {
    static std::atomic<std::uint64_t> last{0};
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    std::uint64_t previous = last.load();
    std::uint64_t next = 0;
    do {
        next = std::max<std::uint64_t>(now, previous + 1);
    } while (!last.compare_exchange_weak(previous, next));
    return next;
}

}  // namespace liminal::detail
