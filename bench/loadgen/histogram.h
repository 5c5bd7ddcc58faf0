// A latency histogram with log-linear buckets (HDR-style): every power of two
// is split into 128 equal sub-buckets, so any recorded value is known to
// within 1/128 (0.8%) of itself, from 1 ns to about 73 minutes, in a fixed
// 36 KiB table. Recording is O(1) and allocation-free; percentiles walk the
// table. Nothing is kept per sample, so a run of a billion calls costs the
// same memory as a run of ten.
//
//   Histogram h;
//   h.Record(absl::ToInt64Nanoseconds(latency));
//   int64_t p99 = h.Percentile(99.0);   // ns, never below the true p99
//   total.Merge(h);
#ifndef NEWSGRID_BENCH_LOADGEN_HISTOGRAM_H_
#define NEWSGRID_BENCH_LOADGEN_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace newsgrid::bench {

class Histogram {
 public:
  // Sub-buckets per power of two: 2^kSubBits.
  static constexpr int kSubBits = 7;
  static constexpr int64_t kSubCount = int64_t{1} << kSubBits;
  // Largest value kept exactly by bucket: 2^kMaxBits - 1 ns (about 73 min);
  // larger values land in the last bucket (max() stays exact).
  static constexpr int kMaxBits = 42;
  static constexpr int kBucketCount = (kMaxBits - kSubBits) * kSubCount + kSubCount;

  // Records `value` (negative values count as 0) `times` times.
  void Record(int64_t value, int64_t times = 1);
  void Merge(const Histogram& other);
  void Reset();

  int64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

  // The value at percentile `p` (0..100): the highest value equivalent to the
  // bucket holding the ceil(p% * count)-th smallest sample, clamped to
  // [min, max]. Never below the true percentile, at most 1/128 above it.
  // 0 when empty.
  int64_t Percentile(double p) const;

  // Bucket arithmetic, exposed for tests.
  static int BucketIndex(int64_t value);
  static int64_t BucketLowest(int index);
  static int64_t BucketHighest(int index);

 private:
  std::array<int64_t, kBucketCount> counts_{};
  int64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace newsgrid::bench

#endif  // NEWSGRID_BENCH_LOADGEN_HISTOGRAM_H_
