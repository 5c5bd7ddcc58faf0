#include "trending-service/rankings.h"

#include <vector>

namespace newsgrid::trending {

// How long a hidden article stays out before it is asked about again.
constexpr absl::Duration kHiddenRecheck = absl::Seconds(30);

TrendingResult Rankings::Ranking(const TrendingQuery& query) {
  return cache_ != nullptr ? cache_->Get(query) : store_.Trending(query);
}

TrendingResult Rankings::Get(const TrendingQuery& query) {
  TrendingResult result = Ranking(query);
  if (source_ == nullptr) return result;
  // A hidden article leaves the ranking and another moves up, which may
  // itself need describing: a few rounds settle it.
  for (int round = 0; round < 3 && !result.entries.empty(); ++round) {
    std::vector<std::string> ids;
    ids.reserve(result.entries.size());
    for (const RankedEntry& e : result.entries) ids.push_back(e.article);
    absl::StatusOr<ArticleInfoMap> infos = source_->Lookup(ids);
    if (!infos.ok()) return result;  // served with what the store has
    bool changed = false;
    for (const RankedEntry& e : result.entries) {
      auto it = infos->find(e.article);
      if (it == infos->end()) continue;  // nothing known now: keep what we have
      if (it->second.hidden || e.summary != it->second.summary) {
        ArticleInfo info = it->second;
        if (info.hidden) info.hidden_until = store_.Now() + kHiddenRecheck;
        store_.SetSourceInfo(e.article, std::move(info));
        changed = true;
      }
    }
    if (!changed) break;
    // The cached ranking predates what was just learnt.
    if (cache_ != nullptr) cache_->Invalidate(query);
    result = Ranking(query);
  }
  return result;
}

}  // namespace newsgrid::trending
