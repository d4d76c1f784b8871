#include "node/mailbox.hpp"

#include "node/leadership.hpp"

namespace liminal::detail {

std::size_t message_cost(const Message& message) noexcept {
    // The Message and its owner block, the deque slot: about 128 bytes.
    std::size_t cost = 128 + message.payload().size() + message.from().node.size();
    for (const auto& [key, value] : message.headers()) cost += 64 + key.size() + value.size();
    if (const Envelope* envelope = message.envelope())
        cost += 64 + envelope->channel.size() + sizeof(MessageId) * envelope->parents.size();
    return cost;
}

Mailbox::~Mailbox() {
    if (!dispatcher_.joinable()) return;
    // The last owner may be the dispatcher itself (it holds one while it runs).
    if (dispatcher_.get_id() == std::this_thread::get_id())
        dispatcher_.detach();
    else
        dispatcher_.join();
}

bool Mailbox::fits_locked(std::size_t cost) const {
    return queue_.size() + taken_count_.load(std::memory_order_acquire) < limits_.capacity &&
           queue_bytes_ + taken_bytes_.load(std::memory_order_acquire) + cost <= limits_.bytes;
}

PushResult Mailbox::enqueue_locked(Message& message, std::size_t& displaced) {
    const std::size_t cost = message_cost(message);
    if (!fits_locked(cost)) {
        // drop_oldest drops the oldest messages the consumer has not taken yet.
        if (limits_.overflow == OverflowPolicy::drop_oldest) {
            while (!queue_.empty() && !fits_locked(cost)) {
                queue_bytes_ -= message_cost(queue_.front());
                queue_.pop_front();
                ++displaced;
            }
            dropped_.fetch_add(displaced, std::memory_order_relaxed);
        }
        if (!fits_locked(cost)) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return PushResult::full;
        }
    }
    queue_.push_back(std::move(message));
    queue_bytes_ += cost;
    return displaced > 0 ? PushResult::displaced : PushResult::delivered;
}

std::size_t Mailbox::cut_locked() {
    closed_ = true;
    cut_.store(true, std::memory_order_release);
    const std::size_t dropped = queue_.size() + 1;  // and the message that did not fit
    queue_.clear();
    queue_bytes_ = 0;
    dropped_.fetch_add(dropped, std::memory_order_relaxed);
    return dropped;
}

PushResult Mailbox::push(Message message, bool may_wait, std::size_t* dropped, bool timeout_is_would_block) {
    std::shared_ptr<Handler> handler;
    {
        std::unique_lock lock(mutex_);
        if (closed_) {
            if (counters_ != nullptr) refuse(*counters_, counters_->dropped_no_such_process);
            return PushResult::closed;
        }
        if (!handler_) {
            std::size_t displaced = 0;
            const std::size_t cost = message_cost(message);
            if (!fits_locked(cost) && may_wait && limits_.overflow == OverflowPolicy::block) {
                room_waiters_.fetch_add(1);
                const bool room =
                    room_.wait_for(lock, limits_.block_timeout, [&] { return closed_ || fits_locked(cost); });
                room_waiters_.fetch_sub(1);
                if (closed_) {
                    if (counters_ != nullptr) refuse(*counters_, counters_->dropped_no_such_process);
                    return PushResult::closed;
                }
                if (!room) {
                    if (counters_ != nullptr)
                        refuse(*counters_, timeout_is_would_block ? counters_->would_block : counters_->dropped_mailbox_full);
                    const bool report = !slow_.exchange(true);
                    lock.unlock();
                    if (report && on_full_) on_full_(false);
                    return PushResult::timed_out;
                }
            }
            if (!fits_locked(cost) && limits_.overflow == OverflowPolicy::disconnect) {
                const std::size_t waiting = queue_.size();
                const std::size_t cut = cut_locked();
                if (counters_ != nullptr) {
                    Counters::Entry entry(counters_->ledger);
                    bump(counters_->accepted);
                    counters_->in_flight_mailboxes.fetch_sub(waiting, std::memory_order_relaxed);
                    bump(counters_->dropped_slow_consumer, waiting + 1);
                }
                if (dropped != nullptr) *dropped = cut - 1;
                lock.unlock();
                ready_.notify_all();
                room_.notify_all();
                wake_leader();
                if (on_full_) on_full_(true);
                return PushResult::cut_off;
            }
            const PushResult result = enqueue_locked(message, displaced);
            if (counters_ != nullptr) {
                Counters::Entry entry(counters_->ledger);
                bump(counters_->accepted);
                if (result == PushResult::full) {
                    bump(counters_->dropped_mailbox_full);
                } else {
                    bump(counters_->in_flight_mailboxes);
                    counters_->in_flight_mailboxes.fetch_sub(displaced, std::memory_order_relaxed);
                    bump(counters_->dropped_mailbox_full, displaced);
                }
            }
            if (dropped != nullptr) *dropped = displaced;
            const bool report = (result == PushResult::full || displaced > 0) && !slow_.exchange(true);
            const bool wake = result != PushResult::full && waiters_ > 0;
            lock.unlock();
            // Outside the lock: a woken consumer does not block on it at once.
            if (wake) ready_.notify_one();
            if (result != PushResult::full) wake_leader();
            if (report && on_full_) on_full_(false);
            return result;
        }
        handler = handler_;
        if (counters_ != nullptr) {  // handed to the process now
            Counters::Entry entry(counters_->ledger);
            bump(counters_->accepted);
            bump(counters_->received);
        }
    }
    std::lock_guard calls(handler_calls_);
    (*handler)(std::move(message));
    return PushResult::delivered;
}

