#pragma once
// A child process with its stdout read line by line under a deadline, for
// tests that drive `liminal-cli`.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace liminal::test {

class Child {
public:
    // Starts `argv[0]` with `argv`; stdout is piped to us, stderr inherited
    // (or piped with stdout when `merge_stderr`); stdin is /dev/null's, or
    // a pipe from us when `with_stdin` (see write_line).
    explicit Child(std::vector<std::string> argv, bool merge_stderr = false, bool with_stdin = false);
    ~Child();  // SIGKILLs the child if it still runs
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    // The next stdout line, or nullopt when `timeout` passes or stdout closes.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // Reads lines until one starts with `prefix` (the others are kept in seen()).
    std::optional<std::string> wait_for_line(const std::string& prefix, std::chrono::milliseconds timeout);
    // The same, but a line read earlier (by any wait) counts too.
    std::optional<std::string> seen_or_wait(const std::string& prefix, std::chrono::milliseconds timeout);
    const std::vector<std::string>& seen() const { return seen_; }

    // Writes `line` and a newline to its stdin; false if it is gone.
    bool write_line(const std::string& line);

    void signal(int signal);
    // Waits for the exit; returns the exit code, 128+signal if killed, or
    // nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    int in_ = -1;
    std::string buffer_;
    std::vector<std::string> seen_;
    std::optional<int> status_;
};

// Runs a command to completion (bounded), returning its exit code and stdout.
struct RunResult {
    int code = -1;
    std::string out;
};
RunResult run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout, bool merge_stderr = false);

}  // namespace liminal::test
