// Two nodes in one program: b joins through a, then a process on a sends to a
// process on b. Copy this to start embedding liminal.
#include <liminal/liminal.hpp>

#include <iostream>

int main() {
    liminal::Options a_options;
    a_options.name = "a@127.0.0.1";
    a_options.cookie = "change-me";
    liminal::Node a(a_options);  // binds tcp://127.0.0.1:* (ephemeral ports)

    liminal::Options b_options = a_options;
    b_options.name = "b@127.0.0.1";
    b_options.seeds = {a.router_endpoint()};
    liminal::Node b(b_options);

    liminal::Process inbox = b.spawn();
    // Wait until a sees b (peer events are also available as a callback).
    while (auto event = a.next_event(std::chrono::seconds(5))) {
        if (event->kind == liminal::PeerEventKind::up && event->name == b.name()) break;
    }
    a.send(inbox.pid(), "hello from a");
    if (auto message = inbox.receive(std::chrono::seconds(5))) {
        std::cout << inbox.pid().to_string() << " got '" << message->payload() << "' from "
                  << message->from().to_string() << "\n";
        return 0;
    }
    std::cerr << "no message\n";
    return 1;
}
