// The readers of one article, for its concurrent-readers count: a reader
// counts as reading now while its last ping is within the window. Every
// operation costs a bounded time whatever the number of readers, because it
// runs under the article's shard lock, where ingest batches and ranking
// scans wait behind it (trending README, "Readers expired without a pass
// over them"):
//  - past 64 readers, the count is kept per slot of time (a ring of 64
//    slots, each a 60th of the window, one second for the default 60 s):
//    Count() sums at most 64 slots instead of walking the readers (up to
//    64 readers are walked instead: most articles have few, and the ring's
//    264 bytes would add about a third to what their engagement costs);
//  - readers live in two generations of hash maps: Expire() drops the older
//    generation whole once every reader in it has left, instead of erasing
//    them one by one;
//  - a large generation is split by reader hash into up to 64 maps, so
//    that growing one rehashes a 64th of the readers at a time.
//
//   ConcurrentReaders readers(absl::Seconds(60));
//   readers.Note(visitor_hash, absl::ToUnixMillis(ping_time));
//   int64_t now = readers.Count(absl::ToUnixMillis(absl::Now()));
//   readers.Expire(absl::ToUnixMillis(absl::Now()));  // from maintenance
//
// The window's edge is kept to the slot: a reader leaves when the slot of
// its last ping is no later than the slot of (now - window), that is up to
// one slot (a second at the default window) earlier than an exact edge.
// Not thread-safe: the caller holds the article's lock.
#ifndef NEWSGRID_TRENDING_SERVICE_CONCURRENT_READERS_H_
#define NEWSGRID_TRENDING_SERVICE_CONCURRENT_READERS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace newsgrid::trending {

class ConcurrentReaders {
 public:
  static constexpr int kSlots = 64;

  explicit ConcurrentReaders(absl::Duration window);

  // A ping of `reader` at `time_ms` (Unix ms): its last ping becomes the
  // later of this one and the one held.
  void Note(uint64_t reader, int64_t time_ms);
  // Readers whose last ping lies within the window ending at `now_ms`.
  int64_t Count(int64_t now_ms) const;
  // Forgets the readers that left before `now_ms - window`, a generation at
  // a time (readers are held for up to about two windows).
  void Expire(int64_t now_ms);

  // Issues the cache misses of a Note(reader, ...) ahead of it.
  void Prefetch(uint64_t reader) const {
    current_.Prefetch(reader);
    previous_.Prefetch(reader);
  }

  bool empty() const { return current_.size == 0 && previous_.size == 0; }
  // Reader entries held (a reader may be held in both generations).
  size_t size() const { return current_.size + previous_.size; }
  size_t Bytes() const;

 private:
  using Map = absl::flat_hash_map<uint64_t, int64_t>;  // reader -> last ping, Unix ms
  // Readers noted since a generation started, split by the reader's top
  // bits into 1 << bits maps (none while empty).
  struct Generation {
    std::vector<Map> parts;
    int bits = 0;
    size_t size = 0;
    int64_t max_ms = std::numeric_limits<int64_t>::min();

    int64_t* Find(uint64_t reader);
    const int64_t* Find(uint64_t reader) const {
      return const_cast<Generation*>(this)->Find(reader);
    }
    // The entry of `reader` and false, or a new one holding `time_ms` and
    // true (one probe either way).
    std::pair<int64_t*, bool> Emplace(uint64_t reader, int64_t time_ms);
    // Splits the maps once one holds more than kPartReaders (entry
    // pointers are then invalid).
    void MaybeSplit();
    void Prefetch(uint64_t reader) const {
      if (!parts.empty()) parts[PartOf(reader)].prefetch(reader);
    }
    size_t PartOf(uint64_t reader) const { return bits == 0 ? 0 : reader >> (64 - bits); }
    size_t Bytes() const;
  };

  // counts[s % kSlots]: readers whose last ping lies in slot s, for the
  // slots (head - kSlots, head].
  struct Ring {
    std::array<uint32_t, kSlots> counts{};
    int64_t head = std::numeric_limits<int64_t>::min() / 2;

    bool Holds(int64_t slot) const { return slot <= head && slot > head - kSlots; }
    uint32_t& At(int64_t slot) { return counts[static_cast<size_t>(slot & (kSlots - 1))]; }
    uint32_t At(int64_t slot) const { return counts[static_cast<size_t>(slot & (kSlots - 1))]; }
    void Remove(int64_t slot);
    void Add(int64_t slot);
  };

  int64_t SlotOf(int64_t time_ms) const { return FloorDiv(time_ms, slot_ms_); }
  static int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b < 0); }
  // Calls f(last ping) for each reader, once (its entry in the current
  // generation hides the older one).
  template <typename F>
  void ForEachReader(F f) const;
  void BuildRing();

  int64_t window_ms_;
  int64_t slot_ms_;
  std::unique_ptr<Ring> ring_;  // past kSlots readers
  Generation current_;
  Generation previous_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_CONCURRENT_READERS_H_