Mailbox::BatchResult Mailbox::push_batch(std::vector<Message>& batch) {
    BatchResult result;
    std::shared_ptr<Handler> handler;
    {
        std::unique_lock lock(mutex_);
        if (closed_) {
            result.closed = true;
            result.refused = batch.size();
            if (counters_ != nullptr) refuse(*counters_, counters_->dropped_no_such_process, batch.size());
            batch.clear();
            return result;
        }
        if (!handler_) {
            bool full = false;
            std::size_t refused_full = 0;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                auto& message = batch[i];
                if (limits_.overflow == OverflowPolicy::disconnect && !fits_locked(message_cost(message))) {
                    result.cut_off = true;
                    result.cut_dropped = cut_locked() - 1;
                    result.refused += batch.size() - i;
                    dropped_.fetch_add(batch.size() - i - 1, std::memory_order_relaxed);
                    break;
                }
                std::size_t displaced = 0;
                switch (enqueue_locked(message, displaced)) {
                case PushResult::displaced: [[fallthrough]];
                case PushResult::delivered: ++result.delivered; break;
                default:
                    ++result.refused;
                    ++refused_full;
                    full = true;
                    break;
                }
                result.displaced += displaced;
                full |= displaced > 0;
            }
            if (counters_ != nullptr) {
                // In: what went in; out: what it displaced, and on a cut
                // everything that waited (the rest of the batch never went in).
                const std::size_t cut_rest = result.cut_off ? result.refused - refused_full : 0;
                Counters::Entry entry(counters_->ledger);
                bump(counters_->accepted, batch.size());
                bump(counters_->in_flight_mailboxes, result.delivered);
                counters_->in_flight_mailboxes.fetch_sub(result.displaced + result.cut_dropped, std::memory_order_relaxed);
                bump(counters_->dropped_mailbox_full, result.displaced + refused_full);
                bump(counters_->dropped_slow_consumer, result.cut_dropped + cut_rest);
            }
            batch.clear();
            const bool report = !result.cut_off && full && !slow_.exchange(true);
            const bool wake = (waiters_ > 0 && result.delivered > 0) || result.cut_off;
            lock.unlock();
            if (wake) ready_.notify_all();  // outside the lock, as in push()
            if (result.cut_off) room_.notify_all();
            if ((report || result.cut_off) && on_full_) on_full_(result.cut_off);
            return result;
        }
        handler = handler_;
        if (counters_ != nullptr) {  // handed to the process now
            Counters::Entry entry(counters_->ledger);
            bump(counters_->accepted, batch.size());
            bump(counters_->received, batch.size());
        }
    }
    std::lock_guard calls(handler_calls_);
    for (auto& message : batch) (*handler)(std::move(message));
    result.delivered = batch.size();
    batch.clear();
    return result;
}

