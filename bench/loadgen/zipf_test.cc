#include "bench/loadgen/zipf.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace newsgrid::bench {
namespace {

TEST(ZipfTest, ProbabilitiesFollowThePowerLawAndSumToOne) {
  ZipfDistribution zipf(1000, 1.0);
  double total = 0;
  for (size_t k = 0; k < zipf.n(); ++k) total += zipf.Probability(k);
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_NEAR(zipf.Probability(0) / zipf.Probability(1), 2.0, 1e-9);
  EXPECT_NEAR(zipf.Probability(0) / zipf.Probability(9), 10.0, 1e-9);
  // Harmonic number H(1000) ~ 7.4855: P(0) = 1 / H.
  EXPECT_NEAR(zipf.Probability(0), 1 / 7.48547, 1e-4);
  EXPECT_EQ(zipf.Probability(1000), 0);
}

TEST(ZipfTest, SamplesMatchTheDistribution) {
  ZipfDistribution zipf(100, 1.2);
  std::mt19937_64 rng(1);
  std::vector<int> counts(100);
  const int draws = 400000;
  for (int i = 0; i < draws; ++i) {
    const size_t k = zipf(rng);
    ASSERT_LT(k, 100u);
    counts[k]++;
  }
  // Every rank within 5 standard deviations of its binomial expectation.
  for (size_t k = 0; k < counts.size(); ++k) {
    const double p = zipf.Probability(k);
    const double mean = p * draws;
    const double sd = std::sqrt(draws * p * (1 - p));
    EXPECT_NEAR(counts[k], mean, 5 * sd + 1) << "rank " << k;
  }
  EXPECT_GT(counts[0], counts[1]);
  EXPECT_GT(counts[1], counts[10]);
}

TEST(ZipfTest, ExponentZeroIsUniform) {
  ZipfDistribution zipf(4, 0.0);
  for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(zipf.Probability(k), 0.25, 1e-12);
  std::mt19937_64 rng(3);
  std::vector<int> counts(4);
  for (int i = 0; i < 40000; ++i) counts[zipf(rng)]++;
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
}

TEST(ZipfTest, HotSetOfANewsSite) {
  // The documented example: the top 10 of 10,000 articles draw ~30% of reads.
  ZipfDistribution zipf(10000, 1.0);
  double top10 = 0;
  for (size_t k = 0; k < 10; ++k) top10 += zipf.Probability(k);
  EXPECT_NEAR(top10, 0.30, 0.02);
}

TEST(ZipfTest, SingleRankAlwaysDrawsZero) {
  ZipfDistribution zipf(1, 1.0);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(zipf(rng), 0u);
  ZipfDistribution empty(0, 1.0);  // treated as one rank
  EXPECT_EQ(empty(rng), 0u);
}

}  // namespace
}  // namespace newsgrid::bench
