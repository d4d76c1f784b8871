// liminal-cli keygen: a node's own CurveZMQ keypair (Security::node_keys).

#include "commands.hpp"

#include "node/node_keys.hpp"

#include <liminal/pid.hpp>


#include <stdexcept>

namespace liminal::cli {

CLI::App* KeygenCommand::add(CLI::App& app) {
    auto* cmd = app.add_subcommand("keygen", "Write a node's own keypair, for --key-file and --trusted-keys");
    cmd->add_option("--name", name, "The node the key is for, name@host")->required();
    cmd->add_option("--out", out, "Key file to create, mode 0600 (the secret key)")->required();
    cmd->add_flag("--force", force, "Replace --out if it exists");
    cmd->footer("Prints the line to add to every node's --trusted-keys file: '<public key> <name>'.\n"
                "Then run the node with --key-file FILE --trusted-keys FILE; SIGHUP re-reads the trusted keys.");
    return cmd;
}

int KeygenCommand::run() {
    if (!is_valid_node_name(name)) throw UsageError("--name: '" + name + "' is not name@host");
    const auto keys = detail::generate_keypair();
    const std::string text = detail::format_key_file(keys, name);
    write_secret_file(out, text, force);
    print_line(keys.public_key + " " + name);
    return exit_ok;
}

}  // namespace liminal::cli
