// Rankings as served: the store's ranking, hydrated with article summaries
// from an ArticleMetadataSource when one is configured (one Lookup per
// ranking, never one per entry; the source caches with a TTL), with articles
// the source reports hidden (unpublished, deleted) dropped and the next ones
// moved up. Without a source, or when it knows nothing, entries carry what
// the store has and hydrated = false when that is nothing.
//
// The store is asked for more entries than the limit (twice the limit, at
// least 10 more), so entries found hidden at hydration are simply dropped
// and spare ones move up: a deleted article leaves the very next ranking
// served. The store skips hidden articles for 30 s before asking again.
// With a RankingCache, a ranking that lost entries is recomputed by the
// cache's refresher (RequestRefresh), never while a caller waits: a flood of
// views for articles that do not exist makes rankings short for a moment,
// not slow. Without a cache, when more than the spares turn out hidden, the
// store is scanned once more, ten times deeper (up to 1000 entries).
//
// With a RankingCache the store's ranking comes from the cache (bounded
// staleness, see ranking_cache.h); hydration runs on every ranking served.
// TryGetCached answers without blocking at all (cache and source cache
// only), so a request thread that must not block can try it first.
//
// Filters on a fresh article. The store filters by what it knows of an
// article (event metadata, or the source's); an article whose metadata has
// not arrived yet would silently miss every filtered ranking until the
// next hydration of some ranking described it. So the store lists such
// articles that would rank (TrendingResult::unresolved), and every filtered
// ranking asks the source about them in the same lookup as its entries:
// those that match take their place, the others are dropped, and the store
// learns both. When the source cannot answer in time the response says
// `partial`.
//
//   Rankings rankings(store, /*source=*/nullptr, /*cache=*/nullptr);
//   TrendingResult r = rankings.Get(query);
#ifndef NEWSGRID_TRENDING_SERVICE_RANKINGS_H_
#define NEWSGRID_TRENDING_SERVICE_RANKINGS_H_

#include <optional>
#include <string>
#include <vector>

#include "trending-service/article_metadata.h"
#include "trending-service/ranking_cache.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

class Rankings {
 public:
  Rankings(ViewStore& store, ArticleMetadataSource* source, RankingCache* cache = nullptr)
      : store_(store), source_(source), cache_(cache) {}
  TrendingResult Get(const TrendingQuery& query);
  // Get from caches only; nullopt when anything would need a computation or
  // a round trip.
  std::optional<TrendingResult> TryGetCached(const TrendingQuery& query);

 private:
  TrendingResult Ranking(const TrendingQuery& query);
  // Hydrates `result` (a ranking with spare entries) with the source's
  // answer: hidden entries dropped, unresolved candidates that match added;
  // true when the store learnt something the cached ranking predates.
  bool Hydrate(const TrendingQuery& query, const absl::StatusOr<ArticleInfoMap>& infos,
               TrendingResult& result);
  static std::vector<std::string> IdsOf(const TrendingResult& result);

  ViewStore& store_;
  ArticleMetadataSource* source_;
  RankingCache* cache_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_RANKINGS_H_
