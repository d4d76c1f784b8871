// Built against an installed liminal (through find_package, and through
// pkg-config): one node, one local send.
#include <liminal/liminal.hpp>

int main() {
    liminal::Options options;
    options.name = "consumer@127.0.0.1";
    options.cookie = "consumer";
    liminal::Node node(options);
    auto process = node.spawn();
    if (node.send(process.pid(), "ping") != liminal::SendResult::delivered) return 1;
    const auto message = process.receive(std::chrono::seconds(1));
    return message && message->payload() == "ping" ? 0 : 1;
}
