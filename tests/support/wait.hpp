#pragma once
// Waiting on a condition with a deadline: the only way tests wait.

#include <chrono>
#include <thread>

namespace liminal::test {

// Polls `condition` until it holds or `timeout` passes; returns its last value.
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return condition();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // wait-ok: poll interval of a deadline-bounded wait
    }
    return true;
}

}  // namespace liminal::test
