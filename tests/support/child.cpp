#include "support/child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace liminal::test {

Child::Child(std::vector<std::string> argv, bool merge_stderr, bool with_stdin) {
    int fds[2];
    int in[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    if (with_stdin) {
        if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        ::signal(SIGPIPE, SIG_IGN);  // a child that died makes write_line fail, not kill us
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    if (with_stdin) posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    if (merge_stderr) posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    if (with_stdin) {
        ::close(in[0]);
        in_ = in[1];
    }
    if (rc != 0) {
        ::close(out_);
        if (in_ >= 0) ::close(in_);
        throw std::runtime_error("posix_spawn " + argv[0] + " failed");
    }
}

Child::~Child() {
    if (!status_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    ::close(out_);
    if (in_ >= 0) ::close(in_);
}

bool Child::write_line(const std::string& line) {
    if (in_ < 0) return false;
    const std::string bytes = line + "\n";
    std::size_t written = 0;
    while (written < bytes.size()) {
        const auto n = ::write(in_, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        written += static_cast<std::size_t>(n);
    }
    return true;
}

std::optional<std::string> Child::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            seen_.push_back(line);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd item{out_, POLLIN, 0};
        if (::poll(&item, 1, static_cast<int>(left.count())) <= 0) continue;
        char chunk[4096];
        const auto n = ::read(out_, chunk, sizeof chunk);
        if (n <= 0) return std::nullopt;
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

std::optional<std::string> Child::wait_for_line(const std::string& prefix, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto line = read_line(left);
        if (!line) return std::nullopt;
        if (line->rfind(prefix, 0) == 0) return line;
    }
}

std::optional<std::string> Child::seen_or_wait(const std::string& prefix, std::chrono::milliseconds timeout) {
    for (const auto& line : seen_) {
        if (line.rfind(prefix, 0) == 0) return line;
    }
    return wait_for_line(prefix, timeout);
}

void Child::signal(int signal) { ::kill(pid_, signal); }

std::optional<int> Child::wait_exit(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return status_;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // wait-ok: poll interval of a deadline-bounded wait
    }
}

RunResult run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout, bool merge_stderr) {
    Child child(std::move(argv), merge_stderr);
    RunResult result;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (auto line = child.read_line(std::chrono::duration_cast<std::chrono::milliseconds>(
               deadline - std::chrono::steady_clock::now()))) {
        result.out += *line + "\n";
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    result.code = child.wait_exit(std::max(left, std::chrono::milliseconds(1))).value_or(-1);
    return result;
}

}  // namespace liminal::test
