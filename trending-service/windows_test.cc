#include "trending-service/windows.h"

#include "gtest/gtest.h"
#include "tests/support/test_time.h"

namespace newsgrid::trending {
namespace {

using ::newsgrid::testing::At;

TEST(WindowsTest, MinuteWindowEndsWithTheCurrentMinute) {
  const WindowSpec w = ResolveWindow(At("2024-05-01T12:07:30Z"), absl::Minutes(5));
  EXPECT_EQ(w.resolution_min, 1);
  EXPECT_EQ(MinuteStart(w.start_min), At("2024-05-01T12:03:00Z"));
  EXPECT_EQ(MinuteStart(w.end_min), At("2024-05-01T12:08:00Z"));
  EXPECT_EQ(w.length_min(), 5);
}

TEST(WindowsTest, ExactlyOnABoundaryTheNewMinuteIsCurrent) {
  const WindowSpec w = ResolveWindow(At("2024-05-01T12:07:00Z"), absl::Minutes(5));
  EXPECT_EQ(MinuteStart(w.start_min), At("2024-05-01T12:03:00Z"));
  // One nanosecond earlier, the window is one minute earlier.
  const WindowSpec before =
      ResolveWindow(At("2024-05-01T12:07:00Z") - absl::Nanoseconds(1), absl::Minutes(5));
  EXPECT_EQ(MinuteStart(before.start_min), At("2024-05-01T12:02:00Z"));
  EXPECT_EQ(MinuteStart(before.end_min), At("2024-05-01T12:07:00Z"));
}

TEST(WindowsTest, PartialMinutesRoundUp) {
  const WindowSpec w = ResolveWindow(At("2024-05-01T12:07:30Z"), absl::Seconds(90));
  EXPECT_EQ(w.length_min(), 2);
}

TEST(WindowsTest, LongerWindowsUseCoarserBuckets) {
  const WindowSpec hour = ResolveWindow(At("2024-05-01T12:07:30Z"), absl::Hours(1));
  EXPECT_EQ(hour.resolution_min, 1);
  const WindowSpec six = ResolveWindow(At("2024-05-01T12:07:30Z"), absl::Hours(6));
  EXPECT_EQ(six.resolution_min, 10);
  EXPECT_EQ(MinuteStart(six.start_min), At("2024-05-01T06:10:00Z"));
  EXPECT_EQ(MinuteStart(six.end_min), At("2024-05-01T12:10:00Z"));
  const WindowSpec day = ResolveWindow(At("2024-05-01T12:07:30Z"), absl::Hours(24));
  EXPECT_EQ(day.resolution_min, 10);
  EXPECT_EQ(day.length_min(), 24 * 60);
  EXPECT_EQ(ResolveWindow(At("2024-05-01T12:07:30Z"), absl::Minutes(61)).length_min(), 70);
  const WindowSpec w = ResolveWindow(At("2024-05-01T12:07:30Z"), absl::Hours(48));
  EXPECT_EQ(w.resolution_min, 60);
  EXPECT_EQ(MinuteStart(w.end_min), At("2024-05-01T13:00:00Z"));
  EXPECT_EQ(MinuteStart(w.start_min), At("2024-04-29T13:00:00Z"));
  const WindowSpec odd = ResolveWindow(At("2024-05-01T12:07:30Z"), absl::Minutes(25 * 60 + 1));
  EXPECT_EQ(odd.length_min(), 26 * 60);
}

TEST(WindowsTest, PreviousWindowIsAdjacent) {
  const WindowSpec w = ResolveWindow(At("2024-05-01T12:07:30Z"), absl::Hours(1));
  const WindowSpec p = w.Previous();
  EXPECT_EQ(p.end_min, w.start_min);
  EXPECT_EQ(p.length_min(), 60);
}

TEST(WindowsTest, SeriesAlignsToGranularity) {
  const WindowSpec s = ResolveSeries(At("2024-05-01T12:07:30Z"), absl::Hours(3), 60);
  EXPECT_EQ(MinuteStart(s.start_min), At("2024-05-01T10:00:00Z"));
  EXPECT_EQ(MinuteStart(s.end_min), At("2024-05-01T13:00:00Z"));
}

TEST(WindowsTest, Horizons) {
  const int32_t now = MinuteOf(At("2024-05-01T12:07:30Z"));
  EXPECT_EQ(MinuteStart(CompactionHorizon(now)), At("2024-04-30T11:00:00Z"));
  EXPECT_EQ(MinuteStart(FineStart(now)), At("2024-05-01T10:08:00Z"));
  EXPECT_EQ(MinuteStart(TenMinuteSketchStart(now)), At("2024-05-01T11:00:00Z"));
  EXPECT_EQ(MinuteStart(RetentionStart(now, absl::Hours(168))), At("2024-04-24T12:00:00Z"));
  EXPECT_EQ(FloorTo(-1, 60), -60);
}

}  // namespace
}  // namespace newsgrid::trending
