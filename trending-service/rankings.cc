#include "trending-service/rankings.h"

#include <algorithm>
#include <vector>

namespace newsgrid::trending {

// How long a hidden article stays out before it is asked about again.
constexpr absl::Duration kHiddenRecheck = absl::Seconds(30);
// Entries fetched beyond the limit (at least this many, or the limit again).
constexpr int kMinSpareEntries = 10;
// The deepest second look at a ranking (BatchGetArticles takes 100 names a call).
constexpr int kMaxDeepScan = 1000;

TrendingResult Rankings::Ranking(const TrendingQuery& query) {
  return cache_ != nullptr ? cache_->Get(query) : store_.Trending(query);
}

TrendingResult Rankings::Get(const TrendingQuery& query) {
  if (source_ == nullptr) return Ranking(query);
  // Over-fetch: entries found hidden here are dropped from the (cached)
  // ranking and the spare ones move up, without a new scan of every
  // article. A scan is repeated only when more than the spares turned out
  // hidden; the store skips those from then on.
  TrendingQuery wide = query;
  wide.limit = query.limit + std::max(query.limit, kMinSpareEntries);
  TrendingResult result;
  // With a cache, a ranking that lost entries is recomputed by the cache's
  // refresher, never while a caller waits: under a flood of hidden entries
  // callers get fewer entries for a moment, not a scan each.
  const int rounds = cache_ != nullptr ? 1 : 2;
  for (int round = 0; round < rounds; ++round) {
    result = Ranking(wide);
    std::vector<std::string> ids;
    ids.reserve(result.entries.size());
    for (const RankedEntry& e : result.entries) ids.push_back(e.article);
    absl::StatusOr<ArticleInfoMap> infos = source_->Lookup(ids);
    if (!infos.ok()) break;  // served with what the store has
    std::vector<RankedEntry> kept;
    kept.reserve(result.entries.size());
    for (RankedEntry& e : result.entries) {
      auto it = infos->find(e.article);
      if (it != infos->end()) {  // else nothing known now: keep what we have
        if (it->second.hidden) {
          ArticleInfo info = it->second;
          info.hidden_until = store_.Now() + kHiddenRecheck;
          store_.SetSourceInfo(e.article, std::move(info));
          continue;
        }
        if (e.summary != it->second.summary) {
          e.summary = it->second.summary;
          store_.SetSourceInfo(e.article, it->second);
        }
      }
      kept.push_back(std::move(e));
    }
    const bool dropped = kept.size() < result.entries.size();
    const bool more_exist = static_cast<int>(result.entries.size()) == wide.limit;
    result.entries = std::move(kept);
    // The cached ranking predates what was just learnt.
    if (dropped && cache_ != nullptr) cache_->RequestRefresh(wide);
    if (static_cast<int>(result.entries.size()) >= query.limit || !more_exist) break;
    // Without a cache: one second scan, ten times deeper, so a flood of
    // views for articles that do not exist is learnt in a few calls.
    wide.limit = std::min(wide.limit * 10, kMaxDeepScan);
  }
  // Ranks as served; a previous rank beyond the limit is "not in the
  // previous window's top `limit`".
  if (static_cast<int>(result.entries.size()) > query.limit) result.entries.resize(query.limit);
  for (size_t i = 0; i < result.entries.size(); ++i) {
    RankedEntry& e = result.entries[i];
    e.rank = static_cast<int>(i) + 1;
    if (e.previous_rank > query.limit) e.previous_rank = 0;
  }
  return result;
}

}  // namespace newsgrid::trending
