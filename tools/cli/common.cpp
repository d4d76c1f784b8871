#include "common.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

namespace liminal::cli {

void ClusterFlags::add_cookie(CLI::App& app) {
    auto* cookie_opt = app.add_option("--cookie", cookie, "Shared cluster secret (prefer --cookie-file: argv is visible to other users)");
    auto* file_opt = app.add_option("--cookie-file", cookie_file, "File whose content (trailing whitespace trimmed) is the cookie")
                         ->check(CLI::ExistingFile);
    cookie_opt->excludes(file_opt);
}

void ClusterFlags::add_log_level(CLI::App& app) {
    app.add_option("--log-level", log_level, "Log level on stderr")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
        ->capture_default_str();
}

void ClusterFlags::add_seeds(CLI::App& app, bool required) {
    auto* opt = app.add_option("--seed", seeds, "ROUTER endpoint of a node to join through (repeatable)");
    if (required) opt->required();
}

std::string ClusterFlags::resolve_cookie() const {
    std::string value = cookie;
    if (!cookie_file.empty()) {
        std::ifstream in(cookie_file);
        if (!in) throw UsageError("cannot read --cookie-file " + cookie_file);
        std::stringstream content;
        content << in.rdbuf();
        value = content.str();
        while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
        if (value.empty()) throw UsageError("--cookie-file " + cookie_file + " is empty");
    }
    if (value.empty()) throw UsageError("a cookie is required: give --cookie or --cookie-file");
    return value;
}

std::shared_ptr<spdlog::logger> ClusterFlags::logger(const std::string& name) const {
    auto logger = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e [%n] %^%l%$ %v");
    logger->set_level(spdlog::level::from_str(log_level));
    return logger;
}

void block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_signal(int timeout_ms) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (timeout_ms < 0) {
        int signal = 0;
        sigwait(&set, &signal);
        return signal;
    }
    timespec timeout{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1'000'000L};
    const int signal = sigtimedwait(&set, nullptr, &timeout);
    return signal < 0 ? 0 : signal;
}

std::string ephemeral_name(const std::string& host) {
    std::random_device random;
    return "cli-" + std::to_string(::getpid()) + "-" + std::to_string(random() % 100000) + "@" + host;
}

void print_line(const std::string& line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

}  // namespace liminal::cli
