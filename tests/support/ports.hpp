#pragma once
// A loopback port for a test that must name an endpoint before anything binds
// it (a node seeded with an endpoint that comes up later, a node whose seed is
// its own endpoint).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace liminal::test {

// Reserves a port the kernel picked: a connection to it is opened and closed
// from the server side, which leaves the port in TIME_WAIT. The kernel then
// hands that port to no other bind to port 0 for about a minute, while a
// server that sets SO_REUSEADDR (as ZeroMQ's tcp listener does) can bind it.
// Probing with a bind-and-close instead leaves the port free for any other
// test to take in the meantime.
inline std::string reserved_endpoint() {
    const auto fail = [](const char* what) { throw std::runtime_error(std::string("reserved_endpoint: ") + what); };
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    if (server < 0) fail("socket");
    const int one = 1;
    ::setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(server, 1) != 0 ||
        ::getsockname(server, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        fail("bind/listen");
    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("connect");
    const int accepted = ::accept(server, nullptr, nullptr);
    if (accepted < 0) fail("accept");
    // The side that closes first keeps the TIME_WAIT: the accepted (server) side.
    ::close(accepted);
    ::close(client);
    ::close(server);
    return "tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
}

}  // namespace liminal::test
