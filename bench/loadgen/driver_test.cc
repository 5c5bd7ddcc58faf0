#include "bench/loadgen/driver.h"

#include <deque>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace newsgrid::bench {
namespace {

// A target served by one thread, first come first served, taking
// `service_time` per operation; it can be told to freeze once.
class FakeTarget : public Workload {
 public:
  explicit FakeTarget(absl::Duration service_time) : service_time_(service_time) {
    server_ = std::thread([this] { Serve(); });
  }
  ~FakeTarget() override {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    server_.join();
  }
  std::vector<std::string> Methods() const override { return {"Fake/Call"}; }
  void Issue(const CallSlot&, DoneFn done) override {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(done));
    ++issued_;
  }
  void FreezeAt(absl::Time at, absl::Duration how_long) {
    absl::MutexLock lock(&mu_);
    freeze_at_ = at;
    freeze_for_ = how_long;
  }
  void FailEvery(int n) { fail_every_ = n; }
  int64_t issued() {
    absl::MutexLock lock(&mu_);
    return issued_;
  }

 private:
  void Serve() {
    int64_t served = 0;
    for (;;) {
      DoneFn done;
      absl::Duration freeze;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this] { return stop_ || !queue_.empty(); };
        mu_.Await(absl::Condition(&ready));
        if (stop_ && queue_.empty()) return;
        done = std::move(queue_.front());
        queue_.pop_front();
        if (absl::Now() >= freeze_at_) {
          freeze = freeze_for_;
          freeze_at_ = absl::InfiniteFuture();
        }
      }
      absl::SleepFor(service_time_ + freeze);
      ++served;
      const bool fail = fail_every_ > 0 && served % fail_every_ == 0;
      done(0, fail ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "down") : grpc::Status::OK, 3);
    }
  }

  const absl::Duration service_time_;
  int fail_every_ = 0;
  absl::Mutex mu_;
  std::deque<DoneFn> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int64_t issued_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time freeze_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Duration freeze_for_ ABSL_GUARDED_BY(mu_);
  std::thread server_;
};

LoadResult RunToEnd(LoadDriver& driver) {
  driver.Start();
  while (!driver.Finished()) absl::SleepFor(absl::Milliseconds(20));
  return driver.Finish();
}

