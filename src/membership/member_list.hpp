#pragma once
// The remote members of one group: (origin, id) entries kept sorted, so the
// entries of each origin lie together in id order. Most groups of a large
// cluster have a single member, so one entry is held in place and a heap
// array is taken only for two or more: the list costs 24 bytes, plus 16 per
// member (rounded up to a power of two) once it has two or more.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace liminal::detail::membership {

class MemberList {
public:
    struct Entry {
        std::uint32_t origin = 0;  // the State's number for the origin node
        std::uint64_t id = 0;
        friend auto operator<=>(const Entry&, const Entry&) = default;
    };

    MemberList() = default;
    MemberList(const MemberList&) = delete;
    MemberList& operator=(const MemberList&) = delete;
    MemberList(MemberList&& other) noexcept;
    MemberList& operator=(MemberList&& other) noexcept;
    ~MemberList() { release(); }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    const Entry* begin() const noexcept { return data(); }
    const Entry* end() const noexcept { return data() + size_; }

    // False when it was there already / was not there.
    bool insert(Entry entry);
    bool erase(Entry entry);
    bool contains(Entry entry) const;
    // The entries of `origin`, in id order.
    std::span<const Entry> of(std::uint32_t origin) const;
    // Makes `ids` (sorted, no duplicates) the entries of `origin`.
    void assign(std::uint32_t origin, const std::vector<std::uint64_t>& ids);

private:
    Entry* data() noexcept { return capacity_ == 0 ? &one_ : many_; }
    const Entry* data() const noexcept { return capacity_ == 0 ? &one_ : many_; }
    // Room for `count` entries: grows to a power of two, or back to the
    // single entry in place, and shrinks when under a quarter is used.
    void fit(std::size_t count);
    void release() noexcept;

    std::uint32_t size_ = 0;
    std::uint32_t capacity_ = 0;  // 0: the one entry in place; else the heap array's length
    union {
        Entry one_{};
        Entry* many_;
    };
};

}  // namespace liminal::detail::membership
