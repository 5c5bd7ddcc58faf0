// JSON access-log formatting: one line per RPC on both services.
#include "benchmark/benchmark.h"
#include "runtime/logging.h"

namespace newsgrid {
namespace {

void BM_FormatAccessLogLine(benchmark::State& state) {
  const absl::Time t = absl::FromUnixMicros(1700000000123456);
  for (auto _ : state) {
    std::string line = FormatLogLine(t, LogLevel::kInfo, "rpc",
                                     {{"method", "/news.article.v1.ArticleService/GetArticle"},
                                      {"code", "OK"},
                                      {"duration_ms", 0.734},
                                      {"peer", "ipv4:127.0.0.1:53412"},
                                      {"request_bytes", 48}});
    benchmark::DoNotOptimize(line);
  }
}
BENCHMARK(BM_FormatAccessLogLine);

void BM_AppendJsonString(benchmark::State& state) {
  const std::string text(static_cast<size_t>(state.range(0)), 'a');
  for (auto _ : state) {
    std::string out;
    AppendJsonString(out, text);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AppendJsonString)->Arg(32)->Arg(1024);

}  // namespace
}  // namespace newsgrid
