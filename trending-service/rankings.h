// Rankings as served: the store's ranking, hydrated with article summaries
// from an ArticleMetadataSource when one is configured (one Lookup per
// ranking, never one per entry; the source caches with a TTL), with articles
// the source reports hidden (unpublished, deleted) dropped and the next ones
// moved up. Without a source, or when it knows nothing, entries carry what
// the store has and hydrated = false when that is nothing.
//
//   Rankings rankings(store, /*source=*/nullptr);
//   TrendingResult r = rankings.Get(query);
#ifndef NEWSGRID_TRENDING_SERVICE_RANKINGS_H_
#define NEWSGRID_TRENDING_SERVICE_RANKINGS_H_

#include "trending-service/article_metadata.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

class Rankings {
 public:
  Rankings(ViewStore& store, ArticleMetadataSource* source) : store_(store), source_(source) {}
  TrendingResult Get(const TrendingQuery& query);

 private:
  ViewStore& store_;
  ArticleMetadataSource* source_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_RANKINGS_H_
