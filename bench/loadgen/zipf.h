// Zipf-distributed ranks: rank k (0-based) of n is drawn with probability
// proportional to 1 / (k + 1)^s. Models article popularity on a news site:
// with s = 1 and 10,000 articles, the top 10 stories take about 30% of reads.
//
// Sampling inverts a precomputed cumulative table (8 bytes per rank, binary
// search per draw): exact for any s >= 0, thread-safe once built.
//
//   ZipfDistribution zipf(/*n=*/10000, /*s=*/1.0);
//   std::mt19937_64 rng(42);
//   size_t article = zipf(rng);  // 0 is the most popular
#ifndef NEWSGRID_BENCH_LOADGEN_ZIPF_H_
#define NEWSGRID_BENCH_LOADGEN_ZIPF_H_

#include <algorithm>
#include <cstddef>
#include <random>
#include <vector>

namespace newsgrid::bench {

class ZipfDistribution {
 public:
  // n >= 1 ranks, exponent s >= 0 (0 is uniform).
  ZipfDistribution(size_t n, double s);

  size_t n() const { return cdf_.size(); }
  double s() const { return s_; }

  // Probability of rank k.
  double Probability(size_t k) const;

  template <typename Rng>
  size_t operator()(Rng& rng) const {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
  }

 private:
  double s_;
  std::vector<double> cdf_;  // cdf_[k] = P(rank <= k); cdf_.back() == 1
};

}  // namespace newsgrid::bench

#endif  // NEWSGRID_BENCH_LOADGEN_ZIPF_H_
