// HyperLogLog add, sparse and dense; folding a dense sketch to a lower
// precision (what maintenance does at the sketch memory limit); finding a
// register in the sorted part of sparse sketches that are not in cache.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "benchmark/benchmark.h"
#include "trending-service/hll.h"

namespace newsgrid::trending {
namespace {

uint64_t Next(uint64_t& x) {  // splitmix64: well-mixed like visitor hashes
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// range(0): 0 sparse (few visitors per article-hour, the common case),
// 1 dense (a hot article past ~2k visitors).
void BM_HllAdd(benchmark::State& state) {
  uint64_t x = 1;
  Hll h;
  const bool dense = state.range(0) == 1;
  if (dense) {
    for (int i = 0; i < 100000; ++i) h.Add(Next(x));
  }
  int n = 0;
  for (auto _ : state) {
    if (!dense && ++n == 1000) {  // stay sparse
      state.PauseTiming();
      h = Hll();
      n = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(h.Add(Next(x)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HllAdd)->ArgName("dense")->Arg(0)->Arg(1);

// A hot article-hour's dense sketch (100k visitors) folded from 14 to 12
// bits. range(0): 1 Hll::FoldTo; 0 the same registers raised one by one
// into a new sketch of the lower precision, which starts sparse (how
// FoldTo worked before it went straight to a dense sketch): the baseline.
void BM_HllFold(benchmark::State& state) {
  uint64_t x = 1;
  Hll h;
  for (int i = 0; i < 100000; ++i) h.Add(Next(x));
  for (auto _ : state) {
    if (state.range(0) == 1) {
      Hll folded = h;
      folded.FoldTo(12);
      benchmark::DoNotOptimize(folded.MemoryBytes());
    } else {
      Hll raised(12);
      h.ForEachRegister([&](uint32_t i, uint8_t r) { raised.Raise(i, r); });
      benchmark::DoNotOptimize(raised.MemoryBytes());
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HllFold)->ArgName("fold_to")->Arg(0)->Arg(1);

// Ingest raises a register in one of ~200k sparse sketches (100k articles,
// an hour and a ten-minute sketch each), rarely the one raised before: the
// lookup in the sorted entries pays cache misses, not comparisons. 16,384
// sorted lists of 800 hashed registers (3.2 KB each, 52 MB in all), each
// lookup in a random list for a random register. range(0): 0
// std::lower_bound (a binary search: the baseline), 1 Hll::SparseLowerBound
// (a guess from the index, then a short walk).
void BM_SparseLowerBound(benchmark::State& state) {
  constexpr int kLists = 16384;
  constexpr int kEntries = 800;
  uint64_t x = 1;
  std::vector<std::vector<uint32_t>> lists(kLists);
  for (auto& list : lists) {
    for (int i = 0; i < kEntries; ++i) {
      const uint64_t h = Next(x);
      list.push_back(static_cast<uint32_t>(h >> (64 - Hll::kPrecision)) << 8 | 1);
    }
    std::sort(list.begin(), list.end());
  }
  const bool guess = state.range(0) == 1;
  uint64_t found = 0;
  for (auto _ : state) {
    const uint64_t h = Next(x);
    const std::vector<uint32_t>& list = lists[h % kLists];
    const auto index = static_cast<uint32_t>(h >> (64 - Hll::kPrecision));
    found += guess ? Hll::SparseLowerBound(list.data(), list.size(), index, Hll::kPrecision)
                   : static_cast<size_t>(std::lower_bound(list.begin(), list.end(), index << 8) -
                                         list.begin());
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(guess ? "Hll::SparseLowerBound" : "baseline: std::lower_bound");
}
BENCHMARK(BM_SparseLowerBound)->ArgName("guess")->Arg(0)->Arg(1);

}  // namespace
}  // namespace newsgrid::trending
