#include <liminal/error.hpp>
#include <liminal/process.hpp>

#include "node/mailbox.hpp"

namespace liminal {

Process::Process(Pid pid, std::shared_ptr<detail::Mailbox> mailbox, std::shared_ptr<detail::ProcessTable> table)
    : pid_(std::move(pid)), mailbox_(std::move(mailbox)), table_(std::move(table)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        close();
        pid_ = std::move(other.pid_);
        mailbox_ = std::move(other.mailbox_);
        table_ = std::move(other.table_);
    }
    return *this;
}

Process::~Process() { close(); }

namespace {
detail::Mailbox& require(const std::shared_ptr<detail::Mailbox>& mailbox) {
    if (!mailbox) throw Closed("liminal::Process: use of an empty (moved-from or default) process handle");
    return *mailbox;
}
}  // namespace

const Pid& Process::pid() const {
    require(mailbox_);
    return pid_;
}

std::optional<Message> Process::receive(std::chrono::milliseconds timeout) { return require(mailbox_).pop(timeout); }

std::optional<Message> Process::try_receive() { return require(mailbox_).try_pop(); }

void Process::on_message(std::function<void(Message)> handler, CallbackThread thread) {
    auto& mailbox = require(mailbox_);
    if (!handler) throw InvalidArgument("liminal::Process::on_message: empty handler");
    if (!mailbox.set_handler(std::move(handler), thread == CallbackThread::own))
        throw InvalidArgument("liminal::Process::on_message: the process has a handler already");
}

std::uint64_t Process::dropped() const { return require(mailbox_).dropped(); }

std::size_t Process::queued() const { return require(mailbox_).size(); }

void Process::close() {
    if (table_) table_->remove(pid_.id);
    if (mailbox_) mailbox_->close();
    table_.reset();
}

bool Process::is_open() const noexcept { return mailbox_ && !mailbox_->closed(); }

}  // namespace liminal
