// Pids: text form, parsing, node names.

#include <liminal/pid.hpp>

#include <catch2/catch.hpp>

using liminal::Pid;

TEST_CASE("a pid prints and parses back", "[pid]") {
    const Pid pid{"a@127.0.0.1", 1732650000123456, 7};
    CHECK(pid.to_string() == "<a@127.0.0.1.1732650000123456.7>");
    const auto parsed = Pid::parse(pid.to_string());
    REQUIRE(parsed);
    CHECK(*parsed == pid);
}

TEST_CASE("hosts with dots and names with dots parse", "[pid]") {
    const Pid pid{"worker.1@host.example.org", 42, 18446744073709551615ULL};
    const auto parsed = Pid::parse(pid.to_string());
    REQUIRE(parsed);
    CHECK(*parsed == pid);
}

TEST_CASE("text that is not a pid does not parse", "[pid]") {
    for (const char* text : {"", "<>", "a@h.1.2", "<a@h.1.2", "<a@h.1>", "<a@h..2>", "<a@h.1.>", "<a@h.0.2>",
                             "<a@h.1.0>", "<ah.1.2>", "<a@h.x.2>", "<a@h.1.99999999999999999999999>",
                             "<@h.1.2>", "<a@.1.2>", "<a b@h.1.2>", "<a@h.-1.2>", "<a@h.+1.2>"}) {
        INFO(text);
        CHECK_FALSE(Pid::parse(text));
    }
}

TEST_CASE("node names are name@host", "[pid]") {
    CHECK(liminal::is_valid_node_name("a@127.0.0.1"));
    CHECK(liminal::is_valid_node_name("node-1@db.example"));
    CHECK_FALSE(liminal::is_valid_node_name("a"));
    CHECK_FALSE(liminal::is_valid_node_name("a@"));
    CHECK_FALSE(liminal::is_valid_node_name("@h"));
    CHECK_FALSE(liminal::is_valid_node_name("a@b@c"));
    CHECK_FALSE(liminal::is_valid_node_name("a @h"));
    CHECK_FALSE(liminal::is_valid_node_name("a@h>"));
    CHECK_FALSE(liminal::is_valid_node_name(std::string(120, 'a') + "@" + std::string(8, 'h')));
}

TEST_CASE("pids order and compare by node, creation, id", "[pid]") {
    CHECK(Pid{"a@h", 1, 2} < Pid{"a@h", 1, 3});
    CHECK(Pid{"a@h", 1, 9} < Pid{"a@h", 2, 1});
    CHECK(Pid{"a@h", 1, 2} == Pid{"a@h", 1, 2});
    CHECK(std::hash<Pid>{}(Pid{"a@h", 1, 2}) == std::hash<Pid>{}(Pid{"a@h", 1, 2}));
    CHECK_FALSE(Pid{}.valid());
}
