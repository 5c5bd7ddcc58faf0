#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace newsgrid::bench {

// Values below 2 * kSubCount get one bucket each. Above, a value with its
// highest set bit at position e is shifted right by e - kSubBits, which keeps
// its top kSubBits + 1 bits: a sub-bucket in [kSubCount, 2 * kSubCount).
// index = shift * kSubCount + (value >> shift) makes the ranges contiguous.
int Histogram::BucketIndex(int64_t value) {
  if (value < 0) value = 0;
  const uint64_t v = static_cast<uint64_t>(value);
  const int highest_bit = 63 - std::countl_zero(v | 1);
  const int shift = std::max(0, highest_bit - kSubBits);
  const int64_t index = int64_t{shift} * kSubCount + static_cast<int64_t>(v >> shift);
  return static_cast<int>(std::min<int64_t>(index, kBucketCount - 1));
}

int64_t Histogram::BucketLowest(int index) {
  if (index < 2 * kSubCount) return index;
  const int shift = index / kSubCount - 1;
  const int64_t sub = index - int64_t{shift} * kSubCount;
  return sub << shift;
}

int64_t Histogram::BucketHighest(int index) {
  if (index < 2 * kSubCount) return index;
  const int shift = index / kSubCount - 1;
  return BucketLowest(index) + (int64_t{1} << shift) - 1;
}

void Histogram::Record(int64_t value, int64_t times) {
  if (times <= 0) return;
  if (value < 0) value = 0;
  counts_[BucketIndex(value)] += times;
  if (count_ == 0 || value < min_) min_ = value;
  if (value > max_) max_ = value;
  count_ += times;
  sum_ += static_cast<double>(value) * static_cast<double>(times);
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::Reset() { *this = Histogram(); }

int64_t Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  const int64_t rank =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p / 100.0 * static_cast<double>(count_))));
  int64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The last bucket also holds everything beyond the table.
      if (i == kBucketCount - 1) return max_;
      return std::clamp(BucketHighest(i), min_, max_);
    }
  }
  return max_;
}

}  // namespace newsgrid::bench
