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
//
//   Rankings rankings(store, /*source=*/nullptr, /*cache=*/nullptr);
//   TrendingResult r = rankings.Get(query);
#ifndef NEWSGRID_TRENDING_SERVICE_RANKINGS_H_
#define NEWSGRID_TRENDING_SERVICE_RANKINGS_H_

#include "trending-service/article_metadata.h"
#include "trending-service/ranking_cache.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

class Rankings {
 public:
  Rankings(ViewStore& store, ArticleMetadataSource* source, RankingCache* cache = nullptr)
      : store_(store), source_(source), cache_(cache) {}
  TrendingResult Get(const TrendingQuery& query);

 private:
  TrendingResult Ranking(const TrendingQuery& query);

  ViewStore& store_;
  ArticleMetadataSource* source_;
  RankingCache* cache_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_RANKINGS_H_
