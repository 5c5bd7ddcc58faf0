// HyperLogLog add, sparse and dense; folding a dense sketch to a lower
// precision (what maintenance does at the sketch memory limit).
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

}  // namespace
}  // namespace newsgrid::trending
