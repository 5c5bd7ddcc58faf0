// Summing flushed count packs by (article, start, width): the compaction's
// in-process work before its upsert. Baseline: each pack unpacked into
// BucketDeltas (a copy of the article id each) summed in a map keyed by
// (article string, start, width), as the merge did before CountSummer.
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "trending-service/delta_pack.h"

namespace newsgrid::trending {
namespace {

// 30 packs (a compaction interval at one flush a second), each with a
// delta per article in the current minute: 20k articles named like the
// load generator's ("articles/bench-N", past the short-string buffer).
std::vector<std::string> Packs() {
  std::vector<std::string> packs;
  for (int p = 0; p < 30; ++p) {
    std::vector<BucketDelta> deltas;
    for (int a = 0; a < 20000; ++a) {
      BucketDelta d;
      d.article = absl::StrCat("articles/bench-", (a * 7919 + p) % 20000);
      d.start_min = 29'000'000 + p / 20;
      d.width_min = 1;
      d.views = 3 + a % 5;
      d.visitors = 2;
      d.hot = 1.25;
      deltas.push_back(std::move(d));
    }
    packs.push_back(PackCounts(deltas, 0, deltas.size()));
  }
  return packs;
}

struct Sums {
  int64_t views = 0, visitors = 0;
  double hot = 0;
  int64_t engaged = 0;
};

void BM_MergePacks(benchmark::State& state) {
  const std::vector<std::string> packs = Packs();
  const bool baseline = state.range(0) == 0;
  size_t rows = 0;
  for (auto _ : state) {
    if (baseline) {
      absl::flat_hash_map<std::tuple<std::string, int32_t, int32_t>, Sums> sums;
      std::vector<BucketDelta> deltas;
      for (const std::string& pack : packs) {
        deltas.clear();
        if (!UnpackCounts(pack, deltas).ok()) state.SkipWithError("unpack");
        for (BucketDelta& d : deltas) {
          Sums& c = sums[{std::move(d.article), d.start_min, d.width_min}];
          c.views += d.views;
          c.visitors += d.visitors;
          c.hot += d.hot;
        }
      }
      std::vector<const std::pair<const std::tuple<std::string, int32_t, int32_t>, Sums>*> sorted;
      for (const auto& e : sums) sorted.push_back(&e);
      std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
      rows = sorted.size();
    } else {
      CountSummer summer;
      for (const std::string& pack : packs) {
        if (!summer.Add(pack).ok()) state.SkipWithError("add");
      }
      rows = summer.SortedRows().size();
    }
    benchmark::DoNotOptimize(rows);
  }
  state.SetItemsProcessed(state.iterations() * 30 * 20000);  // deltas
  state.SetLabel(absl::StrCat(baseline ? "baseline: BucketDelta + string-keyed map" : "CountSummer",
                              ", ", rows, " rows"));
}
BENCHMARK(BM_MergePacks)->ArgName("summer")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace newsgrid::trending
