// A worker that joins a cluster and answers every message (the README's example).
#include <liminal/liminal.hpp>
#include <iostream>

int main() {
    liminal::Options options;
    options.name = "worker-1@127.0.0.1";          // name@host, unique in the cluster
    options.cookie = "change-me";                   // shared secret, never sent on the wire
    options.listen = "tcp://127.0.0.1:*";           // ROUTER; * picks a free port
    options.seeds = {"tcp://127.0.0.1:7400"};       // any one node of the cluster
    liminal::Node node(options);                    // binds, starts its I/O thread

    liminal::Process inbox = node.spawn();          // a pid with a bounded mailbox
    std::cout << "my pid: " << inbox.pid().to_string() << "\n";

    while (auto message = inbox.receive(std::chrono::seconds(30))) {
        std::cout << message->from().to_string() << ": " << message->payload() << "\n";
        if (message->from().valid())                         // a process, not a bare node
            node.send(inbox.pid(), message->from(), "thanks");  // reply to the sender
    }
}                                                   // ~Node says BYE to every peer
