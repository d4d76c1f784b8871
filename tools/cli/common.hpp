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
    bool insecure_plaintext = false;

    void add_cookie(CLI::App& app);
    // --insecure-plaintext, for commands that run a node.
    void add_security(CLI::App& app);
    void add_log_level(CLI::App& app);
    void add_seeds(CLI::App& app, bool required);
    // The cookie from --cookie or --cookie-file (trailing whitespace trimmed).
    std::string resolve_cookie() const;
    // A stderr logger named `name`; `json`: one JSON object per line.
    std::shared_ptr<spdlog::logger> logger(const std::string& name, bool json = false) const;
};

// A node that lives for one command (send, sub, pub): it joins through
// --seed, does its job and leaves with BYE.
struct ShortLivedFlags {
    ClusterFlags cluster;
    std::string listen = "tcp://127.0.0.1:*";
    std::string advertise;
    double timeout_s = 10.0;

    void add(CLI::App& app, const char* timeout_help);
    std::unique_ptr<Node> start() const;
    std::chrono::steady_clock::time_point deadline() const;
};

// Waits until `node` has at least one peer up and no link still connecting
// (so it has met the whole cluster reachable from its seeds), or `deadline`.
bool wait_joined(Node& node, std::chrono::steady_clock::time_point deadline);

// A payload as one line of text: control bytes and backslashes escaped
// (\n, \t, \r, \\, \xNN), everything else as is, so a message never
// breaks the line format.
std::string printable(std::string_view payload);

// A message as one JSON object: kind ("publish" or "send"), from, payload,
// headers, and for a publish its channel, id, seq and timestamp_us; non-UTF-8
// bytes are replaced.
std::string message_json(const Message& message);

// A message as one line: a publish as '<channel> <sender-pid> <payload>', a
// directed send as 'message <sender-pid> <payload>'; `json`: message_json.
// Any message a process can receive prints (a send to a subscriber's pid too).
std::string describe_message(const Message& message, bool json);

// Blocks SIGINT, SIGTERM and SIGHUP in this thread and every thread it
// starts, so that wait_for_signal() can take them synchronously.
void block_stop_signals();
// Waits up to `timeout_ms` (negative: forever) for SIGINT, SIGTERM or SIGHUP;
// returns the signal, or 0 on timeout.
int wait_for_signal(int timeout_ms);

// A name for a short-lived node of this process: `cli-<pid>-<random>@<host>`.
std::string ephemeral_name(const std::string& host);

// Creates `path` with mode 0600 and writes `text` (a secret) into it. Never
// through a file or link that already exists, unless `force` removes it
// first. Throws std::runtime_error naming the file.
void write_secret_file(const std::string& path, const std::string& text, bool force);

// Writes one line to stdout, safely from any thread, never through a
// buffer of its own: a reader that does not read blocks only the calling
// thread, and not past stop_printing(). Returns false when the line was
// not written whole (stdout closed or the printer stopped).
bool print_line(const std::string& line);
// Makes every print_line, blocked or later, give up: for a shutdown that
// must not wait for a stuck reader.
void stop_printing();

}  // namespace liminal::cli