void Mailbox::took(std::size_t cost) {
    taken_bytes_.fetch_sub(cost, std::memory_order_acq_rel);
    taken_count_.fetch_sub(1, std::memory_order_acq_rel);
    if (slow_.load(std::memory_order_relaxed)) {
        std::lock_guard lock(mutex_);
        const std::size_t count = queue_.size() + taken_count_.load(std::memory_order_acquire);
        const std::size_t bytes = queue_bytes_ + taken_bytes_.load(std::memory_order_acquire);
        if (count * 4 < limits_.capacity && bytes * 4 < limits_.bytes) slow_.store(false);
    }
    if (room_waiters_.load() > 0) {
        // Through the lock: a sender between its check and its wait sees this.
        { std::lock_guard lock(mutex_); }
        room_.notify_all();
    }
}

void Mailbox::taken_all_locked() {
    taken_.swap(queue_);
    taken_count_.store(taken_.size(), std::memory_order_release);
    taken_bytes_.store(queue_bytes_, std::memory_order_release);
    queue_bytes_ = 0;
}

void Mailbox::count_received() {
    if (counters_ != nullptr && uncounted_received_ != 0)
        settle(*counters_, counters_->in_flight_mailboxes, counters_->received, uncounted_received_);
    uncounted_received_ = 0;
}

std::optional<Message> Mailbox::take_one() {
    if (cut_.load(std::memory_order_acquire)) {
        count_received();
        if (counters_ != nullptr && !taken_.empty())
            settle(*counters_, counters_->in_flight_mailboxes, counters_->dropped_slow_consumer, taken_.size());
        taken_.clear();
        taken_count_.store(0, std::memory_order_release);
        taken_bytes_.store(0, std::memory_order_release);
        return std::nullopt;
    }
    if (taken_.empty()) {
        count_received();
        return std::nullopt;
    }
    Message message = std::move(taken_.front());
    taken_.pop_front();
    took(message_cost(message));
    // Counted a batch at a time (one ledger lock per batch, not per
    // message): when the process has taken all it had, or every 256.
    if (++uncounted_received_ >= 256 || taken_.empty()) count_received();
    return message;
}

void Mailbox::lead_until(std::chrono::steady_clock::time_point deadline) {
    // Without take_mutex_: the I/O thread may close this mailbox (taking it)
    // while it holds the I/O lock, which a leader takes. So another consumer
    // may take what arrives meanwhile; pop() then waits on as usual.
    const auto arrived = [this] {
        std::lock_guard lock(mutex_);
        return arrived_locked();
    };
    if (arrived()) return;
    leading_.fetch_add(1);
    try {
        leadership_->lead(deadline, arrived);
    } catch (...) {
        leading_.fetch_sub(1);
        throw;
    }
    leading_.fetch_sub(1);
}

void Mailbox::wake_leader() {
    // Sequentially consistent with lead_until's increment: either the
    // leader's check under mutex_ (before each poll) sees what was pushed,
    // or this sees it leading, and the doorbell wakes its poll.
    if (leading_.load() > 0) leadership_->ring();
}

std::optional<Message> Mailbox::pop(std::chrono::milliseconds timeout) {
    using Clock = std::chrono::steady_clock;
    // A wait of a year or more is forever (and would overflow the clock).
    const auto deadline = timeout >= std::chrono::hours(24 * 365) ? Clock::time_point::max() : Clock::now() + timeout;
    if (leadership_ != nullptr && taken_count_.load(std::memory_order_acquire) == 0) lead_until(deadline);
    std::lock_guard take(take_mutex_);
    if (taken_.empty()) {
        std::unique_lock lock(mutex_);
        ++waiters_;
        if (deadline == Clock::time_point::max())
            ready_.wait(lock, [this] { return arrived_locked(); });
        else
            ready_.wait_until(lock, deadline, [this] { return arrived_locked(); });
        --waiters_;
        taken_all_locked();
    }
    return take_one();
}

std::optional<Message> Mailbox::try_pop() {
    std::lock_guard take(take_mutex_);
    if (taken_.empty()) {
        std::lock_guard lock(mutex_);
        taken_all_locked();
    }
    return take_one();
}

void Mailbox::run_handler(std::shared_ptr<Handler> handler) {
    const auto keep = shared_from_this();  // alive while this thread runs
    for (;;) {
        auto message = pop(std::chrono::hours(1));
        if (closed()) return;  // a closed process gets nothing more, waiting or not
        if (message) (*handler)(std::move(*message));
    }
}

