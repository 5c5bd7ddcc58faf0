// Rankings served from memory: a 24 h top 10 over 100k articles scans every
// article (tens of milliseconds), while a news site asks the same few
// questions (front page, section pages) hundreds of times a second. The
// cache keeps the store's result per normalized query (window, metric,
// limit, filters, sorted exclusions) and serves it while it is younger than
// `max_staleness`; a background refresher recomputes the entries read
// recently once they are `refresh_after` old, so readers rarely compute.
//
// Guarantees: a served result was computed at most `max_staleness` ago (its
// compute_time says when), or at most `max_staleness + overload_grace` ago
// while its recomputation is already running (so an overloaded machine
// serves slightly older rankings instead of making readers queue behind a
// scan); one computation per key at a time (concurrent readers of a missing
// or expired entry wait for it: single flight); at most
// `max_entries` keys (the least recently read one goes); results cheaper to
// compute than `min_compute_time` are not cached, so a small store answers
// with what was just written. Invalidate(query) makes the next read of that
// query compute afresh (used when hydration learns that an article in the
// ranking is hidden or described differently); a computation that started
// before the invalidation is not stored.
//
//   RankingCache cache({.max_staleness = absl::Seconds(1)}, clock,
//                      [&store](const TrendingQuery& q) { return store.Trending(q); });
//   cache.Start();  // background refresh
//   TrendingResult r = cache.Get(query);
#ifndef NEWSGRID_TRENDING_SERVICE_RANKING_CACHE_H_
#define NEWSGRID_TRENDING_SERVICE_RANKING_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "runtime/clock.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

struct RankingCacheOptions {
  // Never serve a result older than this, except as below.
  absl::Duration max_staleness = absl::Seconds(1);
  // While the entry is being recomputed (the refresher running late on a
  // saturated machine), readers get the previous result if it is younger
  // than max_staleness + overload_grace rather than wait for the scan.
  absl::Duration overload_grace = absl::Seconds(5);
  // The refresher recomputes entries this old (and read within idle_expiry).
  absl::Duration refresh_after = absl::Milliseconds(500);
  // Entries not read for this long are dropped by the refresher.
  absl::Duration idle_expiry = absl::Seconds(30);
  // Results computed faster than this are not cached.
  absl::Duration min_compute_time = absl::Milliseconds(1);
  size_t max_entries = 256;
};

struct RankingCacheStats {
  uint64_t hits = 0;
  uint64_t computes = 0;   // by readers (misses) and the refresher
  uint64_t refreshes = 0;  // by the refresher
  uint64_t stale_served = 0;  // within overload_grace, while recomputing
  size_t entries = 0;
};

class RankingCache {
 public:
  using Compute = std::function<TrendingResult(const TrendingQuery&)>;

  RankingCache(RankingCacheOptions options, const Clock& clock, Compute compute);
  ~RankingCache();  // stops the refresher
  RankingCache(const RankingCache&) = delete;
  RankingCache& operator=(const RankingCache&) = delete;

  TrendingResult Get(const TrendingQuery& query);
  // The answer Get would give without computing or waiting: null when the
  // entry is missing, invalidated or too old. Never blocks on a computation
  // (the cache's mutex is only held to look the entry up).
  std::shared_ptr<const TrendingResult> TryGet(const TrendingQuery& query);
  void Invalidate(const TrendingQuery& query);
  // Asks the refresher to recompute `query` on its next pass, while the
  // current result is still served (unlike Invalidate, no reader waits).
  void RequestRefresh(const TrendingQuery& query);

  // One refresher pass: recomputes due entries, drops idle ones. Start()
  // runs it every refresh_after / 4 on a thread; tests call it directly.
  void RefreshDue();
  void Start();
  void Stop();

  RankingCacheStats Stats() const;
  const RankingCacheOptions& options() const { return options_; }

  // The normalized key of a query (equal for equivalent queries).
  static std::string KeyOf(const TrendingQuery& query);

 private:
  struct Entry {
    TrendingQuery query;
    std::shared_ptr<const TrendingResult> result;
    absl::Time computed_at = absl::InfinitePast();  // when the computation started
    absl::Time last_read = absl::InfinitePast();
    uint64_t generation = 0;  // bumped by Invalidate
    bool computing = false;
    bool cheap = false;  // last computation was below min_compute_time
    bool refresh_requested = false;  // by RequestRefresh
  };
  // Computes outside the lock and stores when still wanted; `mu_` held on
  // entry and exit.
  std::shared_ptr<const TrendingResult> ComputeLocked(const std::string& key, Entry& e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Fresh(const Entry& e, absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictOne() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RankingCacheOptions options_;
  const Clock& clock_;
  const Compute compute_;
  mutable absl::Mutex mu_;
  // Entries are stable in memory (node map): a reader waits on its entry.
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  RankingCacheStats stats_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<absl::Notification> stop_;
  std::thread refresher_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_RANKING_CACHE_H_
