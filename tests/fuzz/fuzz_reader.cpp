// The msgpack reader under the decoders. The input's first byte says how many
// of the next bytes are operations (which read to make next); the rest is
// what the reader reads. Checked: every value read lies inside the input,
// reading never goes backwards, after the first failure every read fails and
// the error stays, and every scalar read agrees with msgpack-c's own
// unpacker on the same bytes.

#include "fuzz.hpp"
#include "wire/reader.hpp"

#include <msgpack.hpp>

#include <array>

using liminal::detail::wire::ReadError;
using liminal::detail::wire::Reader;

namespace {

// What msgpack-c makes of the value at `offset`; nil when it refuses it.
msgpack::object_handle reference(std::string_view input, std::size_t offset) {
    try {
        std::size_t at = offset;
        return msgpack::unpack(input.data(), input.size(), at);
    } catch (const std::exception&) {
        return msgpack::object_handle();
    }
}

bool inside(std::string_view input, std::string_view value) {
    return value.empty() || (value.data() >= input.data() && value.data() + value.size() <= input.data() + input.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t op_count = std::min<std::size_t>(data[0], size - 1);
    const std::string_view ops = liminal::fuzz::bytes(data + 1, op_count);
    const std::string_view input = liminal::fuzz::bytes(data + 1 + op_count, size - 1 - op_count);

    Reader reader(input);
    bool failed = false;
    for (const char op_byte : ops) {
        const auto op = static_cast<std::uint8_t>(op_byte);
        const std::size_t before = reader.remaining();
        const std::size_t offset = input.size() - before;
        bool ok = false;
        switch (op % 6) {
        case 0: {
            std::uint32_t count = 0;
            ok = reader.array(count);
            if (ok) LIMINAL_FUZZ_CHECK(count <= reader.remaining());
            break;
        }
        case 1: {
            std::uint32_t count = 0;
            ok = reader.map(count);
            if (ok) LIMINAL_FUZZ_CHECK(count <= reader.remaining() / 2);
            break;
        }
        case 2: {
            std::uint64_t value = 0;
            ok = reader.uint(value);
            if (ok) {
                const auto expected = reference(input, offset);
                LIMINAL_FUZZ_CHECK(expected.get().type == msgpack::type::POSITIVE_INTEGER);
                LIMINAL_FUZZ_CHECK(expected.get().via.u64 == value);
            }
            break;
        }
        case 3:
        case 4: {
            std::string_view value;
            const bool is_str = op % 6 == 3;
            ok = is_str ? reader.str(value) : reader.bin(value);
            if (ok) {
                LIMINAL_FUZZ_CHECK(inside(input, value));
                const auto expected = reference(input, offset);
                const auto& object = expected.get();
                LIMINAL_FUZZ_CHECK(object.type == (is_str ? msgpack::type::STR : msgpack::type::BIN));
                const std::string_view theirs = is_str ? std::string_view(object.via.str.ptr, object.via.str.size)
                                                       : std::string_view(object.via.bin.ptr, object.via.bin.size);
                LIMINAL_FUZZ_CHECK(theirs == value);
            }
            break;
        }
        default: {
            std::array<std::uint8_t, 40> out{};
            const std::size_t want = (op / 6) % out.size();
            ok = reader.fixed_bin(out.data(), want);
            break;
        }
        }
        LIMINAL_FUZZ_CHECK(reader.remaining() <= before);
        if (ok) LIMINAL_FUZZ_CHECK(reader.ok());
        if (failed) LIMINAL_FUZZ_CHECK(!ok && !reader.ok() && reader.at_end());
        if (!ok) {
            LIMINAL_FUZZ_CHECK(!reader.ok() && reader.error() != ReadError::none && reader.at_end());
            failed = true;
        }
    }
    return 0;
}
