// Per-RPC metrics: every call observes a counter and a latency histogram.
#include "benchmark/benchmark.h"
#include "runtime/metrics.h"

namespace newsgrid {
namespace {

void BM_ObserveRpc(benchmark::State& state) {
  Metrics metrics;
  for (auto _ : state) {
    metrics.ObserveRpc("/news.article.v1.ArticleService/GetArticle", "OK", 0.0007);
  }
}
BENCHMARK(BM_ObserveRpc)->Threads(1)->Threads(2);

void BM_GrpcCodeName(benchmark::State& state) {
  int code = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(GrpcCodeName(code));
    code = (code + 1) % 17;
  }
}
BENCHMARK(BM_GrpcCodeName);

}  // namespace
}  // namespace newsgrid
