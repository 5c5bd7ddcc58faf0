#include "trending-service/concurrent_readers.h"

#include <algorithm>
#include <utility>

namespace newsgrid::trending {
namespace {

// A map is split once it holds this many readers: splitting costs a pass
// over them (about a millisecond), and afterwards a map's growth rehashes at
// most a 64th of the generation.
constexpr size_t kPartReaders = size_t{1} << 14;
constexpr int kSplitBits = 6;  // 64 maps
constexpr int64_t kWindowSlots = 60;

}  // namespace

ConcurrentReaders::ConcurrentReaders(absl::Duration window)
    : window_ms_(std::max<int64_t>(1, absl::ToInt64Milliseconds(window))),
      // A 60th of the window: the slots it touches (60, and one partly at
      // its start) fit in the ring, with three to spare for pings stamped a
      // little ahead of the clock.
      slot_ms_((window_ms_ + kWindowSlots - 1) / kWindowSlots) {}

int64_t* ConcurrentReaders::Generation::Find(uint64_t reader) {
  if (parts.empty()) return nullptr;
  Map& part = parts[PartOf(reader)];
  auto it = part.find(reader);
  return it == part.end() ? nullptr : &it->second;
}

std::pair<int64_t*, bool> ConcurrentReaders::Generation::Emplace(uint64_t reader,
                                                                 int64_t time_ms) {
  if (parts.empty()) parts.resize(1);
  auto [it, inserted] = parts[PartOf(reader)].try_emplace(reader, time_ms);
  size += inserted;
  return {&it->second, inserted};
}

void ConcurrentReaders::Generation::MaybeSplit() {
  if (bits != 0 || parts[0].size() <= kPartReaders) return;
  std::vector<Map> split(size_t{1} << kSplitBits);
  for (Map& m : split) m.reserve(2 * parts[0].size() >> kSplitBits);
  bits = kSplitBits;  // PartOf() now names the split maps
  for (const auto& [r, t] : parts[0]) split[PartOf(r)].emplace(r, t);
  parts = std::move(split);
}

size_t ConcurrentReaders::Generation::Bytes() const {
  size_t bytes = parts.capacity() * sizeof(Map);
  for (const Map& m : parts) bytes += m.capacity() * (sizeof(Map::value_type) + 1);
  return bytes;
}

void ConcurrentReaders::Ring::Remove(int64_t slot) {
  if (Holds(slot) && At(slot) > 0) --At(slot);
}

void ConcurrentReaders::Ring::Add(int64_t slot) {
  if (slot > head) {
    // Slots between the old head and the new one start empty.
    for (int64_t s = std::max(head + 1, slot - kSlots + 1); s <= slot; ++s) At(s) = 0;
    head = slot;
  }
  if (Holds(slot)) ++At(slot);
}

template <typename F>
void ConcurrentReaders::ForEachReader(F f) const {
  for (const Map& m : current_.parts) {
    for (const auto& [reader, last_ms] : m) f(last_ms);
  }
  for (const Map& m : previous_.parts) {
    for (const auto& [reader, last_ms] : m) {
      if (current_.Find(reader) == nullptr) f(last_ms);
    }
  }
}

void ConcurrentReaders::BuildRing() {
  ring_ = std::make_unique<Ring>();
  ring_->head = SlotOf(std::max(current_.max_ms, previous_.max_ms));
  ForEachReader([&](int64_t last_ms) { ring_->Add(SlotOf(last_ms)); });
}

void ConcurrentReaders::Note(uint64_t reader, int64_t time_ms) {
  auto [held, inserted] = current_.Emplace(reader, time_ms);
  int64_t last = time_ms;
  if (!inserted) {
    if (*held >= time_ms) return;
    if (ring_ != nullptr) ring_->Remove(SlotOf(*held));
    *held = time_ms;
  } else if (const int64_t* old = previous_.Find(reader)) {
    // Moves to the current generation; the stale entry goes with the old.
    last = std::max(last, *old);
    if (ring_ != nullptr) ring_->Remove(SlotOf(*old));
    *held = last;
  }
  current_.max_ms = std::max(current_.max_ms, last);
  if (inserted) current_.MaybeSplit();  // `held` is not used past here
  if (ring_ != nullptr) {
    ring_->Add(SlotOf(last));
  } else if (size() > static_cast<size_t>(kSlots)) {
    BuildRing();
  }
}

int64_t ConcurrentReaders::Count(int64_t now_ms) const {
  const int64_t edge = SlotOf(now_ms - window_ms_);
  int64_t n = 0;
  if (ring_ == nullptr) {
    ForEachReader([&](int64_t last_ms) { n += SlotOf(last_ms) > edge; });
    return n;
  }
  const Ring& ring = *ring_;
  for (int64_t s = std::max(edge + 1, ring.head - kSlots + 1); s <= ring.head; ++s) n += ring.At(s);
  return n;
}

void ConcurrentReaders::Expire(int64_t now_ms) {
  const int64_t since_ms = now_ms - window_ms_;
  if (previous_.max_ms >= since_ms) return;  // someone in it may still be reading
  previous_ = std::move(current_);
  current_ = Generation{};
  if (previous_.max_ms < since_ms) {
    previous_ = Generation{};  // they have all left as well
    ring_.reset();
    return;
  }
  // Shaped like the one before: as many readers come back in a steady
  // stream, so the maps need not grow (and rehash) again.
  current_.bits = previous_.bits;
  current_.parts.resize(previous_.parts.size());
  for (size_t i = 0; i < current_.parts.size(); ++i) {
    current_.parts[i].reserve(previous_.parts[i].size());
  }
}

size_t ConcurrentReaders::Bytes() const {
  return current_.Bytes() + previous_.Bytes() + (ring_ != nullptr ? sizeof(Ring) : 0);
}

}  // namespace newsgrid::trending
