// The in-memory aggregate of article views: exact counts in time buckets,
// unique-visitor sketches, HOT scores, rankings and series. Everything the
// queries read lives here; PostgreSQL (pg_storage.h) only makes it durable
// and shares it between replicas.
//
// Layout. Articles are spread over striped shards (a mutex each) by a hash
// of their id, so ingest threads rarely contend. Each article keeps its
// buckets sorted by start with *cumulative* totals (views, and the HOT
// mass in log form), so the total of any window is two binary searches:
// cum(end) - cum(start). That keeps a 24 h ranking over 100k articles
// linear in the number of articles rather than in articles x minutes (one
// pass serves the window and the previous one, which share a boundary), and
// makes compaction (minute -> hour) and expiry a matter of dropping
// entries. Late events update the cumulative totals of the later buckets.
//
// HOT. score = Σ 2^(-(now - t_view) / half_life) over the window's views.
// Buckets keep log2(Σ 2^(t_view / half_life)) cumulatively (t in seconds
// since the epoch), which never needs rescoring as time passes: the score
// at query time is 2^(L - now / half_life), and the ranking by L equals the
// ranking by score. Window sums subtract in the log domain.
//
// Unique visitors. One HyperLogLog per article per hour for the whole
// retention, plus one per minute from the start of the previous hour on.
// A window merges the minute sketches it covers and the hour sketches
// before that (so a window reaching back beyond the previous hour counts
// its oldest hour in full: the estimate is for the window rounded out to
// whole hours there). Reported unique visitors never exceed views.
//
// Durability hooks. Every local change is also recorded as a pending delta
// per (article, bucket): views, HOT mass and the sketch registers it
// raised. TakePending() hands them to the flusher; Apply*() feeds deltas
// of other replicas and restored state back in without recording them.
// The dedup marks of the counted views (ingest_rules.h SeenMark) are kept
// with them under the same shard lock, so a mark is flushed in exactly the
// flush that holds its view's count: both become durable, or both are
// lost, together.
//
//   ViewStore store({.retention = absl::Hours(168)}, clock);
//   uint64_t ticket = store.Add("a1", view_time, visitor_hash, true, nullptr);
//   TrendingResult r = store.Trending({.window = absl::Hours(1), .limit = 10});
#ifndef NEWSGRID_TRENDING_SERVICE_VIEW_STORE_H_
#define NEWSGRID_TRENDING_SERVICE_VIEW_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "trending-service/article_metadata.h"
#include "trending-service/clock.h"
#include "trending-service/hll.h"
#include "trending-service/ingest_rules.h"
#include "trending-service/windows.h"

namespace newsgrid::trending {

struct StoreOptions {
  absl::Duration retention = absl::Hours(24 * 7);
  absl::Duration hot_half_life = absl::Hours(1);
  int shards = 64;
  // Dedup marks waiting for a flush, all shards together (16 bytes each).
  // Beyond it marks are dropped: those views are then deduplicated only by
  // the replica that counted them, until its filter forgets them.
  size_t max_pending_seen = size_t{1} << 22;
};

// The dedup keys of a counted view; 0: none (no visitor, no event id).
struct DedupKeys {
  uint64_t visitor = 0;  // MixHash(salted visitor hash, article hash)
  uint64_t event = 0;    // hash of the event id
};

// Dedup marks of counted views, by filter.
struct SeenMarks {
  std::vector<SeenMark> visitors;
  std::vector<SeenMark> events;
  size_t size() const { return visitors.size() + events.size(); }
  bool empty() const { return visitors.empty() && events.empty(); }
  void Append(SeenMarks newer);
  // Drops marks beyond `max` in all, from the front: the oldest flushes'
  // (Append puts newer ones behind). Returns how many.
  size_t KeepNewest(size_t max);
};

enum class RankMetric { kViews, kUniqueVisitors, kHot };

// One bucket's change, as flushed to and read from PostgreSQL.
struct BucketDelta {
  std::string article;  // {article} id
  int32_t start_min = 0;
  int32_t width_min = 1;  // 1 or 60
  int64_t views = 0;
  // Σ 2^((t_view - bucket start) / half_life): linear and additive, so
  // PostgreSQL can sum it like the counts.
  double hot = 0;
  // Sketch registers raised (apply to the minute and the hour sketch).
  Hll raises;
};

struct PendingBatch {
  std::vector<BucketDelta> deltas;
  std::vector<std::string> batch_ids;
  SeenMarks seen;           // dedup marks of the views counted in `deltas`
  uint64_t seen_dropped = 0;  // marks dropped by max_pending_seen
  uint64_t flush_seq = 0;  // tickets <= flush_seq are in this batch
  bool empty() const { return deltas.empty() && batch_ids.empty() && seen.empty(); }
  // Adds `newer` into this batch (a failed flush retried with new data).
  void Absorb(PendingBatch newer);
};

struct TrendingQuery {
  absl::Duration window = absl::Hours(1);
  RankMetric metric = RankMetric::kViews;
  int limit = 10;
  std::string section;
  std::string tag;
  std::string author;
  absl::flat_hash_set<std::string> exclude;  // {article} ids
};

struct RankedEntry {
  std::string article;  // {article} id
  int64_t views = 0;
  int64_t unique_visitors = 0;
  double score = 0;
  int rank = 0;
  int previous_rank = 0;  // 0: not in the previous window's top `limit`
  std::optional<ArticleSummary> summary;
};

struct TrendingResult {
  std::vector<RankedEntry> entries;
  absl::Time compute_time;
  absl::Duration window;
  absl::Duration resolution;
};

struct SeriesPoint {
  int32_t start_min = 0;
  int64_t views = 0;
  int64_t unique_visitors = 0;
};

struct ArticleSeries {
  std::vector<SeriesPoint> points;
  int64_t total_views = 0;
  int64_t unique_visitors = 0;
  double hot_score = 0;
  absl::Time compute_time;
  int32_t granularity_min = 1;
};

struct StoreStats {
  size_t articles = 0;
  size_t buckets = 0;
  size_t sketches = 0;
  size_t sketch_bytes = 0;
};

class ViewStore {
 public:
  ViewStore(StoreOptions options, const Clock& clock);
  ~ViewStore();
  ViewStore(const ViewStore&) = delete;
  ViewStore& operator=(const ViewStore&) = delete;

