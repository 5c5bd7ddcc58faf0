// Time source of the article service, injectable so tests can move time
// (scheduled publishing, cache expiry) without sleeping.
//
//   SystemClock clock;            // production
//   FakeClock fake(absl::FromUnixSeconds(1700000000));
//   fake.Advance(absl::Hours(1));
#ifndef NEWSGRID_ARTICLE_SERVICE_CLOCK_H_
#define NEWSGRID_ARTICLE_SERVICE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace newsgrid::article {

class Clock {
 public:
  virtual ~Clock() = default;
  // Truncated to microseconds: the resolution PostgreSQL stores, so a time
  // read back equals the time written.
  absl::Time Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(RawNow())); }

 protected:
  virtual absl::Time RawNow() const = 0;
};

class SystemClock final : public Clock {
 protected:
  absl::Time RawNow() const override { return absl::Now(); }
};

// Thread-safe settable clock for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : micros_(absl::ToUnixMicros(start)) {}
  void Set(absl::Time t) { micros_ = absl::ToUnixMicros(t); }
  void Advance(absl::Duration d) { micros_ += absl::ToInt64Microseconds(d); }

 protected:
  absl::Time RawNow() const override { return absl::FromUnixMicros(micros_.load()); }

 private:
  std::atomic<int64_t> micros_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_CLOCK_H_
