#include "membership/member_list.hpp"

#include <algorithm>
#include <bit>
#include <utility>

namespace liminal::detail::membership {

MemberList::MemberList(MemberList&& other) noexcept
    : word_(std::exchange(other.word_, 0)), tag_(std::exchange(other.tag_, 0)), size_(other.size_), heap_(other.heap_) {
    other.size_ = 0;
    other.heap_ = 0;
}

MemberList& MemberList::operator=(MemberList&& other) noexcept {
    if (this == &other) return *this;
    release();
    word_ = std::exchange(other.word_, 0);
    tag_ = std::exchange(other.tag_, 0);
    size_ = other.size_;
    heap_ = other.heap_;
    other.size_ = 0;
    other.heap_ = 0;
    return *this;
}

MemberList::Entry* MemberList::array() const noexcept {
    return reinterpret_cast<Entry*>(static_cast<std::uintptr_t>(word_));
}

void MemberList::release() noexcept {
    if (heap_) delete[] array();
    word_ = 0;
    tag_ = 0;
    size_ = 0;
    heap_ = 0;
}

std::vector<MemberList::Entry> MemberList::entries() const {
    if (inline_mode()) return size_ == 0 ? std::vector<Entry>{} : std::vector<Entry>{Entry{tag_, word_}};
    return {array(), array() + size_};
}

void MemberList::replace(const std::vector<Entry>& entries) {
    release();
    if (entries.size() == 1) {
        word_ = entries[0].id;
        tag_ = entries[0].origin;
        size_ = 1;
    } else if (entries.size() > 1) {
        const std::size_t capacity = std::max<std::size_t>(4, std::bit_ceil(entries.size()));
        Entry* fresh = new Entry[capacity];
        std::copy(entries.begin(), entries.end(), fresh);
        word_ = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(fresh));
        tag_ = static_cast<std::uint32_t>(capacity);
        size_ = static_cast<std::uint32_t>(entries.size());
        heap_ = 1;
    }
}

bool MemberList::insert(Entry entry) {
    if (inline_mode()) {
        if (size_ == 0) {
            word_ = entry.id;
            tag_ = entry.origin;
            size_ = 1;
            return true;
        }
        const Entry one{tag_, word_};
        if (one == entry) return false;
        replace(one < entry ? std::vector<Entry>{one, entry} : std::vector<Entry>{entry, one});
        return true;
    }
    Entry* base = array();
    Entry* at = std::lower_bound(base, base + size_, entry);
    if (at != base + size_ && *at == entry) return false;
    const std::size_t index = static_cast<std::size_t>(at - base);
    if (size_ == tag_) {  // full: twice the room
        Entry* fresh = new Entry[2 * static_cast<std::size_t>(tag_)];
        std::copy(base, base + size_, fresh);
        delete[] base;
        base = fresh;
        word_ = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(fresh));
        tag_ *= 2;
    }
    std::move_backward(base + index, base + size_, base + size_ + 1);
    base[index] = entry;
    ++size_;
    return true;
}

bool MemberList::erase(Entry entry) {
    if (inline_mode()) {
        if (size_ == 0 || Entry{tag_, word_} != entry) return false;
        release();
        return true;
    }
    Entry* base = array();
    Entry* at = std::lower_bound(base, base + size_, entry);
    if (at == base + size_ || *at != entry) return false;
    std::move(at + 1, base + size_, at);
    --size_;
    // Back in place at one entry; half the room when under a quarter is used.
    if (size_ <= 1 || (size_ * 4u < tag_ && tag_ > 4)) replace(std::vector<Entry>(base, base + size_));
    return true;
}

bool MemberList::contains(Entry entry) const {
    if (inline_mode()) return size_ == 1 && Entry{tag_, word_} == entry;
    return std::binary_search(array(), array() + size_, entry);
}

std::pair<std::size_t, std::size_t> MemberList::range(std::uint32_t origin) const {
    const Entry* base = array();
    const Entry* first = std::lower_bound(base, base + size_, Entry{origin, 0});
    const Entry* last = std::partition_point(first, base + size_, [origin](const Entry& e) { return e.origin == origin; });
    return {static_cast<std::size_t>(first - base), static_cast<std::size_t>(last - base)};
}

void MemberList::ids_of(std::uint32_t origin, std::vector<std::uint64_t>& out) const {
    if (inline_mode()) {
        if (size_ == 1 && tag_ == origin) out.push_back(word_);
        return;
    }
    const auto [first, last] = range(origin);
    for (std::size_t i = first; i < last; ++i) out.push_back(array()[i].id);
}

bool MemberList::holds(std::uint32_t origin) const {
    if (inline_mode()) return size_ == 1 && tag_ == origin;
    const auto [first, last] = range(origin);
    return first != last;
}

std::vector<std::uint32_t> MemberList::origins() const {
    std::vector<std::uint32_t> out;
    for (const auto& entry : entries()) {
        if (out.empty() || out.back() != entry.origin) out.push_back(entry.origin);
    }
    return out;
}

void MemberList::assign(std::uint32_t origin, const std::vector<std::uint64_t>& ids) {
    std::vector<Entry> all = entries();
    const auto first = std::lower_bound(all.begin(), all.end(), Entry{origin, 0});
    const auto last = std::partition_point(first, all.end(), [origin](const Entry& e) { return e.origin == origin; });
    std::vector<Entry> mine;
    mine.reserve(ids.size());
    for (const auto id : ids) mine.push_back(Entry{origin, id});
    const auto at = all.erase(first, last);
    all.insert(at, mine.begin(), mine.end());
    replace(all);
}

}  // namespace liminal::detail::membership
