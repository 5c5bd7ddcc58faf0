// The in-memory aggregate of article views: exact counts in time buckets,
// unique-visitor sketches, HOT scores, rankings and series. Everything the
// queries read lives here; PostgreSQL (pg_storage.h) only makes it durable
// and shares it between replicas.
//
// Layout. Articles are spread over striped shards (a mutex each) by a hash
// of their id. A shard keeps its articles in a slot vector (a map from id to
// slot beside it), so scans and maintenance walk it in slices of
// kSliceArticles, releasing the lock between slices: no lock is ever held
// for a pass over a whole shard, and a writer waits for at most one slice.
// Ingest takes each shard's lock once per batch (AddBatch), never once per
// view, and counts a shard it finds locked after the free ones: a batch that
// blocked at each shard in turn would follow a scan or maintenance pass
// slice by slice to its end (newsgrid_lock_wait_seconds{lock="store_shards"}
// has each batch's wait).
//
// Counts (windows.h has the tiers). Every view is counted in three tiers:
// a ring of 1-minute buckets for the last 2 hours (allocated while the
// article has views in them), 10-minute buckets for the last 25 hours and
// 1-hour buckets for the retention. The two coarser tiers keep cumulative
// totals, so any window of theirs is two binary searches; the ring is
// summed (at most 120 buckets). So the memory of an article is bounded by
// the configuration (about 1.9 KiB for the ring, 24 bytes per 10-minute or
// hour bucket with views: at most 150 and retention / 1 h of them) whatever
// the traffic, and a store with one view per article costs a few hundred
// bytes per article.
//
// HOT. score = Σ 2^(-(now - t_view) / half_life) over the window's views.
// The ring keeps Σ 2^((t - bucket start) / half_life) per minute; the
// cumulative tiers keep log2(Σ 2^(t / half_life)) (t in seconds since the
// epoch), which never needs rescoring as time passes: the score at query
// time is 2^(L - now / half_life). Window sums subtract in the log domain.
//
// Unique visitors. Sketches per hour for the retention and per 10 minutes
// for the last 70 minutes. A window merges the 10-minute sketches it
// covers and the hour sketches before that (rounded out to whole periods).
// A window no longer than `exact_uniques_within` (the dedup window: a
// repeat within it is never counted) at minute resolution counts its
// visitors exactly: the counted views that carried a visitor id. Reported
// unique visitors never exceed views. Sketch memory is bounded by
// `sketch_memory_limit`: over it, maintenance folds the oldest dense
// sketches to precision 11 (2.3% error), then 8 (6.5%), then drops them
// (such a period counts its views as its unique visitors, an upper bound);
// under 60% of it new sketches get the full precision again. A horizon
// halves once per pass, from the age of the oldest sketch it could shrink.
// The horizons are exported (SketchHorizons).
//
// Articles. At most `max_articles` articles are held; a view of a new
// article beyond that is not counted (AddBatch reports it) until expiry
// frees room. Articles leave the store once all their buckets expired.
//
// Engagement. Counted pings (AddPings) add their engaged seconds to tiers
// of their own beside the views' (a minute ring for 2 h, 10-minute and hour
// buckets), allocated only for articles that get pings, and keep each
// reader's last ping (ConcurrentReaders): the concurrent readers are the
// readers with a ping within `concurrent_window`. Pending deltas carry the engaged
// seconds and the readers' pings, so replicas and restarts see both.
//
// Durability hooks. Every local change is also recorded as a pending delta
// per (article, minute) (per hour beyond the 25 h horizon): views, visitor
// views, HOT mass and the sketch registers it raised, in a per-shard buffer
// that TakePending() swaps for an empty one (O(shards) under the locks);
// Apply*() feed deltas of other replicas and restored state back in
// without recording them. The dedup marks of the counted views
// (ingest_rules.h SeenMark) are kept in the same buffer, so a mark is
// flushed in exactly the flush that holds its view's count: both become
// durable, or both are lost, together.
//
//   ViewStore store({.retention = absl::Hours(168)}, clock);
//   uint64_t ticket = store.Add("a1", view_time, visitor_hash, true, nullptr);
//   TrendingResult r = store.Trending({.window = absl::Hours(1), .limit = 10});
#ifndef NEWSGRID_TRENDING_SERVICE_VIEW_STORE_H_
#define NEWSGRID_TRENDING_SERVICE_VIEW_STORE_H_

