// `liminal-cli send`: a directed send from a short-lived node.

#include "commands.hpp"

#include <algorithm>
#include <cstdio>

namespace liminal::cli {

CLI::App* SendCommand::add(CLI::App& app) {
    auto* cmd = app.add_subcommand("send", "Send MESSAGE to PID from a short-lived node that joins through --seed");
    cmd->add_option("pid", pid, "Destination pid, e.g. <a@127.0.0.1.1732650000123456.7>")->required();
    cmd->add_option("message", message, "The payload")->required();
    node.add(*cmd, "Seconds to wait for the pid's node");
    cmd->footer("Exit 0 once the pid's node acknowledged the message stream, 1 otherwise, 2 on a usage error.");
    return cmd;
}

int SendCommand::run() {
    const auto target = Pid::parse(pid);
    if (!target) throw UsageError("not a pid: " + pid + " (expected <name@host.creation.id>)");
    auto self = node.start();
    const auto deadline = node.deadline();
    for (;;) {
        const auto peers = self->peers();
        const auto it = std::find_if(peers.begin(), peers.end(), [&](const PeerInfo& p) { return p.name == target->node; });
        if (it != peers.end() && it->state == PeerState::up) break;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            std::fprintf(stderr, "liminal-cli send: node %s not reachable through the seeds within %.1f s\n",
                         target->node.c_str(), node.timeout_s);
            return exit_failure;
        }
        self->next_event(std::min(left, std::chrono::milliseconds(100)));
    }
    const SendResult result = self->send(*target, message);
    if (result != SendResult::queued && result != SendResult::delivered) {
        std::fprintf(stderr, "liminal-cli send: %s\n", to_string(result));
        return exit_failure;
    }
    self->stop();  // the BYE that follows the message is acknowledged only after it
    if (self->stats().sends_remote != 1) {
        std::fprintf(stderr, "liminal-cli send: the message could not be handed to %s\n", target->node.c_str());
        return exit_failure;
    }
    print_line("sent to " + target->to_string());
    return exit_ok;
}

}  // namespace liminal::cli
