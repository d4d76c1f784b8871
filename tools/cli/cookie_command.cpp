// liminal-cli cookie: a fresh 256-bit cookie, written where only its owner
// can read it.

#include "commands.hpp"

#include "wire/keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace liminal::cli {

CLI::App* CookieCommand::add(CLI::App& app) {
    auto* cmd = app.add_subcommand("cookie", "Write a fresh random cookie (256 bits, 64 hex characters)");
    cmd->add_option("--out", out, "File to create with mode 0600 (default: print to stdout)");
    cmd->add_flag("--force", force, "Replace --out if it exists");
    cmd->footer("Give the same file to every node: liminal-cli node --cookie-file FILE ...\n"
                "Every key of the cluster derives from it; whoever reads it can join the cluster.");
    return cmd;
}

int CookieCommand::run() {
    const std::string cookie = detail::wire::make_cookie();
    if (out.empty()) {
        print_line(cookie);
        return exit_ok;
    }
    if (force) ::unlink(out.c_str());
    // O_EXCL: never write a secret through a file (or link) someone else prepared.
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw std::runtime_error("cannot create " + out + ": " + std::strerror(errno) +
                                 (errno == EEXIST ? " (give --force to replace it)" : ""));
    }
    const std::string line = cookie + "\n";
    const bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    const int error = errno;
    ::close(fd);
    if (!written) {
        ::unlink(out.c_str());
        throw std::runtime_error("cannot write " + out + ": " + std::strerror(error));
    }
    return exit_ok;
}

}  // namespace liminal::cli
