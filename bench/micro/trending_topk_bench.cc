// Top-K selection: a 24 h top 10 over N articles computed by the store
// (every article scanned, for the window and the previous one), and the
// same ranking served by the RankingCache (what GetTrending does).
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "trending-service/ranking_cache.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {
namespace {

constexpr absl::Time kNow = absl::FromUnixSeconds(1'714'565'250);

// N articles, each with views spread over the last 24 hours.
void Fill(ViewStore& store, int articles) {
  for (int i = 0; i < articles; ++i) {
    const std::string id = absl::StrCat("article-", i);
    for (int k = 0; k < 4; ++k) {
      store.Add(id, kNow - absl::Minutes((i * 37 + k * 353) % 1440), uint64_t(i) * 977 + k, true,
                nullptr);
    }
  }
}

// A 24 h top 10 of range(0) articles filled by `fill`, metric range(1).
void RankTopTen(benchmark::State& state, void (*fill)(ViewStore&, int)) {
  FakeClock clock(kNow);
  ViewStore store({}, clock);
  fill(store, static_cast<int>(state.range(0)));
  const TrendingQuery q{.window = absl::Hours(24),
                        .metric = static_cast<RankMetric>(state.range(1)),
                        .limit = 10};
  for (auto _ : state) benchmark::DoNotOptimize(store.Trending(q));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_TopK(benchmark::State& state) { RankTopTen(state, Fill); }
BENCHMARK(BM_TopK)
    ->ArgNames({"articles", "metric"})
    ->Args({10000, 0})
    ->Args({100000, 0})
    ->Args({100000, 1})
    ->Args({100000, 2})
    ->Unit(benchmark::kMillisecond);

// The store as bench/run.sh fills it, then ingests: every article with 8
// views over the week, and skewed traffic in the last hour (article i gets
// 20000 / (i + 1) more: a few thousand for the head, none past 20,000).
void FillSkewed(ViewStore& store, int articles) {
  for (int i = 0; i < articles; ++i) {
    const std::string id = absl::StrCat("article-", i);
    for (int k = 0; k < 8; ++k) {
      store.Add(id, kNow - absl::Minutes((i * 37 + k * 1259) % 10080), uint64_t(i) * 977 + k,
                true, nullptr);
    }
    for (int k = 0; k < 20000 / (i + 1); ++k) {
      store.Add(id, kNow - absl::Minutes(k % 60), uint64_t(i) * 977 + 8 + k, true, nullptr);
    }
  }
}

// A 24 h top 10 of that store: the shape the service ranks under ingest
// (a head far above the rest), where BM_TopK has every article tied.
void BM_TopKSkewed(benchmark::State& state) { RankTopTen(state, FillSkewed); }
BENCHMARK(BM_TopKSkewed)
    ->ArgNames({"articles", "metric"})
    ->Args({100000, 0})
    ->Args({100000, 2})
    ->Unit(benchmark::kMillisecond);

void BM_TopKCached(benchmark::State& state) {
  FakeClock clock(kNow);
  ViewStore store({}, clock);
  Fill(store, 100000);
  RankingCache cache({.min_compute_time = absl::ZeroDuration()}, clock,
                     [&store](const TrendingQuery& q) { return store.Trending(q); });
  const TrendingQuery q{.window = absl::Hours(24), .limit = 10};
  for (auto _ : state) benchmark::DoNotOptimize(cache.Get(q));
}
BENCHMARK(BM_TopKCached)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace newsgrid::trending
