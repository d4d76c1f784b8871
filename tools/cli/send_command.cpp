// `liminal-cli send`: a directed send from a short-lived node.

#include "commands.hpp"

namespace liminal::cli {

CLI::App* SendCommand::add(CLI::App& app) {
    auto* cmd = app.add_subcommand("send", "Send MESSAGE to PID from a short-lived node that joins through --seed");
    cmd->add_option("pid", pid, "Destination pid, e.g. <a@127.0.0.1.1732650000123456.7>")->required();
    cmd->add_option("message", message, "The payload")->required();
    cluster.add_seeds(*cmd, true);
    cluster.add_cookie(*cmd);
    cmd->add_option("--timeout", timeout_s, "Seconds to wait for the pid's node")->check(CLI::PositiveNumber)->capture_default_str();
    cluster.log_level = "warn";
    cluster.add_log_level(*cmd);
    cmd->footer("Exit 0 when the pid's node acknowledged the message stream, 1 otherwise.");
    return cmd;
}

int SendCommand::run() {
    const auto target = Pid::parse(pid);
    if (!target) throw UsageError("not a pid: " + pid + " (expected <name@host.creation.id>)");
    Options options;
    options.name = ephemeral_name("127.0.0.1");
    options.cookie = cluster.resolve_cookie();
    options.seeds = cluster.seeds;
    options.logger = cluster.logger(options.name);
    Node node(std::move(options));

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
        const auto peers = node.peers();
        const auto it = std::find_if(peers.begin(), peers.end(), [&](const PeerInfo& p) { return p.name == target->node; });
        if (it != peers.end() && it->state == PeerState::up) break;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            std::fprintf(stderr, "liminal-cli send: node %s not reachable through the seeds within %.1f s\n",
                         target->node.c_str(), timeout_s);
            return exit_failure;
        }
        node.next_event(std::min(left, std::chrono::milliseconds(100)));
    }
    const SendResult result = node.send(*target, message);
    if (result != SendResult::queued && result != SendResult::delivered) {
        std::fprintf(stderr, "liminal-cli send: %s\n", to_string(result));
        return exit_failure;
    }
    node.stop();  // the BYE that follows the message is acknowledged only after it
    const Stats stats = node.stats();
    if (stats.sends_remote != 1) {
        std::fprintf(stderr, "liminal-cli send: the message could not be handed to %s\n", target->node.c_str());
        return exit_failure;
    }
    print_line("sent to " + target->to_string());
    return exit_ok;
}

}  // namespace liminal::cli
