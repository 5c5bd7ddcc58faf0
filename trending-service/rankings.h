// Rankings as served: the store's ranking, hydrated with article summaries
// from an ArticleMetadataSource when one is configured (one Lookup per
// ranking, never one per entry; the source caches with a TTL), with articles
// the source reports hidden (unpublished, deleted) dropped and the next ones
// moved up. Without a source, or when it knows nothing, entries carry what
// the store has and hydrated = false when that is nothing.
//
// With a RankingCache the store's ranking comes from the cache (bounded
// staleness, see ranking_cache.h); hydration still runs on every ranking,
// and when it changes what the store knows of an entry (hidden, new
// summary) that query's cached result is invalidated and recomputed, so a
// deleted article leaves rankings as fast as without the cache.
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
