#include "runtime/hold_timer.h"

#include <memory>

#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "runtime/metrics.h"

namespace newsgrid {
namespace {

std::atomic<int64_t> g_threshold_ns{10'000'000};

// From 1 µs (an uncontended batch) to seconds (a stall).
const prometheus::Histogram::BucketBoundaries& Buckets() {
  static const auto* kBuckets = new prometheus::Histogram::BucketBoundaries{
      1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1,
      0.25, 0.5, 1, 2.5};
  return *kBuckets;
}

}  // namespace

void SetLongHoldThreshold(absl::Duration threshold) {
  g_threshold_ns.store(absl::ToInt64Nanoseconds(threshold));
}

absl::Duration LongHoldThreshold() { return absl::Nanoseconds(g_threshold_ns.load()); }

// One histogram family (holds or waits) and its children by name.
struct HoldStats::Family {
  absl::Mutex mu;
  absl::node_hash_map<std::string, std::unique_ptr<HoldStats>> all ABSL_GUARDED_BY(mu);
  prometheus::Family<prometheus::Histogram>* histograms = nullptr;
  std::string label;       // "section" or "lock"
  std::string long_log;    // the debug line of a long one
  std::string value_key;   // its duration's field in that line

  HoldStats& Child(absl::string_view name) {
    absl::MutexLock lock(&mu);
    auto it = all.find(name);
    if (it == all.end()) {
      std::string key(name);
      prometheus::Histogram& h = histograms->Add({{label, key}}, Buckets());
      it = all.emplace(key, std::unique_ptr<HoldStats>(new HoldStats(key, h, *this))).first;
    }
    return *it->second;
  }
};

HoldStats& HoldStats::Get(absl::string_view section) {
  // Never destroyed: holds may be recorded by threads still running at exit.
  static auto* holds = new Family{
      .histograms = &prometheus::BuildHistogram()
                         .Name("newsgrid_lock_hold_seconds")
                         .Help("How long critical sections (locks held for a batch, a flush take, "
                               "a maintenance step, a ranking scan slice, a whole recomputation "
                               "or flush) were held, by section.")
                         .Register(Metrics::Global().registry()),
      .label = "section",
      .long_log = "long lock hold",
      .value_key = "held_ms"};
  return holds->Child(section);
}

HoldStats& HoldStats::GetWait(absl::string_view lock) {
  static auto* waits = new Family{
      .histograms = &prometheus::BuildHistogram()
                         .Name("newsgrid_lock_wait_seconds")
                         .Help("How long callers were blocked waiting for a lock, by lock (one "
                               "observation per batch: the sum of its waits).")
                         .Register(Metrics::Global().registry()),
      .label = "lock",
      .long_log = "long lock wait",
      .value_key = "waited_ms"};
  return waits->Child(lock);
}

HoldStats::HoldStats(std::string section, prometheus::Histogram& histogram, const Family& family)
    : section_(std::move(section)), family_(family), histogram_(histogram) {}

void HoldStats::Record(int64_t held_ns) {
  histogram_.Observe(static_cast<double>(held_ns) * 1e-9);
  if (held_ns > g_threshold_ns.load(std::memory_order_relaxed) && LogEnabled(LogLevel::kDebug)) {
    long_holds_.Log(LogLevel::kDebug, family_.long_log,
                    {{family_.label, section_},
                     {family_.value_key, static_cast<double>(held_ns) * 1e-6},
                     {"threshold_ms", static_cast<double>(g_threshold_ns.load()) * 1e-6}});
  }
}

uint64_t HoldStats::Count() const { return histogram_.Collect().histogram.sample_count; }

}  // namespace newsgrid
