// The one status mapper: every failed RPC goes through ToGrpcStatus, bad
// input with a google.rpc.BadRequest payload.
#include "benchmark/benchmark.h"
#include "runtime/status.h"

namespace newsgrid {
namespace {

void BM_ToGrpcStatusNotFound(benchmark::State& state) {
  const absl::Status s = absl::NotFoundError("article not found");
  for (auto _ : state) benchmark::DoNotOptimize(ToGrpcStatus(s));
}
BENCHMARK(BM_ToGrpcStatusNotFound);

void BM_FieldViolationsToGrpcStatus(benchmark::State& state) {
  for (auto _ : state) {
    FieldViolations v;
    v.Add("article.title", "is required");
    v.Add("article.tags[3]", "is longer than 64 characters");
    benchmark::DoNotOptimize(ToGrpcStatus(v.ToStatus()));
  }
}
BENCHMARK(BM_FieldViolationsToGrpcStatus);

}  // namespace
}  // namespace newsgrid
