#pragma once
// liminal-cli's commands. Each registers its flags on a CLI11 subcommand and
// runs when that subcommand was chosen.

#include "common.hpp"

namespace liminal::cli {

struct NodeCommand {
    ClusterFlags cluster;
    std::string name;
    std::string listen;
    std::string gossip;
    std::string advertise;
    int heartbeat_ms = 1000;
    int heartbeat_timeout_ms = 3000;
    std::size_t max_frame_bytes = Limits{}.max_frame_bytes;
    std::size_t mailbox_capacity = Limits{}.mailbox_capacity;
    bool inbox = false;
    bool events = false;
    std::vector<std::string> subscribe;
    std::vector<std::string> monitor;
    bool json = false;

    CLI::App* add(CLI::App& app);
    int run();
};

struct SendCommand {
    ShortLivedFlags node;
    std::string pid;
    std::string message;

    CLI::App* add(CLI::App& app);
    int run();
};

struct SubCommand {
    ShortLivedFlags node;
    std::string channel;
    std::size_t count = 0;
    bool json = false;

    CLI::App* add(CLI::App& app);
    int run();
};

struct PubCommand {
    ShortLivedFlags node;
    std::string channel;
    std::optional<std::string> message;
    std::size_t count = 1;
    std::size_t size = 0;
    std::size_t wait_members = 1;

    CLI::App* add(CLI::App& app);
    int run();
};

}  // namespace liminal::cli