#include <array>
#include <atomic>
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
#include "absl/types/span.h"
#include "runtime/clock.h"
#include "trending-service/article_metadata.h"
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
  // Articles held; views of new articles beyond it are not counted.
  size_t max_articles = 1'000'000;
  // Heap bytes of the unique-visitor sketches (see the header comment).
  size_t sketch_memory_limit = size_t{256} << 20;
  // Minute-resolution windows up to this long count unique visitors as
  // their visitor views (the dedup window); zero: always from sketches.
  absl::Duration exact_uniques_within = absl::ZeroDuration();
  // A reader with a ping this recent is reading now (CONCURRENT_READERS).
  absl::Duration concurrent_window = absl::Seconds(60);
  // AVERAGE_ENGAGED_TIME ranks articles with at least this many unique
  // visitors in the window.
  int64_t min_visitors_for_average = 5;
};

// The dedup keys of a counted view; 0: none (no visitor, no event id).
struct DedupKeys {
  uint64_t visitor = 0;  // MixHash(salted visitor hash, article hash)
  uint64_t event = 0;    // hash of the event id
  uint64_t ping = 0;     // a counted ping: its page view's key
};

// Dedup marks of counted views, by filter, and the page-view marks of
// engagement pings: `page_views` registers page views (their VIEW, even
// when deduplicated), `pings` the counted pings (the ping interval; they
// also keep their page view known).
struct SeenMarks {
  std::vector<SeenMark> visitors;
  std::vector<SeenMark> events;
  std::vector<SeenMark> page_views;
  std::vector<SeenMark> pings;
  // The four lists, in the order seen_log stores them.
  std::array<std::vector<SeenMark>*, 4> lists() { return {&visitors, &events, &page_views, &pings}; }
  std::array<const std::vector<SeenMark>*, 4> lists() const {
    return {&visitors, &events, &page_views, &pings};
  }
  size_t size() const { return visitors.size() + events.size() + page_views.size() + pings.size(); }
  bool empty() const { return size() == 0; }
  void Append(SeenMarks newer);
  // Drops marks beyond `max` in all, from the front: the oldest flushes'
  // (Append puts newer ones behind). Returns how many.
  size_t KeepNewest(size_t max);
};

enum class RankMetric {
  kViews,
  kUniqueVisitors,
  kHot,
  kEngagedTime,
  kAverageEngagedTime,
  kConcurrentReaders,
};

// A reader's ping, as carried to other replicas (concurrent readers).
struct ReaderPing {
  uint64_t reader = 0;  // salted visitor hash (or the page view's key)
  int64_t time_ms = 0;  // Unix milliseconds
  bool operator==(const ReaderPing&) const = default;
};

// One bucket's change, as flushed to and read from PostgreSQL.
struct BucketDelta {
  std::string article;  // {article} id
  int32_t start_min = 0;
  int32_t width_min = 1;  // 1 or 60
  int64_t views = 0;
  // Σ 2^((t_view - bucket start) / half_life): linear and additive, so
  // PostgreSQL can sum it like the counts.
  double hot = 0;
  // Sketch registers raised (full precision; apply to every sketch of the
  // bucket's time).
  Hll raises;
  // Views that carried a visitor id (exact unique visitors of short windows).
  int64_t visitors = 0;
  // Engaged seconds of the counted pings.
  int64_t engaged = 0;
  // The counted pings' readers (concurrent readers elsewhere).
  std::vector<ReaderPing> readers;
};

struct PendingBatch {
  std::vector<BucketDelta> deltas;
  std::vector<std::string> batch_ids;
  SeenMarks seen;           // dedup marks of the views counted in `deltas`
  uint64_t seen_dropped = 0;  // marks dropped by max_pending_seen
  uint64_t flush_seq = 0;  // tickets <= flush_seq are in this batch
  int64_t views = 0;       // views counted in `deltas`
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
  bool filtered() const { return !section.empty() || !tag.empty() || !author.empty(); }
};

// True when an article described by `m` passes the query's section, tag and
// author filters.
bool MetadataMatches(const TrendingQuery& q, const ArticleMetadata& m);

struct RankedEntry {
  std::string article;  // {article} id
  int64_t views = 0;
  int64_t unique_visitors = 0;
  double score = 0;
  int rank = 0;
  int previous_rank = 0;  // 0: not in the previous window's top `limit`
  int64_t engaged_seconds = 0;
  double average_engaged_seconds = 0;  // per unique visitor
  int64_t concurrent_readers = 0;
  std::optional<ArticleSummary> summary;
};

