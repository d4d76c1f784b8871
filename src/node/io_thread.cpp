#include "node/io_thread.hpp"

#include "node/actor.hpp"

namespace liminal::detail {

// The actor binds here, so a bad endpoint fails the Node constructor; its
// sockets then move to the I/O thread (thread start is the memory barrier
// ZeroMQ asks for when a socket changes threads).
IoThread::IoThread(NodeCore& core)
    : actor_(std::make_unique<Actor>(core)), thread_([actor = actor_.get()] { actor->run(); }) {}

IoThread::~IoThread() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace liminal::detail
