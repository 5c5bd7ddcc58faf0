// AIP-160 filter parsing with the store's SQL translation, and search-query
// compilation, on every ListArticles and SearchArticles call (the SQL is
// built per call, values bound as params).
#include <string>

#include "article-service/filter.h"
#include "article-service/filter_sql.h"
#include "article-service/search_query.h"
#include "benchmark/benchmark.h"

namespace newsgrid::article {
namespace {

// The filter parsed to its tree and the tree translated to SQL: the work a
// list call does before its query.
void BM_FilterParse(benchmark::State& state) {
  const std::string filter = state.range(0) == 0
                                 ? R"(section = "world")"
                                 : R"(section = "world" AND tags:"elections" AND )"
                                   R"((authors:"Ada Lovelace" OR authors:"Grace Hopper") AND )"
                                   R"(publish_time >= "2026-01-01T00:00:00Z" AND NOT state = DRAFT)";
  if (!ParseFilter(filter).ok()) state.SkipWithError("filter does not parse");
  for (auto _ : state) {
    absl::StatusOr<FilterExpr> tree = ParseFilter(filter);
    SqlParams params;
    benchmark::DoNotOptimize(FilterToSql(*tree, params, "$1"));
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
