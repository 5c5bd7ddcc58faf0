// Ingest's innermost step: ViewStore::Add (bucket increment with the
// cumulative totals, HOT mass, minute and hour sketches, pending delta), on
// one hot article and spread over 100k articles.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {
namespace {

// range(0): distinct articles the views go to (1: one hot article).
void BM_BucketIncrement(benchmark::State& state) {
  FakeClock clock(absl::FromUnixSeconds(1'714'565'250));
  ViewStore store({}, clock);
  std::vector<std::string> ids;
  for (int i = 0; i < state.range(0); ++i) ids.push_back(absl::StrCat("article-", i));
  uint64_t visitor = 0x9e3779b97f4a7c15ULL;
  size_t i = 0;
  for (auto _ : state) {
    visitor = visitor * 6364136223846793005ULL + 1442695040888963407ULL;
    benchmark::DoNotOptimize(store.Add(ids[i], clock.Now(), visitor, true, nullptr));
    i = (i + 7919) % ids.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BucketIncrement)->ArgName("articles")->Arg(1)->Arg(100000);

}  // namespace
}  // namespace newsgrid::trending
