#include "runtime/hold_timer.h"

#include "gtest/gtest.h"
#include "runtime/metrics.h"

namespace newsgrid {
namespace {

TEST(HoldTimerTest, HoldsAreExportedBySection) {
  HoldStats& a = HoldStats::Get("test_section_a");
  EXPECT_EQ(&a, &HoldStats::Get("test_section_a"));
  a.Record(3'000);        // 3 µs
  a.Record(40'000'000);   // 40 ms
  { ScopedHold hold(HoldStats::Get("test_section_b")); }
  EXPECT_EQ(a.Count(), 2u);
  EXPECT_EQ(HoldStats::Get("test_section_b").Count(), 1u);
  const std::string text = Metrics::Global().Render();
  EXPECT_NE(text.find("# TYPE newsgrid_lock_hold_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("newsgrid_lock_hold_seconds_count{section=\"test_section_a\"} 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find("newsgrid_lock_hold_seconds_bucket{section=\"test_section_a\",le=\"5e-06\"} 1"),
            std::string::npos) << text;
  EXPECT_NE(text.find("newsgrid_lock_hold_seconds_bucket{section=\"test_section_a\",le=\"0.05\"} 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find("newsgrid_lock_hold_seconds_count{section=\"test_section_b\"} 1"),
            std::string::npos);
}

TEST(HoldTimerTest, LongHoldsAreLoggedAtDebugLevel) {
  SetLongHoldThreshold(absl::Milliseconds(5));
  HoldStats& s = HoldStats::Get("test_section_log");
  SetMinLogLevel(LogLevel::kInfo);
  testing::internal::CaptureStderr();
  s.Record(20'000'000);  // over the threshold, but debug is off
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  SetMinLogLevel(LogLevel::kDebug);
  testing::internal::CaptureStderr();
  s.Record(1'000'000);   // under the threshold
  s.Record(20'000'000);  // over: one line
  const std::string out = testing::internal::GetCapturedStderr();
  SetMinLogLevel(LogLevel::kInfo);
  SetLongHoldThreshold(absl::Milliseconds(10));
  EXPECT_NE(out.find("\"msg\":\"long lock hold\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"section\":\"test_section_log\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"held_ms\":20"), std::string::npos) << out;
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;  // exactly one line
}

TEST(HoldTimerTest, WaitsAreExportedByLockAndLoggedWhenLong) {
  HoldStats& w = HoldStats::GetWait("test_lock");
  EXPECT_EQ(&w, &HoldStats::GetWait("test_lock"));
  EXPECT_NE(&w, &HoldStats::Get("test_lock"));  // a hold of that name is another series
  w.Record(0);
  w.Record(30'000'000);  // 30 ms
  const std::string text = Metrics::Global().Render();
  EXPECT_NE(text.find("# TYPE newsgrid_lock_wait_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("newsgrid_lock_wait_seconds_count{lock=\"test_lock\"} 2"), std::string::npos)
      << text;
  EXPECT_NE(text.find("newsgrid_lock_wait_seconds_bucket{lock=\"test_lock\",le=\"1e-06\"} 1"),
            std::string::npos) << text;
  SetMinLogLevel(LogLevel::kDebug);
  testing::internal::CaptureStderr();
  HoldStats::GetWait("test_lock_log").Record(20'000'000);
  const std::string out = testing::internal::GetCapturedStderr();
  SetMinLogLevel(LogLevel::kInfo);
  EXPECT_NE(out.find("\"msg\":\"long lock wait\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"lock\":\"test_lock_log\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"waited_ms\":20"), std::string::npos) << out;
}

}  // namespace
}  // namespace newsgrid
