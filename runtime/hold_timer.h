// How long critical sections are held, by kind: each kind ("section") is a
// child of the Prometheus histogram `newsgrid_lock_hold_seconds{section=...}`
// on the process registry, and a hold longer than the kind's threshold
// writes a debug log line ("long lock hold", at most one per second and
// kind, with how many were suppressed). Holds are timed with the vDSO clock
// (about 20 ns a reading), so time whole batches, never single events.
//
// A section is whatever a caller must not wait behind: a shard lock held
// for a batch, the flush's take of pending deltas, a maintenance step, a
// ranking scan slice, and also long operations that hold no lock but keep
// a thread busy (a whole ranking recomputation, a flush transaction).
//
//   HoldStats& take = HoldStats::Get("store_flush_take");
//   {
//     absl::MutexLock lock(&shard.mu);
//     ScopedHold hold(take);
//     ...
//   }
//   SetLongHoldThreshold(absl::Milliseconds(5));  // from a flag, at start
//
// The other side of a hold is the wait behind it. HoldStats::GetWait(lock)
// is a child of `newsgrid_lock_wait_seconds{lock=...}`: record there how long
// a caller was blocked before getting a lock (e.g. a RecordViews batch
// behind the shards' locks), once per batch, so that a convoy (a batch
// dragged behind another thread from shard to shard) shows up as a wait far
// longer than any single hold. Long waits log "long lock wait".
#ifndef NEWSGRID_RUNTIME_HOLD_TIMER_H_
#define NEWSGRID_RUNTIME_HOLD_TIMER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/histogram.h"
#include "runtime/logging.h"

namespace newsgrid {

// Holds longer than this are logged at debug level (default 10 ms).
void SetLongHoldThreshold(absl::Duration threshold);
absl::Duration LongHoldThreshold();

class HoldStats {
 public:
  // The statistics of `section` in the global registry (created once; the
  // same object for every call with the same name).
  static HoldStats& Get(absl::string_view section);
  // The wait statistics of `lock` (newsgrid_lock_wait_seconds{lock=...}).
  static HoldStats& GetWait(absl::string_view lock);

  void Record(int64_t held_ns);
  // How many holds (or waits) were recorded so far.
  uint64_t Count() const;
  const std::string& section() const { return section_; }

  HoldStats(const HoldStats&) = delete;
  HoldStats& operator=(const HoldStats&) = delete;

 private:
  struct Family;
  HoldStats(std::string section, prometheus::Histogram& histogram, const Family& family);
  const std::string section_;
  const Family& family_;  // holds or waits: the label and log line
  prometheus::Histogram& histogram_;
  RateLimitedLog long_holds_{absl::Seconds(1)};
};

// Times its own scope into a HoldStats.
class ScopedHold {
 public:
  explicit ScopedHold(HoldStats& stats) : stats_(stats), start_ns_(absl::GetCurrentTimeNanos()) {}
  ~ScopedHold() { stats_.Record(absl::GetCurrentTimeNanos() - start_ns_); }
  ScopedHold(const ScopedHold&) = delete;
  ScopedHold& operator=(const ScopedHold&) = delete;

 private:
  HoldStats& stats_;
  const int64_t start_ns_;
};

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_HOLD_TIMER_H_