  // Counts one view (already validated, deduplicated and inside retention).
  // `metadata` (may be null) updates the article's event metadata. Returns
  // the flush ticket: the view is durable once flush number >= ticket is.
  // `keys` are kept as the view's dedup marks for the same flush.
  uint64_t Add(absl::string_view article, absl::Time view_time, uint64_t visitor_hash,
               bool has_visitor, const ArticleMetadata* metadata, DedupKeys keys = {});

  // Records a RecordViews batch id for persistence; returns its ticket.
  uint64_t AddBatchId(std::string batch_id);

  // Takes everything recorded since the last call, under a new flush number.
  PendingBatch TakePending();

  // A delta of another replica or from PostgreSQL at start: counts go into
  // the bucket (re-placed by this replica's horizons), raises into the
  // minute and hour sketches. Not recorded as pending.
  void ApplyDelta(const BucketDelta& delta);
  // Merges a stored sketch into exactly that sketch (restore).
  void MergeSketch(absl::string_view article, int32_t start_min, int32_t width_min,
                   const Hll& sketch);

  // Source metadata for an article (wins over event metadata).
  void SetSourceInfo(absl::string_view article, ArticleInfo info);

  // Compacts minute buckets into hours, expires buckets and sketches beyond
  // retention, drops articles left with nothing.
  void Maintain();

  TrendingResult Trending(const TrendingQuery& query) const;
  ArticleSeries Series(absl::string_view article, absl::Duration window,
                       int32_t granularity_min) const;

  StoreStats Stats() const;
  const StoreOptions& options() const { return options_; }
  absl::Time Now() const { return clock_.Now(); }

  // HOT helpers, public for tests.
  double HotLogOf(absl::Time view_time) const;
  double HotScoreAt(double hot_log, absl::Time now) const;

 private:
  struct Article;
  struct Shard;
  Shard& ShardFor(absl::string_view article) const;
  // The caller holds shard.mu. (Not spelled as a lock annotation: Shard is
  // completed only in the .cc, and clang resolves annotation arguments.)
  Article& GetOrCreate(Shard& shard, absl::string_view article);
  void AddToBucket(Article& a, int32_t minute, int32_t now_min, uint32_t views, double hot_log);
  bool AddToSketches(Article& a, int32_t minute, int32_t now_min, uint32_t index, uint8_t rho);

  // Top `limit` of a window and of the window before it (rank change), local
  // to one shard's articles; VIEWS and HOT take both in one pass.
  struct Candidate;
  struct Ranked;
  void CollectTop(const Shard& shard, const TrendingQuery& query, const WindowSpec& w,
                  int32_t fine_start, Ranked& out) const;
  void CollectTopUnique(const Shard& shard, const TrendingQuery& query, const WindowSpec& w,
                        int32_t fine_start, std::vector<Candidate>& out) const;
  Ranked Rank(const TrendingQuery& query, const WindowSpec& w, int32_t fine_start) const;

  const StoreOptions options_;
  const Clock& clock_;
  const double half_life_seconds_;
  const size_t max_seen_per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
  mutable absl::Mutex batch_ids_mu_;
  std::vector<std::string> batch_ids_ ABSL_GUARDED_BY(batch_ids_mu_);
  uint64_t batch_ids_seq_ ABSL_GUARDED_BY(batch_ids_mu_) = 1;
};

// log2(2^a + 2^b) and log2(2^a - 2^b) (b <= a), with -inf for zero.
double LogAdd2(double a, double b);
double LogSub2(double a, double b);

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_VIEW_STORE_H_
