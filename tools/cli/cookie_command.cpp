// liminal-cli cookie: a fresh 256-bit cookie, written where only its owner
// can read it.

#include "commands.hpp"

#include "wire/keys.hpp"



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
    write_secret_file(out, cookie + "\n", force);
    return exit_ok;
}

}  // namespace liminal::cli
