#include "membership/member_list.hpp"

#include <algorithm>
#include <bit>
#include <utility>

namespace liminal::detail::membership {

MemberList::MemberList(MemberList&& other) noexcept : size_(other.size_), capacity_(other.capacity_) {
    if (capacity_ == 0) {
        one_ = other.one_;
    } else {
        many_ = other.many_;
    }
    other.size_ = 0;
    other.capacity_ = 0;
    other.one_ = Entry{};
}

MemberList& MemberList::operator=(MemberList&& other) noexcept {
    if (this == &other) return *this;
    release();
    size_ = other.size_;
    capacity_ = other.capacity_;
    if (capacity_ == 0) {
        one_ = other.one_;
    } else {
        many_ = other.many_;
    }
    other.size_ = 0;
    other.capacity_ = 0;
    other.one_ = Entry{};
    return *this;
}

void MemberList::release() noexcept {
    if (capacity_ != 0) delete[] many_;
    capacity_ = 0;
    size_ = 0;
    one_ = Entry{};
}

void MemberList::fit(std::size_t count) {
    std::size_t wanted = capacity_ == 0 ? 1 : capacity_;
    if (count <= 1) {
        wanted = 0;  // in place
    } else if (count > wanted) {
        wanted = std::max<std::size_t>(4, std::bit_ceil(count));
    } else if (count * 4 < wanted && wanted > 4) {
        wanted = std::max<std::size_t>(4, std::bit_ceil(count * 2));
    } else {
        return;
    }
    if (wanted == 0 && capacity_ == 0) return;
    if (wanted == 0) {
        const Entry first = size_ > 0 ? many_[0] : Entry{};
        delete[] many_;
        capacity_ = 0;
        one_ = first;
        return;
    }
    Entry* fresh = new Entry[wanted];
    std::copy(data(), data() + size_, fresh);  // size_ <= wanted: callers grow before and shrink after
    if (capacity_ != 0) delete[] many_;
    many_ = fresh;
    capacity_ = static_cast<std::uint32_t>(wanted);
}

bool MemberList::insert(Entry entry) {
    const Entry* at = std::lower_bound(begin(), end(), entry);
    if (at != end() && *at == entry) return false;
    const std::size_t index = static_cast<std::size_t>(at - begin());
    fit(size_ + 1u);
    Entry* base = data();
    std::move_backward(base + index, base + size_, base + size_ + 1);
    base[index] = entry;
    ++size_;
    return true;
}

bool MemberList::erase(Entry entry) {
    const Entry* at = std::lower_bound(begin(), end(), entry);
    if (at == end() || *at != entry) return false;
    const std::size_t index = static_cast<std::size_t>(at - begin());
    Entry* base = data();
    std::move(base + index + 1, base + size_, base + index);
    --size_;
    fit(size_);
    return true;
}

bool MemberList::contains(Entry entry) const { return std::binary_search(begin(), end(), entry); }

std::span<const MemberList::Entry> MemberList::of(std::uint32_t origin) const {
    const auto first = std::lower_bound(begin(), end(), Entry{origin, 0});
    const auto last = std::lower_bound(first, end(), Entry{origin + 1, 0},
                                       [](const Entry& e, const Entry& bound) { return e.origin < bound.origin; });
    return {first, static_cast<std::size_t>(last - first)};
}

void MemberList::assign(std::uint32_t origin, const std::vector<std::uint64_t>& ids) {
    const auto range = of(origin);
    const std::size_t from = static_cast<std::size_t>(range.data() - begin());
    const std::size_t old_count = range.size();
    const std::size_t count = size_ - old_count + ids.size();
    // The entries after the origin's range move to make room (or close up).
    std::vector<Entry> tail(begin() + from + old_count, end());
    fit(std::max<std::size_t>(count, size_));
    Entry* base = data();
    for (std::size_t i = 0; i < ids.size(); ++i) base[from + i] = Entry{origin, ids[i]};
    std::copy(tail.begin(), tail.end(), base + from + ids.size());
    size_ = static_cast<std::uint32_t>(count);
    fit(size_);
}

}  // namespace liminal::detail::membership
