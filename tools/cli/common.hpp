#pragma once
// Pieces every liminal-cli command shares: the cookie, the logger, signals.

#include <liminal/node.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

namespace liminal::cli {

// Exit codes: 0 success, 1 failure, 2 usage.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// A usage problem found after parsing (a missing cookie, an unreadable file).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Flags shared by every command that joins a cluster.
struct ClusterFlags {
    std::string cookie;
    std::string cookie_file;
    std::string log_level = "info";
    std::vector<std::string> seeds;

    void add_cookie(CLI::App& app);
    void add_log_level(CLI::App& app);
    void add_seeds(CLI::App& app, bool required);
    // The cookie from --cookie or --cookie-file (trailing whitespace trimmed).
    std::string resolve_cookie() const;
    std::shared_ptr<spdlog::logger> logger(const std::string& name) const;
};

// Blocks SIGINT and SIGTERM in this thread and every thread it starts, so
// that wait_for_signal() can take them synchronously.
void block_stop_signals();
// Waits up to `timeout_ms` (negative: forever) for SIGINT or SIGTERM; returns
// the signal, or 0 on timeout.
int wait_for_signal(int timeout_ms);

// A name for a short-lived node of this process: `cli-<pid>-<random>@<host>`.
std::string ephemeral_name(const std::string& host);

// Writes one line to stdout and flushes it, safely from any thread.
void print_line(const std::string& line);

}  // namespace liminal::cli
