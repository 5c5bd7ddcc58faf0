// In-process read cache of live (published, visible, not deleted) articles
// for reader GetArticle / GetArticleBySlug.
//
// Bounded (LRU per shard) and correct within this process: every write this
// process makes invalidates the article after its commit and before the RPC
// answers, and a read that raced with a write cannot re-insert the old
// version, because inserts carry the shard's invalidation epoch taken before
// the database read (an insert whose epoch moved is dropped). Across
// replicas, a change made by another replica is seen here at most `ttl`
// later (default 2 s): entries expire after `ttl`.
//
// Slugs map to ids forever (a slug never moves to another article), so the
// slug index needs no invalidation.
//
//   uint64_t epoch = cache.BeginRead(id);
//   if (auto hit = cache.Get(id)) return *hit;
//   Article a = ...read from PostgreSQL...;
//   if (IsLive(a, now)) cache.Insert(id, std::make_shared<const Article>(a), epoch);
//   ...
//   cache.Invalidate(id);  // after every committed write
#ifndef NEWSGRID_ARTICLE_SERVICE_ARTICLE_CACHE_H_
#define NEWSGRID_ARTICLE_SERVICE_ARTICLE_CACHE_H_

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "article-service/article_domain.h"
#include "article-service/clock.h"

namespace newsgrid::article {

class ArticleCache {
 public:
  struct Options {
    size_t capacity = 10000;  // articles; 0 disables the cache
    absl::Duration ttl = absl::Seconds(2);
  };

  ArticleCache(Options options, const Clock& clock);

  uint64_t BeginRead(int64_t id);
  std::shared_ptr<const Article> Get(int64_t id);
  void Insert(int64_t id, std::shared_ptr<const Article> article, uint64_t epoch);
  void Invalidate(int64_t id);

  std::optional<int64_t> IdForSlug(const std::string& slug);
  void RememberSlug(const std::string& slug, int64_t id);

  size_t size();

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    std::shared_ptr<const Article> article;
    absl::Time expires;
    std::list<int64_t>::iterator lru;
  };
  struct Shard {
    absl::Mutex mu;
    uint64_t epoch ABSL_GUARDED_BY(mu) = 0;
    std::unordered_map<int64_t, Entry> entries ABSL_GUARDED_BY(mu);
    std::list<int64_t> lru ABSL_GUARDED_BY(mu);  // front: most recent
  };
  Shard& ShardFor(int64_t id) { return shards_[static_cast<uint64_t>(id) % kShards]; }

  const Options options_;
  const size_t per_shard_;
  const Clock& clock_;
  std::array<Shard, kShards> shards_;
  absl::Mutex slug_mu_;
  std::unordered_map<std::string, int64_t> slugs_ ABSL_GUARDED_BY(slug_mu_);
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_CACHE_H_
