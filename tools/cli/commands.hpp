#pragma once
// liminal-cli's commands. Each registers its flags on a CLI11 subcommand and
// runs when that subcommand was chosen.

#include "common.hpp"
#include "config.hpp"

namespace liminal::cli {

struct NodeCommand {
    NodeSettings settings;           // flags write here; see run() for the merge order
    std::string config;
    ClusterFlags cookie_flags;       // --cookie / --cookie-file
    std::vector<CLI::Option*> flags; // the flags that override the config file and environment
    bool inbox = false;
    bool events = false;
    bool test_hooks = false;
    std::vector<std::string> subscribe;
    std::vector<std::string> monitor;
    bool json = false;

    CLI::App* add(CLI::App& app);
    int run();
};

struct CookieCommand {
    std::string out;
    bool force = false;

    CLI::App* add(CLI::App& app);
    int run();
};

struct KeygenCommand {
    std::string name;
    std::string out;
    bool force = false;

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

namespace liminal::cli {

// The operator commands that talk to admin endpoints: status, peers, groups,
// members, stats, verify, top.
struct AdminCommands {
    enum class Kind { status, peers, groups, members, stats, verify, top, fault };
    struct Flags {
        std::vector<std::string> admin;
        ClusterFlags cluster;
        double timeout_s = 3.0;
        bool json = false;
        bool prometheus = false;
        std::string scope;
        std::string group;
        std::string fault;  // fault: partition, heal or drop-gossip
        std::string peer;
        double rate = 0;
    };

    std::vector<std::pair<Kind, CLI::App*>> commands;
    Flags flags;

    void add(CLI::App& app);
    // The command chosen, if it is one of these.
    std::optional<Kind> chosen() const;
    int run(Kind kind);
};

}  // namespace liminal::cli
