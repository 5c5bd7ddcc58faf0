#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace newsgrid::bench {
namespace {

TEST(HistogramTest, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.Percentile(99), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 100);
  EXPECT_EQ(h.Percentile(50), 50);
  EXPECT_EQ(h.Percentile(90), 90);
  EXPECT_EQ(h.Percentile(99), 99);
  EXPECT_EQ(h.Percentile(100), 100);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 100);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(HistogramTest, BucketsAreContiguousAndCoverEveryValue) {
  for (int i = 1; i < Histogram::kBucketCount; ++i) {
    ASSERT_EQ(Histogram::BucketLowest(i), Histogram::BucketHighest(i - 1) + 1) << i;
    ASSERT_EQ(Histogram::BucketIndex(Histogram::BucketLowest(i)), i);
    ASSERT_EQ(Histogram::BucketIndex(Histogram::BucketHighest(i)), i);
  }
}

TEST(HistogramTest, BucketWidthIsWithinOne128thOfTheValue) {
  for (int i = 2 * Histogram::kSubCount; i < Histogram::kBucketCount; i += 37) {
    const double lo = static_cast<double>(Histogram::BucketLowest(i));
    const double width = static_cast<double>(Histogram::BucketHighest(i) - Histogram::BucketLowest(i) + 1);
    ASSERT_LE(width / lo, 1.0 / 128 + 1e-12) << i;
  }
}

TEST(HistogramTest, PercentilesMatchSortedSamplesWithinResolution) {
  // Latency-like samples: log-normal around 1 ms with a long tail.
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(std::log(1e6), 0.8);
  std::vector<int64_t> samples;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    const int64_t v = static_cast<int64_t>(dist(rng));
    samples.push_back(v);
    h.Record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const auto rank = static_cast<size_t>(std::ceil(p / 100 * samples.size())) - 1;
    const double exact = static_cast<double>(samples[rank]);
    const double got = static_cast<double>(h.Percentile(p));
    EXPECT_GE(got, exact) << "p" << p;
    EXPECT_LE(got, exact * (1 + 1.0 / 128)) << "p" << p;
  }
  EXPECT_EQ(h.max(), samples.back());
  EXPECT_EQ(h.min(), samples.front());
}

TEST(HistogramTest, TailIsNotHiddenByTheBulk) {
  // 999 fast calls and one 2 s stall: p99.9 and max must show the stall.
  Histogram h;
  h.Record(100'000, 999);
  h.Record(2'000'000'000);
  EXPECT_LE(h.Percentile(99), 100'000 * (1 + 1.0 / 128));
  EXPECT_EQ(h.Percentile(99.95), 2'000'000'000);
  EXPECT_EQ(h.max(), 2'000'000'000);
}

TEST(HistogramTest, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  for (int64_t v = 1; v < 1'000'000; v = v * 3 / 2 + 1) {
    a.Record(v);
    all.Record(v);
    b.Record(v * 7, 2);
    all.Record(v * 7, 2);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double p : {1.0, 50.0, 99.0, 100.0}) EXPECT_EQ(a.Percentile(p), all.Percentile(p));
}

TEST(HistogramTest, HugeAndNegativeValuesAreClamped) {
  Histogram h;
  h.Record(-5);
  h.Record(int64_t{1} << 50);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), int64_t{1} << 50);
  EXPECT_EQ(h.Percentile(100), int64_t{1} << 50);
  EXPECT_EQ(h.Percentile(10), 0);
}

TEST(HistogramTest, ResetEmpties) {
  Histogram h;
  h.Record(42);
  h.Reset();
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.Percentile(50), 0);
}

}  // namespace
}  // namespace newsgrid::bench
