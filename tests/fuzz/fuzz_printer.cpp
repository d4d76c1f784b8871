// The printers of `liminal-cli node --inbox/--subscribe` (describe_message),
// with both kinds of message a node delivers: a directed send and a publish.
// The input is a frame: its SENDs and PUBLISHes are printed as a receiving
// node would deliver them. An input that is not a frame is printed too, as
// a publish whose channel is its first bytes (a name on the wire may hold
// any bytes). A text line holds no control character (remote bytes cannot
// forge a line or move the terminal) and a JSON line is one valid JSON
// object of the message's kind.

#include "common.hpp"
#include "fuzz.hpp"
#include "wire/codec.hpp"

#include <nlohmann/json.hpp>

#include <memory>

using namespace liminal;
using namespace liminal::detail;

namespace {

const Pid sender{"sender@h", 5, 9};

void check_printed(const Message& message) {
    const std::string text = cli::describe_message(message, false);
    for (const char c : text) LIMINAL_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    const std::string line = cli::describe_message(message, true);
    LIMINAL_FUZZ_CHECK(line.find('\n') == std::string::npos);
    const auto json = nlohmann::json::parse(line, nullptr, false);
    LIMINAL_FUZZ_CHECK(json.is_object());
    LIMINAL_FUZZ_CHECK(json.value("kind", "") == (message.envelope() ? "publish" : "send"));
    LIMINAL_FUZZ_CHECK(json.value("from", "") == message.from().to_string());
}

Envelope envelope_of(const wire::Publish& publish) {
    Envelope envelope;
    envelope.id = publish.id;
    envelope.channel = std::string(publish.channel);
    envelope.sequence = publish.sequence;
    envelope.timestamp_us = publish.timestamp_us;
    envelope.parents = publish.parents;
    return envelope;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = fuzz::bytes(data, size);
    const auto frame = std::make_shared<const std::string>(input);  // the messages' views point into it
    std::vector<wire::WireMessage> messages;
    if (wire::decode_frame(*frame, messages) == wire::DecodeError::none) {
        for (const auto& message : messages) {
            if (const auto* send = std::get_if<wire::Send>(&message)) {
                check_printed(Message(Pid{sender.node, sender.creation, send->from_id}, send->headers, send->payload));
            } else if (const auto* publish = std::get_if<wire::Publish>(&message)) {
                check_printed(Message(Pid{sender.node, sender.creation, publish->from_id}, publish->headers, frame,
                                      publish->payload, std::make_shared<const Envelope>(envelope_of(*publish))));
            }
        }
        return 0;
    }
    const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
    Envelope envelope;
    envelope.channel = std::string(input.substr(0, split));
    const std::string_view payload = input.substr(split);
    check_printed(Message(sender, {{std::string(payload.substr(0, 3)), std::string(payload)}}, payload));
    check_printed(Message(sender, {}, nullptr, payload, std::make_shared<const Envelope>(envelope)));
    return 0;
}
