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
    //
    // While it waits, the calling thread may run the node's poll loop in the
    // I/O thread's place (one waiting thread at a time), so that a message
    // wakes it straight from the socket: one thread hand-off fewer each way.
    // It then also runs what the I/O thread would: other processes'
    // CallbackThread::delivering handlers and Options::on_peer_event. Those
    // must return quickly anyway; one that does not delays this return past
    // `timeout` too.
    std::optional<Message> receive(std::chrono::milliseconds timeout);
    // Takes a message if one is waiting.
    std::optional<Message> try_receive();

    // Switches to callback delivery: messages already waiting are passed to
    // `handler` first, then every later message, in order, one call at a
    // time. An empty `handler`, or a second one, throws
    // ErrorKind::invalid_argument.
    //
    // By default (CallbackThread::own) the handler runs on a thread of the
    // process's own, fed by its mailbox: a handler that blocks holds only
    // this process (its mailbox fills and drops, counted, under its
    // OverflowPolicy), never the node. close() and Node::stop() wait for a
    // running handler to return (unless called from it).
    //
    // CallbackThread::delivering is the low-latency opt-in: the handler runs
    // on whichever thread delivers (for remote senders the thread running
    // the node's poll loop: its I/O thread, or a thread waiting in another
    // process's receive(); the sender's thread for local ones), with no
    // queue and no hand-off. It must not block: while it runs, the node reads
    // nothing from any peer. A handler that sends to its own pid is then
    // called again, nested.
    enum class CallbackThread { own, delivering };
    void on_message(std::function<void(Message)> handler, CallbackThread thread = CallbackThread::own);

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
