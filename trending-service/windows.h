// Time bucket and window arithmetic, pure functions of "now".
//
// Time is counted in whole minutes since the Unix epoch (UTC). Every view
// is counted at three resolutions ("tiers"), each kept as long as the
// windows that use it need, so that memory per article is bounded by the
// configuration whatever the traffic:
//   - fine: 1-minute buckets for the last 2 hours (windows up to 1 hour and
//     the window before them, for rank change);
//   - medium: 10-minute buckets for the last 25 hours (windows up to 24 h);
//   - coarse: 1-hour buckets for the whole retention (longer windows).
// Unique-visitor sketches exist per hour for the whole retention and per
// 10 minutes for the last 70 minutes (see view_store.h).
//
// A window of length W ending now is answered at the resolution r of its
// tier (1 minute when W <= 1 h, 10 minutes when W <= 24 h, 1 hour beyond):
// it is the ceil(W / r) buckets of width r ending with the bucket that
// contains now (the current, partial bucket counts). So at 12:07:30 a
// 5-minute window is [12:03, 12:08) and at exactly 12:07:00 it is
// [12:03, 12:08) as well: a view at 12:02:59 is outside; a 6-hour window is
// [06:10, 12:10). The previous window (for rank change) is the same length
// just before: [start - len, start); where it reaches beyond what its tier
// keeps (the window before a 24 h window), that part is counted in whole
// hours.
//
//   WindowSpec w = ResolveWindow(now, absl::Hours(1));
//   // w.start_min .. w.end_min (exclusive), w.resolution_min == 1
#ifndef NEWSGRID_TRENDING_SERVICE_WINDOWS_H_
#define NEWSGRID_TRENDING_SERVICE_WINDOWS_H_

#include <cstdint>

#include "absl/time/time.h"

namespace newsgrid::trending {

inline constexpr int32_t kMinutesPerHour = 60;
// Bucket widths of the three tiers, in minutes.
inline constexpr int32_t kFineMinutes = 1;
inline constexpr int32_t kMediumMinutes = 10;
inline constexpr int32_t kCoarseMinutes = 60;
// The longest windows answered at the fine and at the medium resolution.
inline constexpr absl::Duration kFineWindowLimit = absl::Hours(1);
inline constexpr absl::Duration kMediumWindowLimit = absl::Hours(24);
// Fine buckets kept: the longest fine window and the one before it.
inline constexpr int32_t kFineBuckets = 120;
// Sketches per 10 minutes are kept for this long (a 1 h window rounded out
// to 10 minutes).
inline constexpr int32_t kTenMinuteSketchSpan = 70;

// Minutes since the epoch of the minute containing `t` (floor).
int32_t MinuteOf(absl::Time t);
absl::Time MinuteStart(int32_t minute);
// floor / ceil of a minute count to a multiple of `step` minutes.
int32_t FloorTo(int32_t minute, int32_t step);
int32_t CeilDiv(int64_t a, int64_t b);

struct WindowSpec {
  int32_t start_min = 0;  // inclusive
  int32_t end_min = 0;    // exclusive
  int32_t resolution_min = 1;
  int32_t length_min() const { return end_min - start_min; }
  WindowSpec Previous() const { return {start_min - length_min(), start_min, resolution_min}; }
};

// The resolution (bucket width in minutes) a window of this length is
// answered at: 1, 10 or 60.
int32_t ResolutionFor(absl::Duration window);

// The window of length `window` ending now (see header comment).
WindowSpec ResolveWindow(absl::Time now, absl::Duration window);

// A series window for GetArticleStats: `granularity_min` points aligned to
// multiples of the granularity, the last one containing now.
WindowSpec ResolveSeries(absl::Time now, absl::Duration window, int32_t granularity_min);

// The first minute the fine tier keeps (kFineBuckets minutes up to now).
int32_t FineStart(int32_t now_min);
// The first minute the medium tier keeps: the start of the hour 25 hours
// before the current hour. Also where PostgreSQL merges minute rows into
// hours (so every minute of the last 24 hours keeps its own row there).
int32_t CompactionHorizon(int32_t now_min);
// Sketches per 10 minutes are kept from this minute on.
int32_t TenMinuteSketchStart(int32_t now_min);
// Buckets and sketches starting before this minute are expired.
int32_t RetentionStart(int32_t now_min, absl::Duration retention);

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_WINDOWS_H_
