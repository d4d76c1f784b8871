// The frame decoder and every message decoder behind it (the frame's type
// byte picks one; the seeds hold a golden frame of every type). Any bytes
// either decode whole or are refused whole; what decodes encodes again to
// bytes that decode to the same messages (the encoding is canonical after
// one round), and every decoded message passes the checks the API makes
// before a message may enter a frame.

#include "fuzz.hpp"
#include "wire/codec.hpp"

#include <string>
#include <vector>

using namespace liminal::detail::wire;

namespace {

std::string encode_all(const std::vector<WireMessage>& messages) {
    FrameWriter writer;
    for (const auto& message : messages) writer.add(message);
    return writer.take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view frame = liminal::fuzz::bytes(data, size);
    std::vector<WireMessage> messages;
    if (decode_frame(frame, messages) != DecodeError::none) {
        LIMINAL_FUZZ_CHECK(messages.empty());  // nothing of a refused frame
        return 0;
    }
    LIMINAL_FUZZ_CHECK(!messages.empty() && messages.size() <= max_messages_per_frame);
    for (const auto& message : messages) {
        if (const auto* send = std::get_if<Send>(&message))
            LIMINAL_FUZZ_CHECK(check_send(send->headers, send->payload, ~std::size_t{0}) == Refusal::none);
        if (const auto* publish = std::get_if<Publish>(&message)) {
            const PublishFields fields{publish->channel, publish->from_id, publish->id, publish->sequence,
                                       publish->timestamp_us};
            LIMINAL_FUZZ_CHECK(check_publish(fields, publish->headers, publish->payload, publish->parents.size(),
                                             ~std::size_t{0}) == Refusal::none);
        }
    }

    const std::string once = encode_all(messages);
    std::vector<WireMessage> again;
    LIMINAL_FUZZ_CHECK(decode_frame(once, again) == DecodeError::none);
    LIMINAL_FUZZ_CHECK(again == messages);
    LIMINAL_FUZZ_CHECK(encode_all(again) == once);
    return 0;
}
