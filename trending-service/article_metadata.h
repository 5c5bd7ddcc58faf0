// What the trending service knows about an article besides its views, and
// the interface through which it learns it.
//
// Two sources fill a per-article cache: metadata carried in view events
// (ViewEvent.metadata: section, tags, authors) and an ArticleMetadataSource
// (the article service, through BatchGetArticles). The source wins: once it
// has described an article, event metadata no longer changes that entry,
// and only the source provides summaries (title, slug, section, publish
// time) and hides articles that are unpublished or deleted. Entries without
// a summary are returned with hydrated = false.
//
//   class ArticleServiceSource : public ArticleMetadataSource { ... };
//   absl::StatusOr<ArticleInfoMap> infos = source.Lookup({"a1", "a2"});
#ifndef NEWSGRID_TRENDING_SERVICE_ARTICLE_METADATA_H_
#define NEWSGRID_TRENDING_SERVICE_ARTICLE_METADATA_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace newsgrid::trending {

// Used by section / tag / author filters.
struct ArticleMetadata {
  std::string section;
  std::vector<std::string> tags;
  std::vector<std::string> authors;
  bool empty() const { return section.empty() && tags.empty() && authors.empty(); }
  bool operator==(const ArticleMetadata&) const = default;
};

// Shown in rankings ("hydration").
struct ArticleSummary {
  std::string title;
  std::string slug;
  std::string section;
  absl::Time publish_time = absl::InfinitePast();
  bool operator==(const ArticleSummary&) const = default;
};

// What the source knows of one article.
struct ArticleInfo {
  ArticleMetadata metadata;
  std::optional<ArticleSummary> summary;
  // Not visible to readers (draft, scheduled, deleted): left out of rankings
  // until `hidden_until`, when the article is asked about again (so one that
  // is published again comes back).
  bool hidden = false;
  absl::Time hidden_until = absl::InfiniteFuture();
};

// Keyed by the {article} id.
using ArticleInfoMap = absl::flat_hash_map<std::string, ArticleInfo>;

class ArticleMetadataSource {
 public:
  virtual ~ArticleMetadataSource() = default;
  // Describes up to 100 articles ({article} ids) with at most one round
  // trip. It is asked on every ranking, so it caches (with a TTL that bounds
  // how long a change takes to show). Ids missing from the result are ones
  // the source knows nothing of right now (peer down, never seen): their
  // cached information stays as it is. An article that does not exist or is
  // not visible to readers is returned with hidden = true.
  virtual absl::StatusOr<ArticleInfoMap> Lookup(const std::vector<std::string>& articles) = 0;
  // Lookup without waiting for anything: nullopt when an answer would need
  // a round trip (an article not cached, or cached too long ago). Lets a
  // caller on a thread that must not block answer from the cache.
  virtual std::optional<ArticleInfoMap> LookupCached(const std::vector<std::string>& articles) {
    (void)articles;
    return std::nullopt;
  }
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_ARTICLE_METADATA_H_
