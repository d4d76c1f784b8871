#pragma once
// A local process: a pid and the mailbox behind it.

#include <liminal/message.hpp>
#include <liminal/pid.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace liminal {

namespace detail { class Mailbox; class ProcessTable; }

// Owns a local process. Movable, not copyable; the process closes when the
// handle is destroyed or close() is called, and later sends to its pid are
// counted as undeliverable. The handle may be used from any thread.
//
// A default-constructed or moved-from Process is empty: close() does nothing,
// is_open() is false, and every other member throws liminal::Error of
// ErrorKind::closed (liminal/error.hpp).
class Process {
public:
    Process() = default;
    Process(Process&&) noexcept = default;
    Process& operator=(Process&& other) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    const Pid& pid() const;

    // Waits up to `timeout` for a message. Returns nullopt on timeout or once
    // the process is closed and its mailbox is empty.
    std::optional<Message> receive(std::chrono::milliseconds timeout);
    // Takes a message if one is waiting.
    std::optional<Message> try_receive();

    // Switches to callback delivery: messages already waiting are passed to
    // `handler` first, then every later message as it is delivered, on the
    // thread that delivers it (the I/O thread for remote senders, the sender's
    // thread for local ones). Calls from different threads never overlap; a
    // handler that sends to its own pid is called again, nested. `handler`
    // must not block. An empty `handler` throws ErrorKind::invalid_argument.
    void on_message(std::function<void(Message)> handler);

    // Messages that did not fit in the mailbox.
    std::uint64_t dropped() const;
    // Messages waiting in the mailbox.
    std::size_t queued() const;

    void close();
    bool is_open() const noexcept;

private:
    friend class Node;
    Process(Pid pid, std::shared_ptr<detail::Mailbox> mailbox, std::shared_ptr<detail::ProcessTable> table);

    Pid pid_;
    std::shared_ptr<detail::Mailbox> mailbox_;
    std::shared_ptr<detail::ProcessTable> table_;
};

}  // namespace liminal