struct TrendingResult {
  std::vector<RankedEntry> entries;
  // Filtered queries: articles that would rank but whose metadata is not
  // known yet (no event metadata, nothing from the source), best first.
  // Rankings resolves them through the source before answering.
  std::vector<RankedEntry> unresolved;
  absl::Time compute_time;
  absl::Duration window;
  absl::Duration resolution;
  // Some candidates could not be checked against the filters in time.
  bool partial = false;
};

struct SeriesPoint {
  int32_t start_min = 0;
  int64_t views = 0;
  int64_t unique_visitors = 0;
  int64_t engaged_seconds = 0;
};

struct ArticleSeries {
  std::vector<SeriesPoint> points;
  int64_t total_views = 0;
  int64_t unique_visitors = 0;
  double hot_score = 0;
  int64_t engaged_seconds = 0;
  double average_engaged_seconds = 0;
  int64_t concurrent_readers = 0;
  absl::Time compute_time;
  int32_t granularity_min = 1;
};

// A stored sketch of one (article, period).
struct StoredSketch {
  std::string article;
  int32_t start_min = 0;
  int32_t width_min = 60;  // 10 or 60
  Hll sketch;
};

// Where a checkpoint taken in steps (ViewStore::ChangedSketches) goes on.
// A fresh cursor begins a checkpoint.
struct SketchCursor {
  size_t shard = 0;
  size_t slot = 0;
  bool begun = false;
  bool done = false;  // every article visited
};

// Sizes as of the last maintenance pass (articles and pending: now).
struct StoreStats {
  size_t articles = 0;
  size_t minute_rings = 0;
  size_t buckets = 0;  // 10-minute and hour buckets
  size_t sketches = 0;
  size_t sketch_bytes = 0;
  size_t engaged_articles = 0;  // articles with engagement tiers
  size_t readers = 0;           // reader entries kept for concurrent readers
  size_t bytes = 0;  // estimated heap bytes of the articles, all included
  size_t pending_deltas = 0;
  size_t pending_marks = 0;
  uint64_t rejected_full = 0;  // views not counted: max_articles reached
};

// Sketch precision by age under the memory bound (minutes): sketches of
// periods younger than full_min have precision 14, younger than mid_min 11,
// younger than keep_min 8; older ones are dropped.
struct SketchHorizons {
  int32_t full_min = 0;
  int32_t mid_min = 0;
  int32_t keep_min = 0;
};

// One view to count (already validated, deduplicated, inside retention).
struct ViewToCount {
  absl::string_view article;  // {article} id
  absl::Time time;
  uint64_t visitor_hash = 0;
  bool has_visitor = false;
  const ArticleMetadata* metadata = nullptr;  // may be null
  DedupKeys keys;
};

struct CumTier;  // view_store.cc: a tier of cumulative counts

// One engagement ping to count (already validated, inside its page view's
// rules).
struct PingToCount {
  absl::string_view article;  // {article} id
  absl::Time time;
  uint64_t reader = 0;  // salted visitor hash, or the page view's key
  int64_t engaged_seconds = 0;
  const ArticleMetadata* metadata = nullptr;  // may be null
  DedupKeys keys;  // event and ping
};

class ViewStore {
 public:
  // Articles per lock hold of scans and maintenance.
  static constexpr size_t kSliceArticles = 256;
  // Articles per lock hold of a checkpoint's copy, which allocates a copy of
  // every changed sketch: fewer, because the copying thread runs at a low
  // priority and a hold lasts as long as it waits for a CPU (README).
  static constexpr size_t kCheckpointSliceArticles = 32;
  // Work per writer-lock hold of maintenance, at most (plus one article).
  static constexpr int64_t kMaintenanceSliceNanos = 500'000;

  ViewStore(StoreOptions options, const Clock& clock);
  ~ViewStore();
  ViewStore(const ViewStore&) = delete;
  ViewStore& operator=(const ViewStore&) = delete;

  // Counts the views, taking each shard's lock once. counted[i] is false
  // for a view of a new article while the store holds max_articles (not
  // counted). Returns the flush ticket: the views are durable once flush
  // number >= ticket is. `keys` are kept as the views' dedup marks for the
  // same flush.
  uint64_t AddBatch(absl::Span<const ViewToCount> views, bool* counted);
  // One view; returns its ticket, 0 when it was not counted.
  uint64_t Add(absl::string_view article, absl::Time view_time, uint64_t visitor_hash,
               bool has_visitor, const ArticleMetadata* metadata, DedupKeys keys = {});

