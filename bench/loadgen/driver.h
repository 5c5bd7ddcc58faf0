// Drives a workload: starts operations in an open loop (at a target rate, on
// a fixed schedule) or a closed loop (a fixed number always in flight), for a
// duration or a count, and records latency per method, throughput and errors
// by status code.
//
// Open loop and coordinated omission: operation i is due at
// start + i / rate. Its latency is measured from that intended time, not
// from when it was actually sent, so when the target (or the generator)
// stalls, the calls that should have been sent meanwhile are charged the
// wait instead of silently disappearing. When sending lags the schedule
// (in-flight cap reached, or the generator is CPU-starved), the result says
// so (`kept_up` false, send lag percentiles) rather than reporting a lower
// rate as if it were the target's.
//
// Warm-up: operations due (open) or started (closed) before start + warmup
// run but are not recorded.
//
//   LoadDriver driver(spec, workload.get());
//   driver.Start();
//   while (!driver.Finished()) { Sleep(1s); driver.Tick(); }  // progress
//   LoadResult r = driver.Finish();
#ifndef NEWSGRID_BENCH_LOADGEN_DRIVER_H_
#define NEWSGRID_BENCH_LOADGEN_DRIVER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/loadgen/histogram.h"
#include "bench/loadgen/workload.h"

namespace newsgrid::bench {

// One load of a run: which workload, how operations are started, how long.
struct LoadSpec {
  std::string workload;
  double rate = 0;          // > 0: open loop at this many operations per second
  int concurrency = 0;      // > 0: closed loop with this many in flight
  int max_in_flight = 4096; // open loop: cap; beyond it sending lags
  absl::Duration duration = absl::Seconds(10);
  int64_t count = 0;        // > 0: stop after this many recorded operations
  absl::Duration warmup = absl::Seconds(2);
  int channels = 4;
  absl::Duration deadline = absl::Seconds(5);
};

// "name:rate=500", "name:concurrency=32:max_in_flight=100", "name" (closed
// loop with `default_concurrency`).
absl::StatusOr<LoadSpec> ParseLoadSpec(const std::string& text, const LoadSpec& defaults);

// Statistics of one method.
struct MethodResult {
  std::string method;
  Histogram latency;                  // ns, OK and failed calls alike
  int64_t ok = 0;
  int64_t items = 0;                  // items carried by OK calls
  std::array<int64_t, 17> codes{};    // calls by gRPC status code
  std::string last_error;             // message of the last failure
  int64_t calls() const;
  int64_t errors() const { return calls() - ok; }
};

// One second (by default) of a run, for the timeline charts.
struct IntervalSample {
  double t = 0;             // seconds since the measured window opened (end of the sample)
  double seconds = 0;       // length of the sample
  int64_t calls = 0;
  int64_t errors = 0;
  int64_t items = 0;
  int64_t p50_ns = 0;
  int64_t p99_ns = 0;
  double calls_per_second() const { return seconds > 0 ? calls / seconds : 0; }
  double items_per_second() const { return seconds > 0 ? items / seconds : 0; }
};

struct LoadResult {
  LoadSpec spec;
  std::string mode;                     // "open" or "closed"
  std::vector<MethodResult> methods;
  Histogram all;                        // every method together
  double measured_seconds = 0;          // measured window length
  // Open loop only: how far sending lagged the schedule.
  Histogram send_lag;                   // ns
  int64_t scheduled = 0;                // operations due in the measured window
  bool kept_up = true;
  std::vector<IntervalSample> timeline;
  std::map<std::string, int64_t> counters;

  double ops_per_second() const;
  double ok_per_second() const;
  double items_per_second() const;
  int64_t errors() const;
};

class LoadDriver {
 public:
  LoadDriver(LoadSpec spec, Workload* workload);
  ~LoadDriver();

  void Start();
  // Snapshot for the progress line: appends a timeline sample covering the
  // time since the previous Tick, returns it.
  IntervalSample Tick();
  // Totals so far (measured operations only).
  int64_t calls_so_far();
  int64_t errors_so_far();
  int64_t p99_so_far_ns();
  int64_t in_flight() const { return in_flight_.load(); }
  bool Finished() const { return finished_.load(); }
  // Waits for the end and every in-flight call; returns the statistics.
  LoadResult Finish();

 private:
  int64_t NowNs() const;
  void RunOpenLoop();
  void IssueClosed();
  void Issue(int64_t intended_ns, bool closed);
  void Complete(int64_t intended_ns, int method, const grpc::Status& status, int64_t items);
  bool StopIssuing(int64_t now_ns);
  void OperationDone();

  const LoadSpec spec_;
  Workload* const workload_;
  const std::vector<std::string> method_names_;
  int64_t start_ns_ = 0;
  int64_t measure_from_ns_ = 0;
  int64_t end_ns_ = 0;
  std::atomic<int64_t> next_channel_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> issued_measured_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::thread pacer_;

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<MethodResult> methods_ ABSL_GUARDED_BY(mu_);
  Histogram all_ ABSL_GUARDED_BY(mu_);
  Histogram interval_ ABSL_GUARDED_BY(mu_);
  int64_t interval_errors_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t interval_items_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_tick_ns_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_done_ns_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<IntervalSample> timeline_ ABSL_GUARDED_BY(mu_);
  Histogram send_lag_ ABSL_GUARDED_BY(mu_);
  int64_t scheduled_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t active_loops_ ABSL_GUARDED_BY(mu_) = 0;  // closed-loop chains still running
};

}  // namespace newsgrid::bench

#endif  // NEWSGRID_BENCH_LOADGEN_DRIVER_H_
