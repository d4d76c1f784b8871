#include "node/mailbox.hpp"

namespace liminal::detail {

PushResult Mailbox::enqueue_locked(Message& message) {
    PushResult result = PushResult::delivered;
    if (queue_.size() + taken_count_.load(std::memory_order_acquire) >= capacity_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        // drop_oldest drops the oldest message the consumer has not taken yet.
        if (overflow_ != OverflowPolicy::drop_oldest || queue_.empty()) return PushResult::full;
        queue_.pop_front();
        result = PushResult::displaced;
    }
    queue_.push_back(std::move(message));
    return result;
}

PushResult Mailbox::push(Message message) {
    std::shared_ptr<Handler> handler;
    {
        std::unique_lock lock(mutex_);
        if (closed_) return PushResult::closed;
        if (!handler_) {
            const PushResult result = enqueue_locked(message);
            const bool wake = result != PushResult::full && waiters_ > 0;
            lock.unlock();
            // Outside the lock: a woken consumer does not block on it at once.
            if (wake) ready_.notify_one();
            return result;
        }
        handler = handler_;
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
            batch.clear();
            return result;
        }
        if (!handler_) {
            for (auto& message : batch) {
                switch (enqueue_locked(message)) {
                case PushResult::displaced: ++result.displaced; [[fallthrough]];
                case PushResult::delivered: ++result.delivered; break;
                default: ++result.refused; break;
                }
            }
            batch.clear();
            const bool wake = waiters_ > 0 && result.delivered > 0;
            lock.unlock();
            if (wake) ready_.notify_one();  // outside the lock, as in push()
            return result;
        }
        handler = handler_;
    }
    std::lock_guard calls(handler_calls_);
    for (auto& message : batch) (*handler)(std::move(message));
    result.delivered = batch.size();
    batch.clear();
    return result;
}

std::optional<Message> Mailbox::take_one() {
    if (taken_.empty()) return std::nullopt;
    Message message = std::move(taken_.front());
    taken_.pop_front();
    taken_count_.store(taken_.size(), std::memory_order_release);
    return message;
}

std::optional<Message> Mailbox::pop(std::chrono::milliseconds timeout) {
    std::lock_guard take(take_mutex_);
    if (taken_.empty()) {
        std::unique_lock lock(mutex_);
        ++waiters_;
        ready_.wait_for(lock, timeout, [this] { return !queue_.empty() || closed_; });
        --waiters_;
        taken_.swap(queue_);
        taken_count_.store(taken_.size(), std::memory_order_release);
    }
    return take_one();
}

std::optional<Message> Mailbox::try_pop() {
    std::lock_guard take(take_mutex_);
    if (taken_.empty()) {
        std::lock_guard lock(mutex_);
        taken_.swap(queue_);
        taken_count_.store(taken_.size(), std::memory_order_release);
    }
    return take_one();
}

void Mailbox::set_handler(std::function<void(Message)> handler) {
    // Holding handler_calls_ while the backlog drains makes a concurrent push
    // wait, so the backlog is handed over before anything newer.
    std::lock_guard calls(handler_calls_);
    std::lock_guard take(take_mutex_);
    std::deque<Message> backlog;
    auto shared = std::make_shared<Handler>(std::move(handler));
    {
        std::lock_guard lock(mutex_);
        handler_ = shared;
        backlog.swap(taken_);
        for (auto& message : queue_) backlog.push_back(std::move(message));
        queue_.clear();
        taken_count_.store(0, std::memory_order_release);
    }
    for (auto& message : backlog) (*shared)(std::move(message));
}

void Mailbox::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
}

bool Mailbox::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

std::size_t Mailbox::size() const {
    std::lock_guard lock(mutex_);
    return queue_.size() + taken_count_.load(std::memory_order_acquire);
}

std::pair<std::uint64_t, std::shared_ptr<Mailbox>> ProcessTable::create() {
    auto mailbox = std::make_shared<Mailbox>(mailbox_capacity_, overflow_);
    std::unique_lock lock(mutex_);
    const std::uint64_t id = next_id_++;
    processes_.emplace(id, mailbox);
    return {id, mailbox};
}

std::shared_ptr<Mailbox> ProcessTable::find(std::uint64_t id) const {
    std::shared_lock lock(mutex_);
    const auto it = processes_.find(id);
    return it == processes_.end() ? nullptr : it->second;
}

void ProcessTable::remove(std::uint64_t id) {
    std::shared_ptr<Mailbox> mailbox;
    {
        std::unique_lock lock(mutex_);
        const auto it = processes_.find(id);
        if (it == processes_.end()) return;
        mailbox = std::move(it->second);
        processes_.erase(it);
    }
    mailbox->close();
    if (on_remove_) on_remove_(id);
}

void ProcessTable::close_all() {
    std::unique_lock lock(mutex_);
    for (auto& [id, mailbox] : processes_) mailbox->close();
}

std::size_t ProcessTable::size() const {
    std::shared_lock lock(mutex_);
    return processes_.size();
}

}  // namespace liminal::detail
