#pragma once
// The node's I/O thread as the API side sees it: started and joined, nothing
// more. Everything it runs (the actor, its sockets, links and sessions) stays
// behind this header, so API-thread code never sees ZeroMQ.

#include <memory>
#include <thread>

namespace liminal::detail {

struct NodeCore;
class Actor;

class IoThread {
public:
    // Binds the node's sockets on the calling thread (throws StartFailed on a
    // bind failure), then starts the thread. Fills core's endpoints.
    explicit IoThread(NodeCore& core);
    // Joins the thread: post command::Stop first, or this waits forever.
    ~IoThread();
    IoThread(const IoThread&) = delete;
    IoThread& operator=(const IoThread&) = delete;

private:
    std::unique_ptr<Actor> actor_;
    std::thread thread_;
};

}  // namespace liminal::detail
