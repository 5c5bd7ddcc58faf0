// The concurrent-readers bookkeeping of engagement pings, held under an
// article's shard lock: per simulated second of a steady stream of readers
// (each pinging every 15 s), their pings, one count (a ranking or series
// reading the article) and every 5 s the maintenance's expiry. design:0 is
// the map of last pings that maintenance pruned with erase_if and counts
// walked (the store before ConcurrentReaders), design:1 ConcurrentReaders.
// The counter longest_ms is the longest single call: how long a shard's
// lock would be held by it.
#include <chrono>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "benchmark/benchmark.h"
#include "trending-service/concurrent_readers.h"

namespace newsgrid::trending {
namespace {

constexpr int64_t kWindowMs = 60'000;

// The map the store kept before.
class MapOfLastPings {
 public:
  void Note(uint64_t reader, int64_t ms) {
    int64_t& last = readers_[reader];
    last = std::max(last, ms);
  }
  int64_t Count(int64_t now_ms) const {
    int64_t n = 0;
    for (const auto& [reader, last] : readers_) n += last >= now_ms - kWindowMs;
    return n;
  }
  void Expire(int64_t now_ms) {
    absl::erase_if(readers_, [&](const auto& r) { return r.second < now_ms - kWindowMs; });
  }

 private:
  absl::flat_hash_map<uint64_t, int64_t> readers_;
};

template <typename Readers>
void Run(benchmark::State& state, Readers& readers) {
  const auto population = static_cast<uint64_t>(state.range(1));
  constexpr int64_t kPingEveryS = 15;
  int64_t now_ms = 1'714'565'250'000;
  uint64_t next = 0;  // readers come and go: each second new ones arrive
  double longest_ms = 0;
  auto timed = [&](auto f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    longest_ms = std::max(
        longest_ms,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  };
  int64_t second = 0;
  for (auto _ : state) {
    // A reader reads for 2 minutes: the population turns over.
    const uint64_t per_second = population / kPingEveryS;
    for (uint64_t i = 0; i < per_second; ++i) {
      const uint64_t reader = (next + i) % (population * 8) * 0x9E3779B97F4A7C15ull;
      timed([&] { readers.Note(reader, now_ms); });
    }
    next += per_second / 8;
    timed([&] { benchmark::DoNotOptimize(readers.Count(now_ms)); });
    if (++second % 5 == 0) timed([&] { readers.Expire(now_ms); });
    now_ms += 1000;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(population / kPingEveryS));
  state.counters["longest_ms"] = longest_ms;
}

void BM_ConcurrentReaders(benchmark::State& state) {
  if (state.range(0) == 0) {
    MapOfLastPings readers;
    Run(state, readers);
  } else {
    ConcurrentReaders readers(absl::Milliseconds(kWindowMs));
    Run(state, readers);
  }
}
BENCHMARK(BM_ConcurrentReaders)
    ->ArgNames({"design", "readers"})
    ->Args({0, 1'000'000})
    ->Args({1, 1'000'000})
    ->Iterations(90)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace newsgrid::trending