bool Mailbox::set_handler(std::function<void(Message)> handler, bool own_thread) {
    auto shared = std::make_shared<Handler>(std::move(handler));
    if (own_thread) {
        std::lock_guard lock(mutex_);
        if (dispatcher_.joinable() || handler_) return false;  // one handler per process
        if (closed_) return true;  // nothing will come
        // What waits already is the dispatcher's first work, in order.
        dispatcher_ = std::thread([this, shared] { run_handler(shared); });
        return true;
    }
    // Holding handler_calls_ while the backlog drains makes a concurrent push
    // wait, so the backlog is handed over before anything newer.
    std::lock_guard calls(handler_calls_);
    std::deque<Message> backlog;
    {
        // Not held while the handler runs: it may close its own process.
        std::lock_guard take(take_mutex_);
        std::lock_guard lock(mutex_);
        if (dispatcher_.joinable() || handler_) return false;
        handler_ = shared;
        backlog.swap(taken_);
        for (auto& message : queue_) backlog.push_back(std::move(message));
        queue_.clear();
        queue_bytes_ = 0;
        taken_count_.store(0, std::memory_order_release);
        taken_bytes_.store(0, std::memory_order_release);
        count_received();
        if (counters_ != nullptr)
            settle(*counters_, counters_->in_flight_mailboxes, counters_->received, backlog.size());
    }
    for (auto& message : backlog) (*shared)(std::move(message));
    return true;
}

void Mailbox::close(bool join) {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
    wake_leader();  // a leading consumer sleeps in poll, not on ready_
    {
        // A waiting consumer has woken (closed_) and let go of take_mutex_.
        // What it did not take now never will be: dropped, counted.
        std::lock_guard take(take_mutex_);
        std::lock_guard lock(mutex_);
        count_received();
        const std::size_t unread = queue_.size() + taken_.size();
        queue_.clear();
        queue_bytes_ = 0;
        taken_.clear();
        taken_count_.store(0, std::memory_order_release);
        taken_bytes_.store(0, std::memory_order_release);
        // A mailbox removed before the node stopped stays attached: the
        // node may still push to it (refused, counted); once closed it
        // holds nothing, so nothing here touches the counters again.
        if (counters_ != nullptr && unread != 0)
            settle(*counters_, counters_->in_flight_mailboxes, counters_->dropped_no_such_process, unread);
    }
    if (join && dispatcher_.joinable() && dispatcher_.get_id() != std::this_thread::get_id()) dispatcher_.join();
}

void Mailbox::detach() {
    std::lock_guard take(take_mutex_);
    std::lock_guard lock(mutex_);
    counters_ = nullptr;
}

bool Mailbox::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

std::size_t Mailbox::size() const {
    std::lock_guard lock(mutex_);
    return queue_.size() + taken_count_.load(std::memory_order_acquire);
}

std::pair<std::uint64_t, std::shared_ptr<Mailbox>> ProcessTable::create(const MailboxLimits& limits) {
    std::unique_lock lock(mutex_);
    const std::uint64_t id = next_id_++;
    auto on_full = on_full_ ? std::function<void(bool)>([hook = on_full_, id](bool cut) { hook(id, cut); })
                            : std::function<void(bool)>();
    auto mailbox = std::make_shared<Mailbox>(limits, std::move(on_full), counters_, leadership_);
    processes_.emplace(id, mailbox);
    return {id, mailbox};
}

std::shared_ptr<Mailbox> ProcessTable::find(std::uint64_t id) const {
    std::shared_lock lock(mutex_);
    const auto it = processes_.find(id);
    return it == processes_.end() ? nullptr : it->second;
}

void ProcessTable::remove(std::uint64_t id, bool join) {
    std::shared_ptr<Mailbox> mailbox;
    {
        std::unique_lock lock(mutex_);
        const auto it = processes_.find(id);
        if (it == processes_.end()) return;
        mailbox = std::move(it->second);
        processes_.erase(it);
    }
    mailbox->close(join);
    if (on_remove_) on_remove_(id);
}

void ProcessTable::close_all() {
    std::vector<std::shared_ptr<Mailbox>> all;
    {
        std::unique_lock lock(mutex_);
        for (auto& [id, mailbox] : processes_) all.push_back(mailbox);
    }
    // Outside the lock: a callback finishing may still look a process up.
    for (auto& mailbox : all) mailbox->close(false);
    for (auto& mailbox : all) mailbox->close(true);
    for (auto& mailbox : all) mailbox->detach();
}

std::size_t ProcessTable::size() const {
    std::shared_lock lock(mutex_);
    return processes_.size();
}

}  // namespace liminal::detail
