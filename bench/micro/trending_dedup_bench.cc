// The visitor dedup check of every view: DedupFilter::SeenWithin on new
// keys (the common case: a first view) and on repeats.
#include "benchmark/benchmark.h"
#include "trending-service/ingest_rules.h"

namespace newsgrid::trending {
namespace {

constexpr absl::Time kNow = absl::FromUnixSeconds(1'714'565'250);

// range(0): 0 new keys (the common case: a first view), 1 repeats of
// 100k keys.
void BM_DedupCheck(benchmark::State& state) {
  DedupFilter filter(absl::Minutes(30), size_t{1} << 22);
  const bool repeat = state.range(0) == 1;
  constexpr uint64_t kKeys = 100000;
  if (repeat) {
    for (uint64_t k = 0; k < kKeys; ++k) filter.SeenWithin(MixHash(k, 1), kNow, kNow);
  }
  uint64_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(filter.SeenWithin(MixHash(k, 1), kNow, kNow));
    k = repeat ? (k + 1) % kKeys : k + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DedupCheck)->ArgName("repeat")->Arg(0)->Arg(1);

}  // namespace
}  // namespace newsgrid::trending
