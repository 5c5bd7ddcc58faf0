#include "bench/loadgen/zipf.h"

#include <cmath>

namespace newsgrid::bench {

ZipfDistribution::ZipfDistribution(size_t n, double s) : s_(s), cdf_(std::max<size_t>(n, 1)) {
  double total = 0;
  for (size_t k = 0; k < cdf_.size(); ++k) {
    total += std::pow(static_cast<double>(k + 1), -s_);
    cdf_[k] = total;
  }
  for (double& c : cdf_) c /= total;
  cdf_.back() = 1.0;  // no rounding gap at the top
}

double ZipfDistribution::Probability(size_t k) const {
  if (k >= cdf_.size()) return 0;
  return k == 0 ? cdf_[0] : cdf_[k] - cdf_[k - 1];
}

}  // namespace newsgrid::bench
