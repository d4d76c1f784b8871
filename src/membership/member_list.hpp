#pragma once
// The remote members of one group: (origin, id) entries kept sorted, so the
// entries of each origin lie together in id order. Most groups of a large
// cluster have a single member, so one entry is held in the list itself and
// a heap array is taken only for two or more: the list costs 16 bytes, plus
// 16 a member (the array's length a power of two) once it has two or more.

#include <cstddef>
#include <cstdint>
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

    // False when it was there already / was not there.
    bool insert(Entry entry);
    bool erase(Entry entry);
    bool contains(Entry entry) const;
    // Every entry, in order.
    std::vector<Entry> entries() const;
    // The ids of `origin`, in order (appended to `out`).
    void ids_of(std::uint32_t origin, std::vector<std::uint64_t>& out) const;
    bool holds(std::uint32_t origin) const;
    // The distinct origins, in order.
    std::vector<std::uint32_t> origins() const;
    // Makes `ids` (sorted, no duplicates) the entries of `origin`.
    void assign(std::uint32_t origin, const std::vector<std::uint64_t>& ids);

private:
    bool inline_mode() const noexcept { return !heap_; }  // a heap array always holds two or more
    Entry* array() const noexcept;
    // [first, last) of `origin` in the heap array.
    std::pair<std::size_t, std::size_t> range(std::uint32_t origin) const;
    // Puts `entries` (sorted) in place of what the list holds.
    void replace(const std::vector<Entry>& entries);
    void release() noexcept;

    // One entry in place (heap_ false, size_ 0 or 1): word_ is its id and
    // tag_ its origin. Else word_ is the address of a heap array of tag_
    // entries, size_ of them used.
    std::uint64_t word_ = 0;
    std::uint32_t tag_ = 0;
    std::uint32_t size_ : 31 = 0;
    std::uint32_t heap_ : 1 = 0;
};

}  // namespace liminal::detail::membership
