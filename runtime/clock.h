// The time source of both services, injectable so tests can move time
// (scheduled publishing, cache expiry, bucket boundaries) without sleeping.
//
//   const Clock& clock = SystemClock::Get();          // production
//   FakeClock fake(absl::FromUnixSeconds(1'700'000'000));
//   ViewStore store(options, fake);
//   fake.Advance(absl::Minutes(1));
//
// Now() is truncated to whole microseconds, the resolution PostgreSQL's
// timestamptz stores: a time written and read back compares equal (the
// article service relies on it for etags and scheduled publishing). The
// trending service counts in minute buckets and times its work in
// milliseconds, so a microsecond clock loses it nothing; one rule serves
// both, and a test clock holds the same values a system clock returns.
#ifndef NEWSGRID_RUNTIME_CLOCK_H_
#define NEWSGRID_RUNTIME_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace newsgrid {

class Clock {
 public:
  virtual ~Clock() = default;
  absl::Time Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(RawNow())); }

 protected:
  virtual absl::Time RawNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  // One instance serves a whole process (it has no state).
  static SystemClock& Get() {
    static SystemClock* clock = new SystemClock;
    return *clock;
  }

 protected:
  absl::Time RawNow() const override { return absl::Now(); }
};

// A settable clock for tests, safe to read from any thread.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : micros_(absl::ToUnixMicros(start)) {}
  void Set(absl::Time t) { micros_.store(absl::ToUnixMicros(t)); }
  void Advance(absl::Duration d) { micros_.fetch_add(absl::ToInt64Microseconds(d)); }

 protected:
  absl::Time RawNow() const override { return absl::FromUnixMicros(micros_.load()); }

 private:
  std::atomic<int64_t> micros_;
};

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_CLOCK_H_
