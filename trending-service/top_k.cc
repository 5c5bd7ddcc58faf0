#include "trending-service/top_k.h"

namespace newsgrid::trending {

absl::flat_hash_map<std::string, int> RanksByArticle(const std::vector<RankCandidate>& sorted) {
  absl::flat_hash_map<std::string, int> ranks;
  ranks.reserve(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) ranks[sorted[i].article] = static_cast<int>(i) + 1;
  return ranks;
}

}  // namespace newsgrid::trending
