// AIP-160 filter and search-query compilation, on every ListArticles and
// SearchArticles call (the SQL is built per call, values bound as params).
#include <string>

#include "article-service/filter.h"
#include "benchmark/benchmark.h"

namespace newsgrid::article {
namespace {

void BM_FilterParse(benchmark::State& state) {
  const std::string filter = state.range(0) == 0
                                 ? R"(section = "world")"
                                 : R"(section = "world" AND tags:"elections" AND )"
                                   R"((authors:"Ada Lovelace" OR authors:"Grace Hopper") AND )"
                                   R"(publish_time >= "2026-01-01T00:00:00Z" AND NOT state = DRAFT)";
  SqlParams check;
  if (!CompileFilter(filter, check, "$1").ok()) state.SkipWithError("filter does not compile");
  for (auto _ : state) {
    SqlParams params;
    benchmark::DoNotOptimize(CompileFilter(filter, params, "$1"));
  }
}
BENCHMARK(BM_FilterParse)->ArgName("complex")->Arg(0)->Arg(1);

void BM_SearchQueryParse(benchmark::State& state) {
  const std::string query = R"(climate summit "carbon tax" OR levy -opinion renew*)";
  if (!CompileSearchQuery(query).ok()) state.SkipWithError("query does not compile");
  for (auto _ : state) benchmark::DoNotOptimize(CompileSearchQuery(query));
}
BENCHMARK(BM_SearchQueryParse);

}  // namespace
}  // namespace newsgrid::article