  // Counts engagement pings like AddBatch counts views (a lock hold per
  // shard): engaged seconds, the reader's last ping, and the pending delta
  // with the ping's marks. counted[i] as in AddBatch.
  uint64_t AddPings(absl::Span<const PingToCount> pings, bool* counted);

  // Page views registered (page_views marks) for the next flush, so other
  // replicas accept their pings. Returns the flush ticket.
  uint64_t AddPageViews(absl::Span<const SeenMark> marks);

  // Records a RecordViews batch id for persistence; returns its ticket.
  uint64_t AddBatchId(std::string batch_id);

  // Takes everything recorded since the last call, under a new flush number:
  // one buffer swap per shard; the deltas are built outside the locks.
  PendingBatch TakePending();

  // Deltas of other replicas or from PostgreSQL at start: counts go into the
  // tiers, raises into the sketches. Not recorded as pending. A lock hold
  // per shard covers at most kSliceArticles deltas.
  void ApplyDeltas(absl::Span<const BucketDelta> deltas);
  void ApplyDelta(const BucketDelta& delta) { ApplyDeltas(absl::MakeConstSpan(&delta, 1)); }
  // Merges a stored sketch into exactly that sketch (restore). Width 10 or 60.
  void MergeSketch(absl::string_view article, int32_t start_min, int32_t width_min,
                   const Hll& sketch);

  // Source metadata for an article (wins over event metadata).
  void SetSourceInfo(absl::string_view article, ArticleInfo info);

  // One maintenance pass, a slice at a time: frees minute rings past 2 h,
  // expires buckets and sketches, keeps the sketch memory bound, drops
  // articles left with nothing and refreshes Stats().
  void Maintain();

  TrendingResult Trending(const TrendingQuery& query) const;
  ArticleSeries Series(absl::string_view article, absl::Duration window,
                       int32_t granularity_min) const;

  // The sketches whose registers changed since the last completed
  // checkpoint, for PostgreSQL (pg_storage.h SketchSource), taken in steps:
  // each call copies those of the next articles, stopping once about
  // `max_bytes` of registers are copied, until `cursor.done`. Call
  // CheckpointDone() once all are stored (else the next checkpoint takes
  // them again, with what changed since). A checkpoint copies one step's
  // sketches at a time: taking every changed sketch at once (a million
  // after a backfill) held hundreds of MB. One checkpoint at a time.
  //
  //   SketchCursor cursor;
  //   while (!cursor.done) Store(store.ChangedSketches(cursor, 2 << 20));
  //   store.CheckpointDone();
  std::vector<StoredSketch> ChangedSketches(SketchCursor& cursor, size_t max_bytes);
  // All of them in one step (tests).
  std::vector<StoredSketch> ChangedSketches();
  void CheckpointDone();

  StoreStats Stats() const;
  SketchHorizons sketch_horizons() const;
  // Views counted since the last TakePending (not yet handed to a flush).
  int64_t pending_views() const { return pending_views_.load(std::memory_order_relaxed); }
  const StoreOptions& options() const { return options_; }
  absl::Time Now() const { return clock_.Now(); }

  // HOT helpers, public for tests.
  double HotLogOf(absl::Time view_time) const;
  double HotScoreAt(double hot_log, absl::Time now) const;

