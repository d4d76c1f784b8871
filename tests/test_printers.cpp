// liminal-cli node's printers (--inbox, --subscribe): what remote bytes can
// and cannot do to an operator's terminal or to a program reading the lines.

#include "common.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>

using namespace liminal;

namespace {

const Pid sender{"b@127.0.0.1", 5, 9};

Message publish_on(const std::string& channel, std::string_view payload) {
    auto envelope = std::make_shared<Envelope>();
    envelope->channel = channel;
    envelope->sequence = 3;
    return Message(sender, {{"k", "v"}}, nullptr, payload, envelope);
}

}  // namespace

// Found by tests/fuzz/fuzz_printer.cpp: a channel name on the wire may hold
// any bytes, and the text printer wrote it as it came.
TEST_CASE("a text line escapes the channel and the payload: remote bytes forge no line", "[cli][printers]") {
    const auto line = cli::describe_message(publish_on("orders\nforged\x1b[2J", "pay\nload\x7f"), false);
    CHECK(line == "orders\\nforged\\x1b[2J <b@127.0.0.1.5.9> pay\\nload\\x7f");
    CHECK(cli::describe_message(Message(sender, {}, "hi\tthere"), false) == "message <b@127.0.0.1.5.9> hi\\tthere");
}

TEST_CASE("a JSON line is one object of the message's kind, whatever its bytes", "[cli][printers]") {
    const auto publish = nlohmann::json::parse(cli::describe_message(publish_on("c\nh", std::string("\xff\n", 2)), true));
    CHECK(publish["kind"] == "publish");
    CHECK(publish["channel"] == "c\nh");
    CHECK(publish["seq"] == 3);
    CHECK(publish["headers"]["k"] == "v");
    const auto line = cli::describe_message(Message(sender, {}, "x"), true);
    CHECK(line.find('\n') == std::string::npos);
    const auto send = nlohmann::json::parse(line);
    CHECK(send["kind"] == "send");
    CHECK(send["from"] == "<b@127.0.0.1.5.9>");
    CHECK_FALSE(send.contains("channel"));
}
