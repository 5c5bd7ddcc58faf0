// In-process read cache of live (published, visible, not deleted) articles
// for reader reads (GetArticle, GetArticleBySlug, and the articles of list
// and search pages), holding each article as one serialized, shared
// ArticleVersion: a hit costs a lookup under a shard's reader lock and a
// reference count, never a copy.
//
// Coherence. Within this process, every write invalidates the article after
// its commit and before the RPC answers, and a read that raced with a write
// cannot re-insert the old version: inserts carry the shard's invalidation
// epoch taken before the database read, and an insert whose epoch moved is
// dropped. Across replicas, every committed write notifies PostgreSQL
// channel `article_changed` in its own transaction and each replica's
// InvalidationListener (invalidation_listener.h) drops the article on
// receipt. The guarantee:
//
//   After a write is acknowledged by any replica, every replica serves the
//   new version within X ms while its listener is up (X: the invalidation
//   lag: milliseconds; the p99 over 200 updates between two replicas is in
//   docs/BENCHMARKS.md, "Cache coherence across replicas"), and
//   within the fallback TTL (`--article_cache_fallback_ttl`, 2 s) once the
//   listener's connection is known to be lost.
//
// A lost connection is known at once when the server ends it (restart,
// pg_terminate_backend); a silent network loss is found by the listener's
// ping within about `ping_interval` + TCP keepalive (a few seconds), the one
// window where staleness can exceed the fallback TTL. While the listener is
// down every entry expires `fallback_ttl` after its insertion (the switch
// applies to entries already cached); when it is back the cache is flushed
// (notifications sent meanwhile were missed) and entries live `ttl` again, a
// safety net of minutes rather than the bound.
//
// Bounded by bytes (ArticleVersion::memory_bytes), in 16 shards each with a
// CLOCK (second chance) eviction: a hit only sets a flag, so hits share the
// shard's lock. Slugs map to ids forever (a slug never moves to another
// article), so the slug index needs no invalidation.
//
//   uint64_t epoch = cache.BeginRead(id);
//   if (ArticleRef hit = cache.Get(id)) return hit;
//   Article a = ...read from PostgreSQL...;
//   if (IsLive(a, now)) cache.Insert(ArticleVersion::Make(a), epoch);
//   ...
//   cache.Invalidate(id);       // after every committed write, and on notification
//   cache.SetNotified(false);   // listener lost: fallback TTL for every entry
//   cache.InvalidateAll();      // listener back: drop what may be stale
#ifndef NEWSGRID_ARTICLE_SERVICE_ARTICLE_CACHE_H_
#define NEWSGRID_ARTICLE_SERVICE_ARTICLE_CACHE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "article-service/article_version.h"
#include "runtime/clock.h"

namespace newsgrid::article {

class ArticleCache {
 public:
  struct Options {
    size_t capacity_bytes = size_t{128} << 20;  // 0 disables the cache
    // Entry lifetime while invalidations arrive (a safety net).
    absl::Duration ttl = absl::Minutes(5);
    // Entry lifetime while they may be missed (no listener).
    absl::Duration fallback_ttl = absl::Seconds(2);
  };

  ArticleCache(Options options, const Clock& clock);

  bool enabled() const { return per_shard_bytes_ > 0; }

  // The shard's invalidation epoch, taken before a database read whose
  // result may be inserted.
  uint64_t BeginRead(int64_t id);
  // The cached version of `id`, or null (missing or expired).
  ArticleRef Get(int64_t id);
  // Caches `v` unless an invalidation of its shard happened since `epoch`.
  void Insert(ArticleRef v, uint64_t epoch);
  void Invalidate(int64_t id);
  // Drops everything and refuses every insert of a read begun before.
  void InvalidateAll();

  // True while invalidations are delivered (entries live `ttl`), false while
  // they may be missed (entries live `fallback_ttl`, already cached ones too).
  void SetNotified(bool notified);
  bool notified() const { return notified_.load(std::memory_order_relaxed); }
  absl::Duration current_ttl() const;

  std::optional<int64_t> IdForSlug(const std::string& slug);
  void RememberSlug(const std::string& slug, int64_t id);

  size_t size();
  size_t bytes();

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    ArticleRef version;
    absl::Time inserted;
    std::list<int64_t>::iterator ring;
    // Set by hits (under the reader lock), cleared by the clock hand.
    mutable std::atomic<bool> referenced{false};
  };
  struct Shard {
    absl::Mutex mu;
    std::atomic<uint64_t> epoch{0};
    absl::flat_hash_map<int64_t, std::unique_ptr<Entry>> entries ABSL_GUARDED_BY(mu);
    std::list<int64_t> ring ABSL_GUARDED_BY(mu);  // insertion order; the clock's circle
    std::list<int64_t>::iterator hand ABSL_GUARDED_BY(mu) = ring.end();
    size_t bytes ABSL_GUARDED_BY(mu) = 0;
  };
  struct SlugShard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, int64_t> ids ABSL_GUARDED_BY(mu);
  };
  Shard& ShardFor(int64_t id) { return shards_[static_cast<uint64_t>(id) % kShards]; }
  void Remove(Shard& s, int64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu);
  void EvictOne(Shard& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu);

  const Options options_;
  const size_t per_shard_bytes_;
  const Clock& clock_;
  std::atomic<bool> notified_{false};
  std::array<Shard, kShards> shards_;
  std::array<SlugShard, kShards> slugs_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_CACHE_H_