 private:
  friend class ViewStoreTestPeer;
  struct Article;
  struct Engagement;
  struct Shard;
  struct Window;
  struct Sums;
  Shard& ShardFor(absl::string_view article) const;
  size_t ShardIndex(absl::string_view article) const;
  absl::Mutex& ShardMutex(absl::string_view article) const;  // for tests
  // The caller holds shard.mu. (Not spelled as a lock annotation: Shard is
  // completed only in the .cc, and clang resolves annotation arguments.)
  Article* Find(const Shard& shard, absl::string_view article) const;
  // within_limit: nullptr instead of a new article beyond max_articles.
  Article* GetOrCreate(Shard& shard, absl::string_view article, bool within_limit);
  void CountView(Shard& shard, Article& a, const ViewToCount& v, int32_t now_min);
  void CountPing(Shard& shard, Article& a, const PingToCount& p, int32_t now_min);
  // Keeps a dedup mark (key 0: none) in the shard's pending buffer, within
  // max_pending_seen.
  void KeepMark(struct PendingBuffer& pb, std::vector<SeenMark>& list, uint64_t key,
                int64_t time_ns);
  // The pending entry of `a` for the bucket PostgreSQL keeps `minute` in.
  struct PendingEntry& PendingFor(Shard& shard, Article& a, int32_t minute, int32_t now_min);
  // Counts items (views or pings) with `count`, grouped by shard, taking
  // each shard's lock once; counted[i] as in AddBatch. Returns the highest
  // flush ticket of those shards.
  template <typename Item, typename Count>
  uint64_t CountByShard(absl::Span<const Item> items, bool* counted, Count count);
  // Steps of CountByShard's prefetch chain: the article's own lines, then
  // what counting an item of `minute` touches behind its pointers (with
  // shard.mu held).
  static void PrefetchArticle(const Article& a);
  static void PrefetchParts(const Shard& shard, const Article& a, int32_t minute, int32_t now_min);
  static void PrefetchRegisters(const Article& a, const ViewToCount& v);
  static void PrefetchRegisters(const Article& a, const PingToCount& p);
  int64_t EngagedIn(const Article& a, int32_t s, int32_t e, int32_t r, const Window& win) const;
  int64_t ReadersNow(const Article& a, absl::Time now) const;
  void ApplyOne(Article& a, const BucketDelta& d, int32_t now_min);
  int SketchLevel(int32_t period_start, int32_t now_min) const;
  bool RaiseSketches(Article& a, int32_t minute, int32_t now_min, uint32_t index, uint8_t rho,
                     bool* all_full);
  // The age (minutes) of the oldest sketch each horizon could shrink:
  // dense at precision 14, dense at 11, any. -1: none.
  using FoldableAges = std::array<int32_t, 3>;
  void MaintainArticle(Article& a, int32_t now_min, int64_t& sketch_delta, FoldableAges& oldest);
  void AdjustSketchHorizons();
  Sums SumsOf(const Article& a, int32_t s, int32_t e, int32_t resolution, const Window& win,
              bool with_hot) const;
  // SumsOf over any tiers of the views' shape (the engagement's too).
  template <typename MinutesRing>
  Sums TierSums(const MinutesRing* minutes, const CumTier& tens, const CumTier& hours, int32_t s,
                int32_t e, int32_t resolution, const Window& win, bool with_hot) const;
  int64_t UniqueCount(const Article& a, int32_t s, int32_t e, int32_t resolution,
                      int32_t now_min, int64_t views) const;

  const StoreOptions options_;
  const Clock& clock_;
  const double half_life_seconds_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<size_t> articles_{0};
  std::atomic<int64_t> sketch_bytes_{0};
  std::atomic<uint64_t> rejected_full_{0};
  std::atomic<int64_t> pending_views_{0};
  // Dedup marks in the shards' pending buffers (the page views' aside),
  // bounded by max_pending_seen.
  std::atomic<int64_t> pending_marks_{0};
  std::atomic<int32_t> horizon_full_;
  std::atomic<int32_t> horizon_mid_;
  std::atomic<int32_t> horizon_keep_;
  // As of the last maintenance pass (Maintain only: one caller at a time).
  FoldableAges oldest_foldable_ = {-1, -1, -1};
  // Sketches record the generation they last changed in; a checkpoint takes
  // those changed since the last completed one.
  std::atomic<uint32_t> checkpoint_gen_{1};
  uint32_t checkpoint_since_ = 1;  // ChangedSketches / CheckpointDone only
  uint32_t checkpoint_next_ = 1;
  mutable absl::Mutex stats_mu_;
  StoreStats stats_ ABSL_GUARDED_BY(stats_mu_);
  // One TakePending at a time. It hands each shard a spare buffer, the one
  // taken from it the time before, emptied with its capacity kept: a fresh
  // buffer grown again every flush faulted in new pages all the time
  // (SeenMarks::Append, KeepMark and Absorb were most of ingest's page
  // faults; trending README, "The pages of each flush").
  absl::Mutex take_mu_;
  std::vector<struct PendingBuffer> spare_ ABSL_GUARDED_BY(take_mu_);
  mutable absl::Mutex batch_ids_mu_;
  std::vector<std::string> batch_ids_ ABSL_GUARDED_BY(batch_ids_mu_);
  std::vector<SeenMark> page_views_ ABSL_GUARDED_BY(batch_ids_mu_);
  uint64_t batch_ids_seq_ ABSL_GUARDED_BY(batch_ids_mu_) = 1;
};

// log2(2^a + 2^b) and log2(2^a - 2^b) (b <= a), with -inf for zero.
double LogAdd2(double a, double b);
double LogSub2(double a, double b);

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_VIEW_STORE_H_
