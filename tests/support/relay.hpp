#pragma once
// A TCP relay for capture tests: listens on an ephemeral loopback port,
// forwards every connection to a target, and records every byte that passes
// in either direction, as a packet capture on lo would see it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace liminal::test {

class Relay {
public:
    // `target_port` on 127.0.0.1.
    explicit Relay(int target_port) : target_port_(target_port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address = loopback(0);
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 16) != 0)
            throw std::runtime_error("relay: cannot listen");
        socklen_t length = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~Relay() {
        stop_ = true;
        thread_.join();
        for (const auto& [a, b] : pairs_) {
            if (a >= 0) ::close(a);
            if (b >= 0) ::close(b);
        }
        ::close(listener_);
    }
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
    // Everything relayed so far, both directions, in arrival order.
    std::string captured() const {
        const std::lock_guard lock(mutex_);
        return captured_;
    }

private:
    static sockaddr_in loopback(int port) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return address;
    }

    void accept_one() {
        const int client = ::accept(listener_, nullptr, nullptr);
        if (client < 0) return;
        const int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in target = loopback(target_port_);
        if (upstream < 0 || ::connect(upstream, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
            ::close(client);
            if (upstream >= 0) ::close(upstream);
            return;
        }
        pairs_.emplace_back(client, upstream);
    }

    // Copies what `from` has to `to`; false when `from` closed.
    bool forward(int from, int to) {
        char buffer[65536];
        const ssize_t got = ::read(from, buffer, sizeof buffer);
        if (got <= 0) return false;
        {
            const std::lock_guard lock(mutex_);
            captured_.append(buffer, static_cast<std::size_t>(got));
        }
        for (ssize_t sent = 0; sent < got;) {
            const ssize_t n = ::write(to, buffer + sent, static_cast<std::size_t>(got - sent));
            if (n <= 0) return false;
            sent += n;
        }
        return true;
    }

    void run() {
        while (!stop_) {
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            for (const auto& [a, b] : pairs_) {
                fds.push_back({a, POLLIN, 0});
                fds.push_back({b, POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
            if (fds[0].revents & POLLIN) accept_one();
            for (std::size_t i = 0; i < (fds.size() - 1) / 2; ++i) {
                auto& [a, b] = pairs_[i];
                const bool a_ok = !(fds[1 + 2 * i].revents & (POLLIN | POLLHUP)) || forward(a, b);
                const bool b_ok = !(fds[2 + 2 * i].revents & (POLLIN | POLLHUP)) || forward(b, a);
                if (a >= 0 && (!a_ok || !b_ok)) {  // closed pairs stay as -1, which poll skips
                    ::close(a);
                    ::close(b);
                    a = b = -1;
                }
            }
        }
    }

    const int target_port_;
    int listener_ = -1;
    int port_ = 0;
    std::vector<std::pair<int, int>> pairs_;  // (accepted, upstream), owned by the relay thread
    mutable std::mutex mutex_;
    std::string captured_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace liminal::test
