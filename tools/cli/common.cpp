#include "common.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

namespace liminal::cli {

void write_secret_file(const std::string& path, const std::string& text, bool force) {
    if (force) ::unlink(path.c_str());
    // O_EXCL: never write a secret through a file (or link) someone else prepared.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno) +
                                 (errno == EEXIST ? " (give --force to replace it)" : ""));
    }
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const int error = errno;
    ::close(fd);
    if (!written) {
        ::unlink(path.c_str());
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(error));
    }
}

void ClusterFlags::add_cookie(CLI::App& app) {
    auto* cookie_opt = app.add_option("--cookie", cookie, "Shared cluster secret (prefer --cookie-file: argv is visible to other users)");
    auto* file_opt = app.add_option("--cookie-file", cookie_file, "File whose content (trailing whitespace trimmed) is the cookie")
                         ->check(CLI::ExistingFile);
    cookie_opt->excludes(file_opt);
}

void ClusterFlags::add_security(CLI::App& app) {
    app.add_flag("--insecure-plaintext", insecure_plaintext,
                 "Do not encrypt: anyone who reaches the ports can connect and read the traffic. Only for "
                 "benchmarks and debugging on a trusted host; every node of the cluster must say it");
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

namespace {

// %j: the message, escaped for a JSON string.
class JsonMessage : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        static constexpr char digits[] = "0123456789abcdef";
        for (const char c : std::string_view(msg.payload.data(), msg.payload.size())) {
            const auto byte = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                dest.push_back('\\');
                dest.push_back(c);
            } else if (byte < 0x20) {
                for (const char e : std::string_view("\\u00")) dest.push_back(e);
                dest.push_back(digits[byte >> 4]);
                dest.push_back(digits[byte & 15]);
            } else {
                dest.push_back(c);
            }
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessage>(); }
};

}  // namespace

std::shared_ptr<spdlog::logger> ClusterFlags::logger(const std::string& name, bool json) const {
    auto logger = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    if (json) {
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<JsonMessage>('j').set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%e","node":"%n","level":"%l","msg":"%j"})");
        logger->set_formatter(std::move(formatter));
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e [%n] %^%l%$ %v");
    }
    logger->set_level(spdlog::level::from_str(log_level));
    return logger;
}

void ShortLivedFlags::add(CLI::App& app, const char* timeout_help) {
    cluster.add_seeds(app, true);
    cluster.add_cookie(app);
    cluster.add_security(app);
    app.add_option("--listen", listen, "ROUTER endpoint of this short-lived node (peers connect back to it)")
        ->capture_default_str();
    app.add_option("--advertise", advertise, "Host advertised to peers when --listen binds 0.0.0.0");
    app.add_option("--timeout", timeout_s, timeout_help)->check(CLI::PositiveNumber)->capture_default_str();
    cluster.log_level = "warn";
    cluster.add_log_level(app);
}

std::unique_ptr<Node> ShortLivedFlags::start() const {
    Options options;
    const std::string host = advertise.empty() ? "127.0.0.1" : advertise;
    options.name = ephemeral_name(host);
    options.cookie = cluster.resolve_cookie();
    if (cluster.insecure_plaintext) options.security = Security::insecure_plaintext;
    options.seeds = cluster.seeds;
    options.listen = listen;
    options.gossip = "tcp://" + listen.substr(6, listen.rfind(':') - 6) + ":*";
    options.advertise_host = host;
    options.digest_interval = std::chrono::milliseconds(200);
    // A command-line sender paces itself to its slowest receiver rather
    // than dropping what it was asked to send.
    options.limits.peer_overflow = OverflowPolicy::block;
    options.limits.block_timeout = std::chrono::milliseconds(500);
    options.logger = cluster.logger(options.name);
    return std::make_unique<Node>(std::move(options));
}

std::chrono::steady_clock::time_point ShortLivedFlags::deadline() const {
    return std::chrono::steady_clock::now() +
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_s));
}

bool wait_joined(Node& node, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        bool any_up = false, connecting = false;
        for (const auto& peer : node.peers()) {
            any_up |= peer.state == PeerState::up;
            connecting |= peer.state == PeerState::connecting;
        }
        if (any_up && !connecting) return true;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        node.next_event(std::min(left, std::chrono::milliseconds(50)));
    }
}

std::string printable(std::string_view payload) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(payload.size());
    for (const char c : payload) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (byte < 0x20 || byte == 0x7f) {
            out += "\\x";
            out += digits[byte >> 4];
            out += digits[byte & 15];
        } else {
            out += c;
        }
    }
    return out;
}

std::string message_json(const Message& message) {
    nlohmann::json json;
    const Envelope* envelope = message.envelope();
    json["kind"] = envelope ? "publish" : "send";
    json["from"] = message.from().to_string();
    json["payload"] = std::string(message.payload());
    if (envelope) {
        json["channel"] = envelope->channel;
        json["id"] = envelope->id_hex();
        json["seq"] = envelope->sequence;
        json["timestamp_us"] = envelope->timestamp_us;
    }
    json["headers"] = message.headers();
    return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {
sigset_t taken_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}
}  // namespace

void block_stop_signals() {
    const sigset_t set = taken_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_signal(int timeout_ms) {
    const sigset_t set = taken_signals();
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

std::string describe_message(const Message& message, bool json) {
    if (json) return message_json(message);
    const Envelope* envelope = message.envelope();
    // A channel name on the wire may hold any bytes: escaped like the
    // payload, so that no remote bytes forge a line or drive the terminal.
    return (envelope ? printable(envelope->channel) : std::string("message")) + " " + message.from().to_string() +
           " " + printable(message.payload());
}

namespace {
std::atomic<bool> printing_stopped{false};
}  // namespace

void stop_printing() { printing_stopped.store(true); }

bool print_line(const std::string& line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::fflush(stdout);  // whatever went through stdio before goes first
    const std::string text = line + "\n";
    std::size_t written = 0;
    while (written < text.size()) {
        if (printing_stopped.load()) return false;
        // Wait for room with a timeout, so stop_printing() is seen: poll's
        // POLLOUT on a pipe promises PIPE_BUF bytes, so a write of at most
        // that much does not block.
        pollfd out{STDOUT_FILENO, POLLOUT, 0};
        const int ready = ::poll(&out, 1, 100);
        if (ready < 0 && errno != EINTR) return false;
        if (ready <= 0) continue;
        if ((out.revents & (POLLERR | POLLNVAL)) != 0) return false;
        const auto n = ::write(STDOUT_FILENO, text.data() + written, std::min<std::size_t>(text.size() - written, PIPE_BUF));
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return false;
        }
        written += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace liminal::cli
