#include "node/mailbox.hpp"

namespace liminal::detail {

PushResult Mailbox::push(Message message) {
    std::shared_ptr<Handler> handler;
    {
        std::lock_guard lock(mutex_);
        if (closed_) return PushResult::closed;
        if (!handler_) {
            PushResult result = PushResult::delivered;
            if (queue_.size() >= capacity_) {
                dropped_.fetch_add(1, std::memory_order_relaxed);
                if (overflow_ == OverflowPolicy::drop_newest) return PushResult::full;
                queue_.pop_front();
                result = PushResult::displaced;
            }
            queue_.push_back(std::move(message));
            if (waiters_ > 0) ready_.notify_one();
            return result;
        }
        handler = handler_;
    }
    std::lock_guard calls(handler_calls_);
    (*handler)(std::move(message));
    return PushResult::delivered;
}

std::optional<Message> Mailbox::pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ++waiters_;
    ready_.wait_for(lock, timeout, [this] { return !queue_.empty() || closed_; });
    --waiters_;
    if (queue_.empty()) return std::nullopt;
    Message message = std::move(queue_.front());
    queue_.pop_front();
    return message;
}

std::optional<Message> Mailbox::try_pop() {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) return std::nullopt;
    Message message = std::move(queue_.front());
    queue_.pop_front();
    return message;
}

void Mailbox::set_handler(std::function<void(Message)> handler) {
    // Holding handler_calls_ while the backlog drains makes a concurrent push
    // wait, so the backlog is handed over before anything newer.
    std::lock_guard calls(handler_calls_);
    std::deque<Message> backlog;
    auto shared = std::make_shared<Handler>(std::move(handler));
    {
        std::lock_guard lock(mutex_);
        handler_ = shared;
        backlog.swap(queue_);
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
    return queue_.size();
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
