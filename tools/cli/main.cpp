// liminal-cli: run and use liminal nodes from a shell.

#include "commands.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    using namespace liminal::cli;
    CLI::App app{"liminal-cli: run a liminal cluster node, and talk to a cluster from a shell"};
    app.require_subcommand(1);
    NodeCommand node;
    SendCommand send;
    SubCommand sub;
    PubCommand pub;
    CookieCommand cookie;
    KeygenCommand keygen;
    CLI::App* node_cmd = node.add(app);
    CLI::App* send_cmd = send.add(app);
    CLI::App* sub_cmd = sub.add(app);
    CLI::App* pub_cmd = pub.add(app);
    CLI::App* cookie_cmd = cookie.add(app);
    CLI::App* keygen_cmd = keygen.add(app);
    AdminCommands admin;
    admin.add(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "liminal-cli: %s\nRun with --help for more information.\n", e.what());
        return exit_usage;
    }
    try {
        if (node_cmd->parsed()) return node.run();
        if (send_cmd->parsed()) return send.run();
        if (sub_cmd->parsed()) return sub.run();
        if (pub_cmd->parsed()) return pub.run();
        if (cookie_cmd->parsed()) return cookie.run();
        if (keygen_cmd->parsed()) return keygen.run();
        if (const auto kind = admin.chosen()) return admin.run(*kind);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "liminal-cli: %s\n", e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "liminal-cli: %s\n", e.what());
        return exit_failure;
    }
    return exit_usage;
}
