// Time bucket and window arithmetic, pure functions of "now".
//
// Time is counted in whole minutes since the Unix epoch (UTC). Views land
// in one-minute buckets; minute buckets older than the compaction horizon
// (the start of the hour 25 hours before the current hour, so every
// minute of the last 24 hours stays at minute resolution) are merged into
// one-hour buckets. Unique-visitor sketches exist per hour for the whole
// retention and per minute from the start of the previous hour on.
//
// A window of length W ending now is answered at resolution r = 1 minute
// when W <= 24 h and r = 1 hour beyond: it is the ceil(W / r) buckets of
// width r ending with the bucket that contains now (the current, partial
// bucket counts). So at 12:07:30 a 5-minute window is [12:03, 12:08) and at
// exactly 12:07:00 it is [12:03, 12:08) as well: a view at 12:02:59 is
// outside. The previous window (for rank change) is the same length just
// before: [start - len, start).
//
//   WindowSpec w = ResolveWindow(now, absl::Hours(1));
//   // w.start_min .. w.end_min (exclusive), w.resolution_min == 1
#ifndef NEWSGRID_TRENDING_SERVICE_WINDOWS_H_
#define NEWSGRID_TRENDING_SERVICE_WINDOWS_H_

#include <cstdint>

#include "absl/time/time.h"

namespace newsgrid::trending {

inline constexpr int32_t kMinutesPerHour = 60;
inline constexpr absl::Duration kMinuteResolutionLimit = absl::Hours(24);

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

// The window of length `window` ending now (see header comment).
WindowSpec ResolveWindow(absl::Time now, absl::Duration window);

// A series window for GetArticleStats: `granularity_min` points aligned to
// multiples of the granularity, the last one containing now.
WindowSpec ResolveSeries(absl::Time now, absl::Duration window, int32_t granularity_min);

// Minute buckets starting before this minute are merged into hours.
int32_t CompactionHorizon(int32_t now_min);
// Minute sketches are kept for minutes at or after this one.
int32_t FineSketchStart(int32_t now_min);
// Buckets and sketches starting before this minute are expired.
int32_t RetentionStart(int32_t now_min, absl::Duration retention);

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_WINDOWS_H_
