#pragma once
// Node options shared by the liminal perf tools: quiet, and sized to measure
// speed rather than drops.

#include <liminal/liminal.hpp>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

namespace liminal::perf {

// `curve`: the default security, encrypted; false: plaintext, to compare
// with raw ZeroMQ (the thr and lat tools without --curve).
inline Options node_options(const std::string& name, bool curve = true) {
    Options o;
    o.name = name;
    o.cookie = "liminal-perf-cookie-0b5e2d";
    o.security = curve ? Security::cluster_secret : Security::insecure_plaintext;
    o.logger = std::make_shared<spdlog::logger>("perf", std::make_shared<spdlog::sinks::null_sink_mt>());
    o.limits.mailbox_capacity = 1u << 30;
    o.limits.mailbox_bytes = std::size_t{4} << 30;
    // As a raw ZeroMQ sender blocks at its high-water mark, a publisher here
    // waits for a receiver that is behind (and retries on would_block).
    o.limits.peer_overflow = OverflowPolicy::block;
    o.limits.block_timeout = std::chrono::seconds(10);
    o.bye_grace = std::chrono::seconds(60);  // a remote tool's BYE waits for everything it sent
    return o;
}

}  // namespace liminal::perf
