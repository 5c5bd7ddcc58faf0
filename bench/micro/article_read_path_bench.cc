// The article service's share of a cached reader read: the cache lookup
// (a shard's reader lock, a hash lookup, a flag), the answer built around
// the shared serialized article, and a list page's answer around 20 of
// them. What gRPC and the kernel add to a call is the echo baseline's.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "article-service/article_cache.h"
#include "article-service/response_wire.h"
#include "benchmark/benchmark.h"

namespace newsgrid::article {
namespace {

// An article of about the benchmark's size (9 KB serialized).
ArticleRef Sample(int64_t id) {
  news::article::v1::Article a;
  a.set_name(absl::StrCat("articles/", id));
  a.set_title("Ministers agree a budget after a long night of talks");
  a.set_body(std::string(4500, 'b'));
  a.set_plain_text(std::string(4400, 'p'));
  a.set_section("politics");
  a.add_tags("budget");
  a.add_tags("parliament");
  return ArticleVersion::Make(a);
}

// A hit on one of 10,000 cached articles, from one or two threads.
void BM_ArticleCacheHit(benchmark::State& state) {
  static FakeClock clock(absl::FromUnixSeconds(1700000000));
  static ArticleCache* cache = nullptr;
  if (state.thread_index() == 0) {
    cache = new ArticleCache({.capacity_bytes = size_t{512} << 20}, clock);
    cache->SetNotified(true);
    for (int64_t id = 0; id < 10000; ++id) cache->Insert(Sample(id), cache->BeginRead(id));
  }
  int64_t id = state.thread_index() * 7;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache->Get(id));
    id = (id + 13) % 10000;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete cache;
    cache = nullptr;
  }
}
BENCHMARK(BM_ArticleCacheHit)->Threads(1)->Threads(2);

// GetArticle's answer: the cached bytes as a byte buffer (no copy).
void BM_ArticleResponse(benchmark::State& state) {
  const ArticleRef a = Sample(1);
  for (auto _ : state) benchmark::DoNotOptimize(ArticleResponse(a));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ArticleResponse);

// ListArticles' answer around 20 cached articles.
void BM_ListResponse(benchmark::State& state) {
  ArticlePage page;
  for (int i = 0; i < 20; ++i) page.articles.push_back(Sample(i));
  page.next_page_token = std::string(60, 't');
  for (auto _ : state) benchmark::DoNotOptimize(ListResponse(page));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ListResponse);

}  // namespace
}  // namespace newsgrid::article
