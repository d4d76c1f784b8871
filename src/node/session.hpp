#pragma once
// An inbound connection on our ROUTER, by routing id: which connection it
// is (the ZAP handler's serial for it, zap.hpp), what the connecting node
// claimed in its HELLO, whether its AUTH proved the cookie, and the SNAPSHOT
// being reassembled from it. Nothing from a session is applied before it is
// authenticated, and nothing from any other connection is applied as its:
// a connection that takes over the routing id starts a session of its own.
// Runs on the I/O thread only.

#include "membership/snapshot_assembly.hpp"
#include "wire/messages.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace liminal::detail {

// Which connection a ROUTER message came on: the User-Id the ZAP handler gave
// it (zap.hpp), and its socket descriptor (to cut it off when its key is
// revoked).
struct Connection {
    std::string_view id;
    int fd = -1;
};

class Session {
public:
    using Clock = std::chrono::steady_clock;

    Session(const Connection& connection, wire::Hello hello, std::string hello_bytes, const wire::Nonce& server_nonce,
            Clock::time_point started)
        : connection_(connection.id), fd_(connection.fd), hello_(std::move(hello)), hello_bytes_(std::move(hello_bytes)),
          server_nonce_(server_nonce), started_(started) {}

    // The connection the session belongs to (its User-Id), and its descriptor.
    const std::string& connection() const noexcept { return connection_; }
    int fd() const noexcept { return fd_; }

    // The claims of the HELLO; the identity of the session once authenticated.
    const wire::Hello& hello() const noexcept { return hello_; }
    const std::string& name() const noexcept { return hello_.name; }
    std::uint64_t creation() const noexcept { return hello_.creation; }
    // The exact HELLO bytes and our challenge: what both proofs bind.
    const std::string& hello_bytes() const noexcept { return hello_bytes_; }
    const wire::Nonce& server_nonce() const noexcept { return server_nonce_; }

    bool authenticated() const noexcept { return authenticated_; }
    void authenticate() noexcept { authenticated_ = true; }
    // Its connection has closed; what it sent before that may still wait to be read.
    bool disconnected() const noexcept { return disconnected_; }
    void disconnect() noexcept { disconnected_ = true; }
    Clock::time_point started() const noexcept { return started_; }

    membership::SnapshotAssembly& snapshot() noexcept { return snapshot_; }

private:
    std::string connection_;
    int fd_;
    wire::Hello hello_;
    std::string hello_bytes_;
    wire::Nonce server_nonce_;
    Clock::time_point started_;
    bool authenticated_ = false;
    bool disconnected_ = false;
    membership::SnapshotAssembly snapshot_;
};

// Every inbound session, bounded: a flood of HELLOs cannot grow it further,
// and cannot hold it either. When it is full, a new HELLO takes the place of
// the oldest session that has not authenticated; a HELLO repeated on a
// routing id keeps that session's start, so junk expires after
// handshake_timeout however often it is resent.
class SessionTable {
public:
    static constexpr std::size_t default_capacity = 4096;  // handshaking or authenticated
    static constexpr auto handshake_timeout = std::chrono::seconds(10);

    explicit SessionTable(std::size_t capacity = default_capacity) : capacity_(capacity) {}

    // The session of `routing_id` on `connection`: null when it has none,
    // or when its session belongs to another connection.
    Session* find(const std::string& routing_id, std::string_view connection);
    // A new session for `routing_id` on `connection`, replacing any it had;
    // null only when every session in a full table is authenticated.
    Session* open(const std::string& routing_id, const Connection& connection, wire::Hello hello,
                  std::string hello_bytes, const wire::Nonce& server_nonce);
    // Removes every session of `name`; returns their descriptors.
    std::vector<int> erase_name(const std::string& name);
    void erase(const std::string& routing_id) { sessions_.erase(routing_id); }
    // The connection with descriptor `fd` closed: its sessions end once what
    // it sent before has been read (erase_disconnected).
    void disconnect(int fd);
    // Ends the sessions whose connection closed. Call it when the ROUTER has
    // nothing left to read. Returns the HELLOs of the authenticated ones.
    std::vector<wire::Hello> erase_disconnected();
    std::size_t size() const noexcept { return sessions_.size(); }
    // The routing id and node name of every authenticated session.
    std::vector<std::pair<std::string, std::string>> authenticated() const;
    // Sessions whose HELLO we answered and whose AUTH has not come, on open connections.
    std::size_t handshaking() const;
    // Whether `routing_id` has a session whose connection is still open.
    bool connected(const std::string& routing_id) {
        const Session* session = find(routing_id);
        return session != nullptr && !session->disconnected();
    }
    // Sessions of `name` from incarnations older than `creation`, but `keep`.
    void erase_older(const std::string& name, std::uint64_t creation, const std::string& keep = {});
    // Handshakes that did not complete within handshake_timeout.
    void expire(Session::Clock::time_point now);

private:
    // The session of `routing_id`, whichever connection it belongs to.
    Session* find(const std::string& routing_id);
    // Makes room for one session: drops the oldest unauthenticated one.
    bool evict_oldest_unauthenticated();

    std::size_t capacity_;
    std::unordered_map<std::string, Session> sessions_;  // by routing id
};

}  // namespace liminal::detail
