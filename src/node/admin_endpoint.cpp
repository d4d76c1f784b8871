#include "node/admin_endpoint.hpp"

#include <liminal/error.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <string_view>

namespace liminal::detail {
namespace {

[[noreturn]] void refuse(const std::string& endpoint, const std::string& why) {
    throw StartFailed("liminal: Options::admin (liminal-cli --admin) '" + endpoint + "': " + why +
                      "; expected ipc://PATH or tcp://HOST:PORT with HOST 127.x.y.z, localhost or [::1] and "
                      "PORT a number or *");
}

bool valid_port(std::string_view port) {
    if (port == "*") return true;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    return ec == std::errc{} && end == port.data() + port.size() && value >= 1 && value <= 65535;
}

// The host to bind for `host`, or empty when it is not a loopback address.
std::string loopback_host(std::string_view host) {
    if (host == "localhost") return "127.0.0.1";
    const std::string text(host);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        in6_addr address{};
        const std::string inner(host.substr(1, host.size() - 2));
        return inet_pton(AF_INET6, inner.c_str(), &address) == 1 && IN6_IS_ADDR_LOOPBACK(&address) ? text : "";
    }
    in_addr address{};
    if (inet_pton(AF_INET, text.c_str(), &address) != 1) return "";
    return (ntohl(address.s_addr) >> 24) == 127 ? text : "";
}

}  // namespace

std::string parse_admin_endpoint(const std::string& endpoint) {
    if (endpoint.find(';') != std::string::npos)
        refuse(endpoint, "ZeroMQ's source;destination form is not accepted");
    const std::string_view text(endpoint);
    if (text.rfind("ipc://", 0) == 0) {
        if (text.size() == 6) refuse(endpoint, "the ipc path is empty");
        return endpoint;
    }
    if (text.rfind("tcp://", 0) != 0) refuse(endpoint, "only ipc:// and tcp:// are accepted");
    const std::string_view address = text.substr(6);
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) refuse(endpoint, "no port");
    const std::string host = loopback_host(address.substr(0, colon));
    if (host.empty()) refuse(endpoint, "the host is not a loopback address");
    if (!valid_port(address.substr(colon + 1))) refuse(endpoint, "the port is not 1 to 65535 or *");
    return "tcp://" + host + std::string(address.substr(colon));
}

}  // namespace liminal::detail
