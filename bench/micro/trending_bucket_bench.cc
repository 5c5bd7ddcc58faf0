// Ingest's innermost step: ViewStore::AddBatch (the view counted in its
// minute ring, 10-minute and hour buckets, HOT mass, 10-minute and hour
// sketches, pending delta and dedup mark), one RecordViews message (500
// views) per call, on one hot article and spread over 100k articles, in
// steady state; over 100k articles also with a week of history (each
// article viewed in 8 hours of the last 7 days, as bench/run.sh fills the
// store before its under-ingest phases).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {
namespace {

// range(0): distinct articles the views go to (1: one hot article).
// range(1): 1 to fill each article's week of history first.
void BM_BucketIncrement(benchmark::State& state) {
  FakeClock clock(absl::FromUnixSeconds(1'714'565'250));
  ViewStore store({}, clock);
  std::vector<std::string> ids;
  for (int i = 0; i < state.range(0); ++i) ids.push_back(absl::StrCat("article-", i));
  uint64_t visitor = 0x9e3779b97f4a7c15ULL;
  if (state.range(1) != 0) {
    for (int h = 7 * 24 - 1; h > 0; h -= 21) {
      for (const std::string& id : ids) {
        store.Add(id, clock.Now() - absl::Hours(h), ++visitor, true, nullptr);
      }
      store.TakePending();
    }
  }
  // Steady state: every article already has a view, and the pending deltas
  // are taken as the flusher would (every 64k views, about once a second at
  // ingest rates), so neither first-view setup nor an ever-growing pending
  // batch is what gets measured.
  for (const std::string& id : ids) store.Add(id, clock.Now(), ++visitor, true, nullptr);
  store.TakePending();
  constexpr size_t kBatch = 500;
  std::vector<ViewToCount> batch(kBatch);
  bool counted[kBatch];
  size_t i = 0;
  uint64_t n = 0;
  for (auto _ : state) {
    for (ViewToCount& v : batch) {
      visitor = visitor * 6364136223846793005ULL + 1442695040888963407ULL;
      v = {ids[i], clock.Now(), visitor, true, nullptr, {visitor, 0}};
      i = (i + 7919) % ids.size();
    }
    benchmark::DoNotOptimize(store.AddBatch(batch, counted));
    if (++n % 128 == 0) benchmark::DoNotOptimize(store.TakePending());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_BucketIncrement)
    ->ArgNames({"articles", "history"})
    ->Args({1, 0})
    ->Args({100000, 0})
    ->Args({100000, 1});

}  // namespace
}  // namespace newsgrid::trending