TEST(DriverTest, ClosedLoopByCountRecordsExactlyTheCount) {
  FakeTarget target(absl::Microseconds(200));
  LoadSpec spec;
  spec.concurrency = 4;
  spec.count = 300;
  spec.warmup = absl::ZeroDuration();
  LoadDriver driver(spec, &target);
  const LoadResult r = RunToEnd(driver);
  EXPECT_EQ(r.all.count(), 300);
  EXPECT_EQ(r.methods[0].ok, 300);
  EXPECT_EQ(r.methods[0].items, 900);  // items come from the workload
  EXPECT_EQ(r.errors(), 0);
  EXPECT_EQ(target.issued(), 300);
  // Four in flight on a one-at-a-time server: each waits for ~3 others.
  EXPECT_GE(r.all.Percentile(50), 500'000);
  EXPECT_GT(r.ops_per_second(), 0);
  EXPECT_EQ(r.mode, "closed");
}

TEST(DriverTest, WarmupRunsButIsNotRecorded) {
  FakeTarget target(absl::Milliseconds(1));
  LoadSpec spec;
  spec.concurrency = 1;
  spec.warmup = absl::Milliseconds(300);
  spec.duration = absl::Milliseconds(300);
  LoadDriver driver(spec, &target);
  const LoadResult r = RunToEnd(driver);
  // About 1 ms each: up to ~300 issued in warm-up and ~300 measured (fewer
  // on a busy machine).
  EXPECT_GT(target.issued(), r.all.count() + 20);
  EXPECT_GT(r.all.count(), 20);
  EXPECT_GE(r.measured_seconds, 0.29);
  EXPECT_LT(r.measured_seconds, 0.8);
}

TEST(DriverTest, ErrorsAreCountedByStatusCode) {
  FakeTarget target(absl::Microseconds(100));
  target.FailEvery(4);
  LoadSpec spec;
  spec.concurrency = 2;
  spec.count = 400;
  spec.warmup = absl::ZeroDuration();
  LoadDriver driver(spec, &target);
  const LoadResult r = RunToEnd(driver);
  EXPECT_EQ(r.methods[0].codes[grpc::StatusCode::UNAVAILABLE], 100);
  EXPECT_EQ(r.methods[0].codes[grpc::StatusCode::OK], 300);
  EXPECT_EQ(r.errors(), 100);
  EXPECT_EQ(r.methods[0].last_error, "down");
  EXPECT_EQ(r.methods[0].items, 900);  // failed calls carry no items
}

TEST(DriverTest, OpenLoopKeepsItsRateWhenTheTargetKeepsUp) {
  FakeTarget target(absl::Microseconds(100));
  LoadSpec spec;
  spec.rate = 500;
  spec.warmup = absl::Milliseconds(100);
  spec.duration = absl::Seconds(1);
  LoadDriver driver(spec, &target);
  const LoadResult r = RunToEnd(driver);
  // Exactly the calls due in the measured second, however late they ran.
  EXPECT_NEAR(static_cast<double>(r.all.count()), 500, 2);
  EXPECT_NEAR(r.ops_per_second(), 500, 100);
  EXPECT_EQ(r.mode, "open");
  EXPECT_LT(r.all.Percentile(50), 20'000'000);
}

// The point of measuring from the intended send time: a 500 ms freeze of a
// target that allows one call at a time. A generator timing from the actual
// send would record one slow call and a fast p90; here every call that was
// due during the freeze is charged its wait, and the run says it fell behind.
TEST(DriverTest, OpenLoopChargesStallsToEveryCallDueDuringThem) {
  FakeTarget target(absl::Microseconds(100));
  LoadSpec spec;
  spec.rate = 200;
  spec.max_in_flight = 1;
  spec.warmup = absl::ZeroDuration();
  spec.duration = absl::Seconds(2);
  LoadDriver driver(spec, &target);
  target.FreezeAt(absl::Now() + absl::Milliseconds(500), absl::Milliseconds(500));
  const LoadResult r = RunToEnd(driver);
  // ~100 of ~400 calls were due during the freeze, waiting 0..500 ms.
  EXPECT_NEAR(static_cast<double>(r.all.count()), 400, 2);
  EXPECT_GT(r.all.Percentile(90), 150'000'000);
  EXPECT_GE(r.all.max(), 400'000'000);
  EXPECT_FALSE(r.kept_up);
  EXPECT_GE(r.send_lag.max(), 400'000'000);
}

TEST(DriverTest, TimelineHasOneSamplePerTick) {
  FakeTarget target(absl::Microseconds(100));
  LoadSpec spec;
  spec.rate = 1000;
  spec.warmup = absl::ZeroDuration();
  spec.duration = absl::Milliseconds(600);
  LoadDriver driver(spec, &target);
  driver.Start();
  for (int i = 0; i < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    driver.Tick();
  }
  const LoadResult r = driver.Finish();
  ASSERT_GE(r.timeline.size(), 3u);
  int64_t calls = 0;
  for (const IntervalSample& s : r.timeline) calls += s.calls;
  EXPECT_EQ(calls, r.all.count());
  EXPECT_GT(r.timeline[1].calls, 20);
  EXPECT_NEAR(r.timeline[1].seconds, 0.2, 0.15);
  EXPECT_GT(r.timeline[1].calls_per_second(), 100);
}

TEST(LoadSpecTest, ParsesOpenAndClosedLoops) {
  LoadSpec defaults;
  defaults.concurrency = 16;
  auto closed = ParseLoadSpec("article_read", defaults);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->workload, "article_read");
  EXPECT_EQ(closed->concurrency, 16);
  EXPECT_EQ(closed->rate, 0);
  auto open = ParseLoadSpec("trending_poll:rate=250.5:duration=3s:warmup=0s:channels=2", defaults);
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->rate, 250.5);
  EXPECT_EQ(open->concurrency, 0);
  EXPECT_EQ(open->duration, absl::Seconds(3));
  EXPECT_EQ(open->warmup, absl::ZeroDuration());
  EXPECT_EQ(open->channels, 2);
  auto c = ParseLoadSpec("echo:c=8:count=100", defaults);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->concurrency, 8);
  EXPECT_EQ(c->count, 100);
}

TEST(LoadSpecTest, RejectsBadSpecs) {
  LoadSpec defaults;
  defaults.concurrency = 4;
  EXPECT_FALSE(ParseLoadSpec("", defaults).ok());
  EXPECT_FALSE(ParseLoadSpec("echo:rate=10:concurrency=2", defaults).ok());
  EXPECT_FALSE(ParseLoadSpec("echo:rate=-1", defaults).ok());
  EXPECT_FALSE(ParseLoadSpec("echo:speed=3", defaults).ok());
  EXPECT_FALSE(ParseLoadSpec("echo:duration=soon", defaults).ok());
}

}  // namespace
}  // namespace newsgrid::bench
