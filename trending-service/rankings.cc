#include "trending-service/rankings.h"

#include <vector>

namespace newsgrid::trending {

TrendingResult Rankings::Get(const TrendingQuery& query) {
  TrendingResult result = store_.Trending(query);
  if (source_ == nullptr) return result;
  std::vector<std::string> unknown;
  for (const RankedEntry& e : result.entries) {
    if (!e.summary) unknown.push_back(e.article);
  }
  if (unknown.empty()) return result;
  absl::StatusOr<ArticleInfoMap> infos = source_->Lookup(unknown);
  if (!infos.ok()) return result;  // served from the cache
  for (const std::string& id : unknown) {
    auto it = infos->find(id);
    // Unknown to a source that answered: it does not exist (any more).
    store_.SetSourceInfo(id, it != infos->end() ? it->second : ArticleInfo{.hidden = true});
  }
  // Recomputed: hidden articles leave (the next ones move up) and the
  // entries carry the summaries just learnt.
  return store_.Trending(query);
}

}  // namespace newsgrid::trending
