#include "trending-service/windows.h"

namespace newsgrid::trending {

int32_t MinuteOf(absl::Time t) {
  // ToUnixSeconds rounds toward the infinite past; so does this division.
  const int64_t s = absl::ToUnixSeconds(t);
  return static_cast<int32_t>(s >= 0 ? s / 60 : -((-s + 59) / 60));
}

absl::Time MinuteStart(int32_t minute) { return absl::FromUnixSeconds(int64_t{minute} * 60); }

int32_t FloorTo(int32_t minute, int32_t step) {
  const int32_t r = minute % step;
  return r >= 0 ? minute - r : minute - r - step;
}

int32_t CeilDiv(int64_t a, int64_t b) { return static_cast<int32_t>((a + b - 1) / b); }

int32_t ResolutionFor(absl::Duration window) {
  if (window <= kFineWindowLimit) return kFineMinutes;
  if (window <= kMediumWindowLimit) return kMediumMinutes;
  return kCoarseMinutes;
}

WindowSpec ResolveWindow(absl::Time now, absl::Duration window) {
  const int64_t minutes = absl::ToInt64Minutes(absl::Ceil(window, absl::Minutes(1)));
  const int32_t r = ResolutionFor(window);
  WindowSpec w;
  w.resolution_min = r;
  w.end_min = FloorTo(MinuteOf(now), r) + r;
  w.start_min = w.end_min - CeilDiv(minutes, r) * r;
  return w;
}

WindowSpec ResolveSeries(absl::Time now, absl::Duration window, int32_t granularity_min) {
  const int64_t minutes = absl::ToInt64Minutes(absl::Ceil(window, absl::Minutes(1)));
  WindowSpec w;
  w.resolution_min = granularity_min;
  w.end_min = FloorTo(MinuteOf(now), granularity_min) + granularity_min;
  w.start_min = w.end_min - CeilDiv(minutes, granularity_min) * granularity_min;
  return w;
}

int32_t CompactionHorizon(int32_t now_min) {
  return FloorTo(now_min, kMinutesPerHour) - 25 * kMinutesPerHour;
}

int32_t FineStart(int32_t now_min) { return now_min - kFineBuckets + 1; }

int32_t TenMinuteSketchStart(int32_t now_min) {
  return FloorTo(now_min, kMediumMinutes) - kTenMinuteSketchSpan + kMediumMinutes;
}

int32_t RetentionStart(int32_t now_min, absl::Duration retention) {
  return FloorTo(now_min - static_cast<int32_t>(absl::ToInt64Minutes(retention)),
                 kMinutesPerHour);
}

}  // namespace newsgrid::trending
