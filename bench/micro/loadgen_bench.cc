// The load generator's own per-call costs (histogram record, Zipf draw):
// they must stay far below a call's, or the generator measures itself.
#include <random>

#include "bench/loadgen/histogram.h"
#include "bench/loadgen/zipf.h"
#include "benchmark/benchmark.h"

namespace newsgrid::bench {
namespace {

void BM_HistogramRecord(benchmark::State& state) {
  Histogram h;
  int64_t v = 123456;
  for (auto _ : state) {
    h.Record(v);
    v = (v * 1103515245 + 12345) & 0xffffffff;
  }
  benchmark::DoNotOptimize(h.count());
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramP99(benchmark::State& state) {
  Histogram h;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) h.Record(static_cast<int64_t>(rng() % 50'000'000));
  for (auto _ : state) benchmark::DoNotOptimize(h.Percentile(99));
}
BENCHMARK(BM_HistogramP99);

void BM_ZipfSample(benchmark::State& state) {
  ZipfDistribution zipf(static_cast<size_t>(state.range(0)), 1.0);
  std::mt19937_64 rng(2);
  for (auto _ : state) benchmark::DoNotOptimize(zipf(rng));
}
BENCHMARK(BM_ZipfSample)->Arg(10000)->Arg(100000);

}  // namespace
}  // namespace newsgrid::bench
