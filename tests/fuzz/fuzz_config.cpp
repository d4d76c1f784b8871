// The TOML config loader of `liminal-cli node --config`: any text either
// loads or is refused with a ConfigError that names what is wrong; no other
// exception, no crash. What loads and passes check() holds values inside the
// documented ranges.

#include "config.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    liminal::cli::NodeSettings settings;
    try {
        liminal::cli::parse_toml(settings, liminal::fuzz::bytes(data, size), "fuzz.toml");
        liminal::cli::check(settings);
    } catch (const liminal::cli::ConfigError& e) {
        LIMINAL_FUZZ_CHECK(e.what()[0] != '\0');
        return 0;
    }
    const auto& limits = settings.limits;
    LIMINAL_FUZZ_CHECK(settings.heartbeat_ms >= 10 && settings.heartbeat_timeout_ms >= 10);
    LIMINAL_FUZZ_CHECK(limits.send_hwm >= 1 && limits.receive_hwm >= 1);
    LIMINAL_FUZZ_CHECK(limits.max_frame_bytes >= 1024 && limits.mailbox_bytes >= 1 && limits.peer_queue_bytes >= 1);
    LIMINAL_FUZZ_CHECK(limits.block_timeout.count() >= 0);
    return 0;
}
