// Hand-off of blocking work from gRPC callback threads to the worker pool:
// paid by every database-backed RPC.
#include <atomic>

#include "absl/synchronization/blocking_counter.h"
#include "benchmark/benchmark.h"
#include "runtime/worker_pool.h"

namespace newsgrid {
namespace {

// Submit a batch of empty tasks and wait for all: the round trip of a task.
void BM_WorkerPoolSubmitAndRun(benchmark::State& state) {
  WorkerPool pool(static_cast<int>(state.range(0)), 4096);
  constexpr int kBatch = 256;
  for (auto _ : state) {
    absl::BlockingCounter done(kBatch);
    for (int i = 0; i < kBatch; ++i) {
      while (!pool.TrySubmit([&done] { done.DecrementCount(); })) {
      }
    }
    done.Wait();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  pool.Shutdown();
}
BENCHMARK(BM_WorkerPoolSubmitAndRun)->Arg(1)->Arg(4)->UseRealTime();

}  // namespace
}  // namespace newsgrid
