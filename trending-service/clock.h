// The time source of the trending core, injectable so tests can stand on
// bucket boundaries.
//
//   FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
//   ViewStore store(options, clock);
//   clock.Advance(absl::Minutes(1));
#ifndef NEWSGRID_TRENDING_SERVICE_CLOCK_H_
#define NEWSGRID_TRENDING_SERVICE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace newsgrid::trending {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  static SystemClock& Get() {
    static SystemClock* clock = new SystemClock;
    return *clock;
  }
};

// A settable clock, safe to read from any thread.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : ns_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override { return absl::FromUnixNanos(ns_.load()); }
  void Set(absl::Time t) { ns_.store(absl::ToUnixNanos(t)); }
  void Advance(absl::Duration d) { ns_.fetch_add(absl::ToInt64Nanoseconds(d)); }

 private:
  std::atomic<int64_t> ns_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_CLOCK_H_
