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

HoldStats& HoldStats::Get(absl::string_view section) {
  // Never destroyed: holds may be recorded by threads still running at exit.
  static auto* mu = new absl::Mutex;
  static auto* all = new absl::node_hash_map<std::string, std::unique_ptr<HoldStats>>;
  static prometheus::Family<prometheus::Histogram>& family =
      prometheus::BuildHistogram()
          .Name("newsgrid_lock_hold_seconds")
          .Help("How long critical sections (locks held for a batch, a flush take, a maintenance "
                "step, a ranking scan slice, a whole recomputation or flush) were held, by "
                "section.")
          .Register(Metrics::Global().registry());
  absl::MutexLock lock(mu);
  auto it = all->find(section);
  if (it == all->end()) {
    std::string name(section);
    prometheus::Histogram& h = family.Add({{"section", name}}, Buckets());
    it = all->emplace(name, std::unique_ptr<HoldStats>(new HoldStats(name, h))).first;
  }
  return *it->second;
}

HoldStats::HoldStats(std::string section, prometheus::Histogram& histogram)
    : section_(std::move(section)), histogram_(histogram) {}

void HoldStats::Record(int64_t held_ns) {
  histogram_.Observe(static_cast<double>(held_ns) * 1e-9);
  if (held_ns > g_threshold_ns.load(std::memory_order_relaxed) && LogEnabled(LogLevel::kDebug)) {
    long_holds_.Log(LogLevel::kDebug, "long lock hold",
                    {{"section", section_}, {"held_ms", static_cast<double>(held_ns) * 1e-6},
                     {"threshold_ms", static_cast<double>(g_threshold_ns.load()) * 1e-6}});
  }
}

}  // namespace newsgrid
