#include "trending-service/view_store.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/hash/hash.h"
#include "runtime/hold_timer.h"
#include "trending-service/concurrent_readers.h"
#include "trending-service/top_k.h"

namespace newsgrid::trending {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
// Sketch precisions by level (see SketchHorizons); level 3: no sketch.
constexpr int kLevelPrecision[3] = {Hll::kPrecision, 11, 8};

// Whether folding `h` to `precision` would shrink it. Only a dense sketch
// is folded: a sparse one holds 4 bytes a set register at any precision, so
// folding it saves nothing, and past 2^p / 16 registers at the lower
// precision it turns dense and grows (measured at the sketch limit: 94,717
// sparse sketches folded from 87 to 97 MiB, most of a 2.3 s pass). A sparse
// sketch keeps its precision until it turns dense.
bool FoldShrinks(const Hll& h, int precision) { return h.is_dense() && h.precision() > precision; }

}  // namespace

// The tiers, outside the anonymous namespace: the store's header names
// them (TierSums) for the views' and the engagement's tiers alike.

// A bucket of the cumulative tiers (10 minutes, 1 hour).
struct CumBucket {
  int32_t start;
  uint32_t views;
  uint32_t cum_views;  // through this bucket, modulo 2^32 (differences stay exact)
  uint32_t visitors;   // views with a visitor id: the unique-visitor bound without a sketch
  double cum_hot;      // log2 of the HOT mass through this bucket
};

// A cumulative tier: buckets sorted by start, with the totals before the
// first one (what expired).
struct CumTier {
  std::vector<CumBucket> buckets;
  uint32_t base_views = 0;
  double base_hot = kNegInf;

  uint32_t CumViewsBefore(int32_t t) const {
    auto it = std::lower_bound(buckets.begin(), buckets.end(), t,
                               [](const CumBucket& b, int32_t v) { return b.start < v; });
    return it == buckets.begin() ? base_views : std::prev(it)->cum_views;
  }
  double CumHotBefore(int32_t t) const {
    auto it = std::lower_bound(buckets.begin(), buckets.end(), t,
                               [](const CumBucket& b, int32_t v) { return b.start < v; });
    return it == buckets.begin() ? base_hot : std::prev(it)->cum_hot;
  }
  // Views of the buckets starting in [s, e).
  int64_t ViewsIn(int32_t s, int32_t e) const {
    if (buckets.empty() || e <= s) return 0;
    return static_cast<uint32_t>(CumViewsBefore(e) - CumViewsBefore(s));
  }
  double HotLogIn(int32_t s, int32_t e) const {
    if (buckets.empty() || e <= s) return kNegInf;
    return LogSub2(CumHotBefore(e), CumHotBefore(s));
  }
  void Add(int32_t start, uint32_t views, uint32_t visitors, double hot_log) {
    // A live view lands in the last bucket: found without a binary search,
    // whose probes are cache misses over a week of hours (168 buckets).
    auto it = !buckets.empty() && buckets.back().start == start
                  ? buckets.end() - 1
                  : std::lower_bound(buckets.begin(), buckets.end(), start,
                                     [](const CumBucket& b, int32_t v) { return b.start < v; });
    if (it == buckets.end() || it->start != start) {
      const uint32_t cum = it == buckets.begin() ? base_views : std::prev(it)->cum_views;
      const double hot = it == buckets.begin() ? base_hot : std::prev(it)->cum_hot;
      it = buckets.insert(it, CumBucket{start, 0, cum, 0, hot});
    }
    it->views += views;
    it->visitors += visitors;
    // A live view lands in the last bucket; only a late one updates more.
    for (; it != buckets.end(); ++it) {
      it->cum_views += views;
      it->cum_hot = LogAdd2(it->cum_hot, hot_log);
    }
  }
  // Drops the buckets starting before `t`; returns how many.
  size_t ExpireBefore(int32_t t) {
    size_t drop = 0;
    while (drop < buckets.size() && buckets[drop].start < t) {
      base_views = buckets[drop].cum_views;
      base_hot = buckets[drop].cum_hot;
      ++drop;
    }
    buckets.erase(buckets.begin(), buckets.begin() + static_cast<ptrdiff_t>(drop));
    if (buckets.empty() && drop > 0) buckets.shrink_to_fit();
    return drop;
  }
};

// A minute of views in the ring. One minute's fields together: a view
// touches one cache line.
struct MinuteBucket {
  uint32_t views;
  uint32_t visitors;
  double hot;  // Σ 2^((t - minute start) / half_life)
};
// A minute of engagement: only the engaged seconds (a quarter of a views'
// minute, so an article being read costs 480 bytes here, not 1.9 KiB).
struct EngagedMinute {
  uint32_t views;  // engaged seconds (named like the views' count: TierSums reads both)
};

// The 1-minute buckets of the last kFineBuckets minutes, as a ring.
template <typename Bucket>
struct Ring {
  int32_t head;  // newest minute written; older than head - kFineBuckets: zero
  Bucket minute[kFineBuckets];

  static size_t Slot(int32_t minute) {
    const int32_t r = minute % kFineBuckets;
    return static_cast<size_t>(r < 0 ? r + kFineBuckets : r);
  }
  explicit Ring(int32_t m) : head(m), minute{} {}
  // The bucket of minute `m`, clearing the minutes the ring skipped (all of
  // it after a long pause); nullptr when `m` is older than the ring.
  Bucket* At(int32_t m) {
    if (m > head) {
      for (int32_t k = std::max(head + 1, m - kFineBuckets + 1); k <= m; ++k) {
        minute[Slot(k)] = Bucket{};
      }
      head = m;
    }
    return m <= head - kFineBuckets ? nullptr : &minute[Slot(m)];
  }
  bool Holds(int32_t minute) const { return minute <= head && minute > head - kFineBuckets; }
  template <typename Fn>
  void ForEach(int32_t s, int32_t e, Fn&& fn) const {
    for (int32_t m = std::max(s, head - kFineBuckets + 1); m < std::min(e, head + 1); ++m) {
      fn(m, Slot(m));
    }
  }
};

struct MinuteRing : Ring<MinuteBucket> {
  using Ring::Ring;
  void Add(int32_t m, uint32_t n, uint32_t v, double h) {
    if (MinuteBucket* b = At(m)) {
      b->views += n;
      b->visitors += v;
      b->hot += h;
    }
  }
  int64_t VisitorsIn(int32_t s, int32_t e) const {
    int64_t n = 0;
    ForEach(s, e, [&](int32_t, size_t i) { n += minute[i].visitors; });
    return n;
  }
};

struct EngagedRing : Ring<EngagedMinute> {
  using Ring::Ring;
  void Add(int32_t m, uint32_t seconds) {
    if (EngagedMinute* b = At(m)) b->views += seconds;
  }
};

namespace {

double HotOf(const MinuteBucket& b) { return b.hot; }
double HotOf(const EngagedMinute&) { return 0; }

// Engaged seconds per unique visitor; 0 without visitors.
double PerVisitor(int64_t engaged_seconds, int64_t visitors) {
  return visitors > 0 ? static_cast<double>(engaged_seconds) / static_cast<double>(visitors) : 0;
}

struct Sketch {
  int32_t start;
  uint32_t changed_gen;  // checkpoint generation of the last change
  Hll hll;
};
using SketchList = std::vector<Sketch>;

// Accounted sketch memory: its registers and its entry in the list.
Sketch& SketchAt(SketchList& list, int32_t start, int precision, int64_t& bytes) {
  // The newest sketch first, as in CumTier::Add.
  if (!list.empty() && list.back().start == start) return list.back();
  auto it = std::lower_bound(list.begin(), list.end(), start,
                             [](const Sketch& e, int32_t k) { return e.start < k; });
  if (it == list.end() || it->start != start) {
    it = list.insert(it, Sketch{start, 0, Hll(precision)});
    bytes += static_cast<int64_t>(sizeof(Sketch));
  }
  return *it;
}

}  // namespace

double LogAdd2(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double hi = std::max(a, b);
  const double lo = std::min(a, b);
  return hi + std::log1p(std::exp2(lo - hi)) / M_LN2;
}

double LogSub2(double a, double b) {
  if (b == kNegInf) return a;
  if (!(a > b)) return kNegInf;
  return a + std::log1p(-std::exp2(b - a)) / M_LN2;
}

bool MetadataMatches(const TrendingQuery& q, const ArticleMetadata& m) {
  if (!q.section.empty() && m.section != q.section) return false;
  if (!q.tag.empty() && std::find(m.tags.begin(), m.tags.end(), q.tag) == m.tags.end()) {
    return false;
  }
  if (!q.author.empty() &&
      std::find(m.authors.begin(), m.authors.end(), q.author) == m.authors.end()) {
    return false;
  }
  return true;
}

void PendingBatch::Absorb(PendingBatch newer) {
  if (empty()) {
    // The usual case (the last flush succeeded): take it whole instead of
    // indexing and copying every delta.
    newer.flush_seq = std::max(flush_seq, newer.flush_seq);
    newer.seen_dropped += seen_dropped;
    newer.views += views;
    *this = std::move(newer);
    return;
  }
  absl::flat_hash_map<std::tuple<std::string, int32_t, int32_t>, size_t> index;
  for (size_t i = 0; i < deltas.size(); ++i) {
    index[{deltas[i].article, deltas[i].start_min, deltas[i].width_min}] = i;
  }
  for (BucketDelta& d : newer.deltas) {
    auto it = index.find(std::make_tuple(d.article, d.start_min, d.width_min));
    if (it == index.end()) {
      index[{d.article, d.start_min, d.width_min}] = deltas.size();
      deltas.push_back(std::move(d));
    } else {
      BucketDelta& into = deltas[it->second];
      into.views += d.views;
      into.visitors += d.visitors;
      into.hot += d.hot;
      into.raises.Merge(d.raises);
      into.engaged += d.engaged;
      into.readers.insert(into.readers.end(), d.readers.begin(), d.readers.end());
    }
  }
  for (std::string& id : newer.batch_ids) batch_ids.push_back(std::move(id));
  seen.Append(std::move(newer.seen));
  seen_dropped += newer.seen_dropped;
  views += newer.views;
  flush_seq = std::max(flush_seq, newer.flush_seq);
}

void SeenMarks::Append(SeenMarks newer) {
  const auto into_lists = lists();
  const auto from_lists = newer.lists();
  for (size_t k = 0; k < into_lists.size(); ++k) {
    std::vector<SeenMark>* into = into_lists[k];
    std::vector<SeenMark>* from = from_lists[k];
    if (into->empty()) {
      *into = std::move(*from);
    } else {
      into->insert(into->end(), from->begin(), from->end());
    }
  }
}

size_t SeenMarks::KeepNewest(size_t max) {
  if (size() <= max) return 0;
  const size_t total = size();
  const size_t excess = total - max;
  // From every list in proportion to its size; the remainder from the
  // visitors' (the largest by far).
  size_t dropped = 0;
  for (std::vector<SeenMark>* list : {&events, &page_views, &pings, &visitors}) {
    const size_t share = list == &visitors ? excess - dropped : excess * list->size() / total;
    const size_t n = std::min(list->size(), share);
    list->erase(list->begin(), list->begin() + static_cast<ptrdiff_t>(n));
    dropped += n;
  }
  return dropped;
}

// Engagement of an article with pings: engaged seconds in tiers shaped like
// the views' (a ring of seconds, and CumTiers with `views` holding seconds
// and `visitors` the pings), and each reader's last ping.
struct ViewStore::Engagement {
  std::unique_ptr<EngagedRing> minutes;
  CumTier tens;
  CumTier hours;
  ConcurrentReaders readers;

  explicit Engagement(absl::Duration concurrent_window) : readers(concurrent_window) {}
  bool Empty() const {
    return minutes == nullptr && tens.buckets.empty() && hours.buckets.empty() && readers.empty();
  }
  size_t Bytes() const {
    return sizeof(Engagement) + (minutes ? sizeof(EngagedRing) : 0) +
           (tens.buckets.capacity() + hours.buckets.capacity()) * sizeof(CumBucket) +
           readers.Bytes();
  }
};

struct ViewStore::Article {
  std::string id;
  uint32_t slot = 0;
  std::unique_ptr<MinuteRing> minutes;
  CumTier tens;   // 10-minute buckets from the compaction horizon on
  CumTier hours;  // 1-hour buckets for the retention
  SketchList ten_sketches;
  SketchList hour_sketches;
  ArticleMetadata event_metadata;
  // Only set when a source describes the article (most articles of a store
  // without a source never get one): a pointer keeps the idle cost at 8 bytes.
  std::unique_ptr<ArticleInfo> source_info;
  // Only for articles with pings.
  std::unique_ptr<Engagement> engagement;
  // The pending entry this article last wrote (valid in buffer `pending_epoch`).
  uint64_t pending_epoch = 0;
  uint32_t pending_index = 0;

  const ArticleMetadata& metadata() const {
    return source_info ? source_info->metadata : event_metadata;
  }
  bool MetadataKnown() const { return source_info != nullptr || !event_metadata.empty(); }
  // An event's metadata, kept while no source describes the article.
  void NoteEventMetadata(const ArticleMetadata* m) {
    if (m != nullptr && !m->empty() && !source_info && !(event_metadata == *m)) event_metadata = *m;
  }
  bool Empty() const {
    return minutes == nullptr && tens.buckets.empty() && hours.buckets.empty() &&
           ten_sketches.empty() && hour_sketches.empty() && engagement == nullptr;
  }
  bool Matches(const TrendingQuery& q, absl::Time now) const {
    return !Hidden(now) && MetadataMatches(q, metadata());
  }
  bool Hidden(absl::Time now) const {
    return source_info && source_info->hidden && now < source_info->hidden_until;
  }
  // Heap bytes but the sketches' registers (accounted for apart).
  size_t BytesBesideRegisters() const {
    return sizeof(Article) + 2 * id.capacity() + (minutes ? sizeof(MinuteRing) : 0) +
           (tens.buckets.capacity() + hours.buckets.capacity()) * sizeof(CumBucket) +
           (ten_sketches.capacity() + hour_sketches.capacity()) * sizeof(Sketch) +
           (engagement ? engagement->Bytes() : 0);
  }
};

// What a flush takes from a shard: a buffer swapped for an empty one.
struct PendingEntry {
  std::string article;
  int32_t start;
  int32_t width;
  uint32_t views = 0;
  uint32_t visitors = 0;
  uint32_t engaged = 0;  // seconds
  double hot = 0;  // linear, relative to the bucket start
};

struct PendingBuffer {
  std::vector<PendingEntry> entries;
  // Registers raised, as (entry, full-precision index << 8 | rho), repeats
  // allowed: one vector for the whole buffer rather than one per entry (an
  // allocation per article per flush showed up in the ingest profile).
  std::vector<std::pair<uint32_t, uint32_t>> raises;
  // Readers of counted pings, as (entry, ping).
  std::vector<std::pair<uint32_t, ReaderPing>> readers;
  absl::flat_hash_map<std::tuple<const void*, int32_t, int32_t>, uint32_t> index;
  SeenMarks seen;  // marks of the views in `entries`
  uint64_t seen_dropped = 0;
  int64_t views = 0;
};

struct ViewStore::Shard {
  mutable absl::Mutex mu;
  // id -> slot. The ids are kept here too (short ones inline in the table):
  // a lookup compares against the slot it probes instead of loading the
  // article from another cache line.
  absl::flat_hash_map<std::string, uint32_t> index ABSL_GUARDED_BY(mu);
  std::vector<std::unique_ptr<Article>> slots ABSL_GUARDED_BY(mu);  // null: free
  std::vector<uint32_t> free_slots ABSL_GUARDED_BY(mu);
  PendingBuffer pending ABSL_GUARDED_BY(mu);
  uint64_t epoch ABSL_GUARDED_BY(mu) = 1;      // of `pending`
  uint64_t flush_seq ABSL_GUARDED_BY(mu) = 1;  // the flush that takes new data
};

// A resolved window with the horizons a query needs.
struct ViewStore::Window {
  WindowSpec w;
  WindowSpec p;  // the previous window
  int32_t now_min;
  int32_t medium_start;  // first minute the 10-minute tier keeps
  int32_t sketch_ten_start;
  absl::Time now;
};

ViewStore::ViewStore(StoreOptions options, const Clock& clock)
    : options_(options),
      clock_(clock),
      half_life_seconds_(absl::ToDoubleSeconds(options.hot_half_life)) {
  const int32_t all = static_cast<int32_t>(absl::ToInt64Minutes(options_.retention)) +
                      2 * kMinutesPerHour;
  horizon_full_ = all;
  horizon_mid_ = all;
  horizon_keep_ = all;
  for (int i = 0; i < std::max(1, options_.shards); ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

ViewStore::~ViewStore() = default;

size_t ViewStore::ShardIndex(absl::string_view article) const {
  return absl::HashOf(article) % shards_.size();
}

ViewStore::Shard& ViewStore::ShardFor(absl::string_view article) const {
  return *shards_[ShardIndex(article)];
}

absl::Mutex& ViewStore::ShardMutex(absl::string_view article) const { return ShardFor(article).mu; }

ViewStore::Article* ViewStore::Find(const Shard& shard, absl::string_view article) const {
  auto it = shard.index.find(article);
  return it == shard.index.end() ? nullptr : shard.slots[it->second].get();
}

ViewStore::Article* ViewStore::GetOrCreate(Shard& shard, absl::string_view article,
                                           bool within_limit) {
  auto it = shard.index.find(article);
  if (it != shard.index.end()) return shard.slots[it->second].get();
  // A soft bound across shards: concurrent creations may pass it by a few.
  if (within_limit && articles_.load(std::memory_order_relaxed) >= options_.max_articles) {
    return nullptr;
  }
  auto a = std::make_unique<Article>();
  a->id = std::string(article);
  if (!shard.free_slots.empty()) {
    a->slot = shard.free_slots.back();
    shard.free_slots.pop_back();
  } else {
    a->slot = static_cast<uint32_t>(shard.slots.size());
    shard.slots.emplace_back();
  }
  Article* ref = a.get();
  shard.index.emplace(ref->id, ref->slot);
  shard.slots[ref->slot] = std::move(a);
  articles_.fetch_add(1, std::memory_order_relaxed);
  return ref;
}

double ViewStore::HotLogOf(absl::Time view_time) const {
  return absl::ToDoubleSeconds(view_time - absl::UnixEpoch()) / half_life_seconds_;
}

double ViewStore::HotScoreAt(double hot_log, absl::Time now) const {
  if (hot_log == kNegInf) return 0.0;
  return std::exp2(hot_log - HotLogOf(now));
}

int ViewStore::SketchLevel(int32_t period_start, int32_t now_min) const {
  const int32_t age = now_min - period_start;
  if (age < horizon_full_.load(std::memory_order_relaxed)) return 0;
  if (age < horizon_mid_.load(std::memory_order_relaxed)) return 1;
  if (age < horizon_keep_.load(std::memory_order_relaxed)) return 2;
  return 3;
}

bool ViewStore::RaiseSketches(Article& a, int32_t minute, int32_t now_min, uint32_t index,
                              uint8_t rho, bool* all_full) {
  bool raised = false;
  int64_t bytes = 0;
  const uint32_t gen = checkpoint_gen_.load(std::memory_order_relaxed);
  auto raise = [&](SketchList& list, int32_t start) {
    const int level = SketchLevel(start, now_min);
    if (level == 3) {
      *all_full = false;
      return;
    }
    Sketch& s = SketchAt(list, start, kLevelPrecision[level], bytes);
    const size_t before = s.hll.MemoryBytes();
    if (s.hll.Raise(index, rho)) {
      raised = true;
      s.changed_gen = gen;
      bytes += static_cast<int64_t>(s.hll.MemoryBytes()) - static_cast<int64_t>(before);
    }
    if (s.hll.precision() != Hll::kPrecision) *all_full = false;
  };
  raise(a.hour_sketches, FloorTo(minute, kMinutesPerHour));
  if (minute >= TenMinuteSketchStart(now_min)) raise(a.ten_sketches, FloorTo(minute, kMediumMinutes));
  if (bytes != 0) sketch_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  return raised;
}

void ViewStore::CountView(Shard& shard, Article& a, const ViewToCount& v, int32_t now_min) {
  const int32_t minute = MinuteOf(v.time);
  const double hot_log = HotLogOf(v.time);
  a.NoteEventMetadata(v.metadata);
  // The tiers that keep this minute.
  if (minute >= FineStart(now_min)) {
    if (a.minutes == nullptr) a.minutes = std::make_unique<MinuteRing>(minute);
    a.minutes->Add(minute, 1, v.has_visitor ? 1 : 0,
                   std::exp2(absl::ToDoubleSeconds(v.time - MinuteStart(minute)) /
                             half_life_seconds_));
  }
  const int32_t horizon = CompactionHorizon(now_min);
  const uint32_t with_visitor = v.has_visitor ? 1 : 0;
  if (minute >= horizon) a.tens.Add(FloorTo(minute, kMediumMinutes), 1, with_visitor, hot_log);
  a.hours.Add(FloorTo(minute, kMinutesPerHour), 1, with_visitor, hot_log);
  uint32_t index = 0;
  uint8_t rho = 0;
  bool raised = false;
  bool all_full = true;
  if (v.has_visitor) {
    Hll::Split(v.visitor_hash, index, rho);
    raised = RaiseSketches(a, minute, now_min, index, rho, &all_full);
  }
  PendingBuffer& pb = shard.pending;
  PendingEntry* p = &PendingFor(shard, a, minute, now_min);
  p->views += 1;
  if (v.has_visitor) p->visitors += 1;
  p->hot += std::exp2(absl::ToDoubleSeconds(v.time - MinuteStart(p->start)) / half_life_seconds_);
  // A folded or missing local sketch may not show that the full-precision
  // register rose: send it anyway (applying a raise twice changes nothing).
  if (v.has_visitor && (raised || !all_full)) {
    pb.raises.emplace_back(a.pending_index, index << 8 | rho);
  }
  ++pb.views;
  pending_views_.fetch_add(1, std::memory_order_relaxed);
  if (v.keys.visitor != 0 || v.keys.event != 0) {
    const int64_t view_ns = absl::ToUnixNanos(v.time);
    KeepMark(pb, pb.seen.visitors, v.keys.visitor, view_ns);
    KeepMark(pb, pb.seen.events, v.keys.event, view_ns);
  }
}

void ViewStore::KeepMark(PendingBuffer& pb, std::vector<SeenMark>& list, uint64_t key,
                         int64_t time_ns) {
  if (key == 0) return;
  // One bound for the shards together: views are skewed, and an equal share
  // per shard dropped the marks of the shard holding the most read article
  // while all shards together held a fifth of the bound (trending README,
  // "The 60-minute soak, and dedup marks dropped under skew"). Concurrent
  // ingest threads may pass the bound by a mark each.
  if (pending_marks_.load(std::memory_order_relaxed) <
      static_cast<int64_t>(options_.max_pending_seen)) {
    list.push_back({key, time_ns});
    pending_marks_.fetch_add(1, std::memory_order_relaxed);
  } else {
    ++pb.seen_dropped;
  }
}

PendingEntry& ViewStore::PendingFor(Shard& shard, Article& a, int32_t minute, int32_t now_min) {
  // Keyed by the bucket PostgreSQL keeps the minute in.
  int32_t start = minute;
  int32_t width = 1;
  if (minute < CompactionHorizon(now_min)) {
    start = FloorTo(minute, kMinutesPerHour);
    width = kMinutesPerHour;
  }
  PendingBuffer& pb = shard.pending;
  if (a.pending_epoch == shard.epoch) {
    PendingEntry& last = pb.entries[a.pending_index];
    if (last.start == start && last.width == width) return last;
  }
  auto [it, inserted] = pb.index.try_emplace(std::make_tuple(static_cast<const void*>(&a), start, width),
                                             static_cast<uint32_t>(pb.entries.size()));
  if (inserted) pb.entries.push_back(PendingEntry{a.id, start, width});
  a.pending_epoch = shard.epoch;
  a.pending_index = it->second;
  return pb.entries[it->second];
}

void ViewStore::CountPing(Shard& shard, Article& a, const PingToCount& p, int32_t now_min) {
  const int32_t minute = MinuteOf(p.time);
  a.NoteEventMetadata(p.metadata);
  if (a.engagement == nullptr) a.engagement = std::make_unique<Engagement>(options_.concurrent_window);
  Engagement& e = *a.engagement;
  const auto seconds = static_cast<uint32_t>(std::max<int64_t>(0, p.engaged_seconds));
  if (minute >= FineStart(now_min)) {
    if (e.minutes == nullptr) e.minutes = std::make_unique<EngagedRing>(minute);
    e.minutes->Add(minute, seconds);
  }
  if (minute >= CompactionHorizon(now_min)) e.tens.Add(FloorTo(minute, kMediumMinutes), seconds, 1, kNegInf);
  e.hours.Add(FloorTo(minute, kMinutesPerHour), seconds, 1, kNegInf);
  const int64_t ms = absl::ToUnixMillis(p.time);
  e.readers.Note(p.reader, ms);
  PendingBuffer& pb = shard.pending;
  PendingEntry& entry = PendingFor(shard, a, minute, now_min);
  entry.engaged += seconds;
  pb.readers.emplace_back(a.pending_index, ReaderPing{p.reader, ms});
  // Pings are events awaiting a flush like views (the unflushed bound).
  ++pb.views;
  pending_views_.fetch_add(1, std::memory_order_relaxed);
  const int64_t ping_ns = absl::ToUnixNanos(p.time);
  KeepMark(pb, pb.seen.pings, p.keys.ping, ping_ns);
  KeepMark(pb, pb.seen.events, p.keys.event, ping_ns);
}

namespace {

// Items of a shard whose prefetch steps CountByShard takes together (see
// there). A shard's share of a 500-view message is about 8 (64 shards), so
// a message's share is rarely split; a larger share (fewer shards, longer
// messages) is, which bounds the lines in flight.
constexpr uint32_t kPrefetchGroup = 16;

}  // namespace

void ViewStore::PrefetchArticle(const Article& a) {
  const char* p = reinterpret_cast<const char*>(&a);
  for (size_t line = 0; line < sizeof(Article); line += 64) __builtin_prefetch(p + line);
}

void ViewStore::PrefetchParts(const Shard& shard, const Article& a, int32_t minute,
                              int32_t now_min) {
  if (a.minutes != nullptr) __builtin_prefetch(&a.minutes->minute[MinuteRing::Slot(minute)]);
  if (!a.hours.buckets.empty()) __builtin_prefetch(&a.hours.buckets.back());
  if (!a.tens.buckets.empty()) __builtin_prefetch(&a.tens.buckets.back());
  if (!a.hour_sketches.empty()) __builtin_prefetch(&a.hour_sketches.back());
  if (!a.ten_sketches.empty()) __builtin_prefetch(&a.ten_sketches.back());
  if (a.pending_epoch == shard.epoch) {
    __builtin_prefetch(&shard.pending.entries[a.pending_index]);
  } else if (minute >= CompactionHorizon(now_min)) {
    shard.pending.index.prefetch(std::make_tuple(static_cast<const void*>(&a), minute, 1));
  }
}

void ViewStore::PrefetchRegisters(const Article& a, const ViewToCount& v) {
  if (!v.has_visitor) return;
  uint32_t index = 0;
  uint8_t rho = 0;
  Hll::Split(v.visitor_hash, index, rho);
  if (!a.hour_sketches.empty()) a.hour_sketches.back().hll.PrefetchRaise(index);
  if (!a.ten_sketches.empty()) a.ten_sketches.back().hll.PrefetchRaise(index);
}

void ViewStore::PrefetchRegisters(const Article& a, const PingToCount& p) {
  if (a.engagement != nullptr) a.engagement->readers.Prefetch(p.reader);
}

template <typename Item, typename Count>
uint64_t ViewStore::CountByShard(absl::Span<const Item> items, bool* counted, Count count) {
  if (items.empty()) return 0;
  const int32_t now_min = MinuteOf(clock_.Now());
  static HoldStats& hold_stats = HoldStats::Get("store_ingest");
  static HoldStats& wait_stats = HoldStats::GetWait("store_shards");
  // Items grouped by shard (a stable order inside a shard), in the thread's
  // arrays reused from batch to batch.
  thread_local std::vector<uint32_t> order, first, next;
  thread_local std::vector<uint16_t> shard_of;
  thread_local std::vector<Article*> found;
  order.resize(items.size());
  found.resize(items.size());
  shard_of.resize(items.size());
  first.assign(shards_.size() + 1, 0);
  for (size_t i = 0; i < items.size(); ++i) {
    shard_of[i] = static_cast<uint16_t>(ShardIndex(items[i].article));
    ++first[shard_of[i] + 1];
  }
  for (size_t s = 0; s < shards_.size(); ++s) first[s + 1] += first[s];
  next.assign(first.begin(), first.end() - 1);
  for (size_t i = 0; i < items.size(); ++i) order[next[shard_of[i]]++] = static_cast<uint32_t>(i);
  uint64_t ticket = 0;
  // Counts shard s's items; its lock is held.
  auto count_locked = [&](size_t s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    Shard& shard = *shards_[s];
    ScopedHold hold(hold_stats);
    // Group prefetching: each step's loads for a group of items are issued
    // together, so that their cache misses overlap instead of following
    // one another item after item.
    for (uint32_t g = first[s]; g < first[s + 1]; g += kPrefetchGroup) {
      const uint32_t end = std::min(first[s + 1], g + kPrefetchGroup);
      for (uint32_t k = g; k < end; ++k) shard.index.prefetch(items[order[k]].article);
      for (uint32_t k = g; k < end; ++k) {
        found[k] = Find(shard, items[order[k]].article);
        if (found[k] != nullptr) PrefetchArticle(*found[k]);
      }
      for (uint32_t k = g; k < end; ++k) {
        if (found[k] != nullptr) {
          PrefetchParts(shard, *found[k], MinuteOf(items[order[k]].time), now_min);
        }
      }
      for (uint32_t k = g; k < end; ++k) {
        if (found[k] != nullptr) PrefetchRegisters(*found[k], items[order[k]]);
      }
      for (uint32_t k = g; k < end; ++k) {
        const uint32_t i = order[k];
        // Not found above: new, or created by an item before it.
        Article* a = found[k] != nullptr
                         ? found[k]
                         : GetOrCreate(shard, items[i].article, /*within_limit=*/true);
        if (counted != nullptr) counted[i] = a != nullptr;
        if (a == nullptr) {
          rejected_full_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        (this->*count)(shard, *a, items[i], now_min);
      }
    }
    ticket = std::max(ticket, shard.flush_seq);
  };
  // A shard whose lock is taken is skipped and counted after the others
  // (shards are independent; items keep their order within a shard).
  // Maintenance and ranking scans walk the shards in the same order in
  // slices: a batch that blocked at each shard behind them was dragged along
  // for the rest of their pass (trending README, "A batch dragged behind the
  // maintenance pass").
  thread_local std::vector<uint32_t> busy;
  busy.clear();
  for (size_t s = 0; s < shards_.size(); ++s) {
    if (first[s] == first[s + 1]) continue;
    absl::Mutex& mu = shards_[s]->mu;
    if (!mu.TryLock()) {
      busy.push_back(static_cast<uint32_t>(s));
      continue;
    }
    absl::Cleanup unlock = [&mu]() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Unlock(); };
    count_locked(s);
  }
  int64_t waited_ns = 0;
  for (uint32_t s : busy) {
    const int64_t start_ns = absl::GetCurrentTimeNanos();
    absl::MutexLock lock(&shards_[s]->mu);
    waited_ns += absl::GetCurrentTimeNanos() - start_ns;
    count_locked(s);
  }
  wait_stats.Record(waited_ns);
  return ticket;
}

uint64_t ViewStore::AddBatch(absl::Span<const ViewToCount> views, bool* counted) {
  return CountByShard(views, counted, &ViewStore::CountView);
}

uint64_t ViewStore::AddPings(absl::Span<const PingToCount> pings, bool* counted) {
  return CountByShard(pings, counted, &ViewStore::CountPing);
}

uint64_t ViewStore::AddPageViews(absl::Span<const SeenMark> marks) {
  absl::MutexLock lock(&batch_ids_mu_);
  page_views_.insert(page_views_.end(), marks.begin(), marks.end());
  return batch_ids_seq_;
}

uint64_t ViewStore::Add(absl::string_view article, absl::Time view_time, uint64_t visitor_hash,
                        bool has_visitor, const ArticleMetadata* metadata, DedupKeys keys) {
  const ViewToCount v{article, view_time, visitor_hash, has_visitor, metadata, keys};
  bool counted = false;
  const uint64_t ticket = AddBatch(absl::MakeConstSpan(&v, 1), &counted);
  return counted ? ticket : 0;
}

uint64_t ViewStore::AddBatchId(std::string batch_id) {
  absl::MutexLock lock(&batch_ids_mu_);
  batch_ids_.push_back(std::move(batch_id));
  return batch_ids_seq_;
}

PendingBatch ViewStore::TakePending() {
  PendingBatch batch;
  // Batch ids first: a batch id is recorded after its events, so it never
  // becomes durable in an earlier flush than they do.
  {
    absl::MutexLock lock(&batch_ids_mu_);
    batch.batch_ids.swap(batch_ids_);
    batch.seen.page_views.swap(page_views_);
    batch.flush_seq = batch_ids_seq_++;
  }
  static HoldStats& take = HoldStats::Get("store_flush_take");
  absl::MutexLock take_lock(&take_mu_);
  spare_.resize(shards_.size());
  std::vector<PendingBuffer> taken(shards_.size());
  for (size_t s = 0; s < shards_.size(); ++s) {
    Shard& shard = *shards_[s];
    // The next buffer is sized like this one, outside the lock; its vectors
    // are the spare's (see spare_), so this rarely allocates.
    size_t expected = 0;
    std::array<size_t, 4> expected_seen{};
    {
      absl::MutexLock lock(&shard.mu);
      expected = shard.pending.entries.size();
      const auto lists = std::as_const(shard.pending.seen).lists();
      for (size_t k = 0; k < lists.size(); ++k) expected_seen[k] = lists[k]->size();
    }
    PendingBuffer fresh = std::move(spare_[s]);
    fresh.entries.reserve(expected);
    fresh.index.reserve(expected);
    fresh.raises.reserve(expected);
    const auto fresh_lists = fresh.seen.lists();
    for (size_t k = 0; k < fresh_lists.size(); ++k) fresh_lists[k]->reserve(expected_seen[k]);
    absl::MutexLock lock(&shard.mu);
    ScopedHold hold(take);
    std::swap(taken[s], shard.pending);
    std::swap(shard.pending, fresh);
    ++shard.epoch;
    ++shard.flush_seq;
  }
  size_t n = 0;
  std::array<size_t, 4> seen_total{};
  for (const PendingBuffer& b : taken) {
    n += b.entries.size();
    const auto lists = b.seen.lists();
    for (size_t k = 0; k < lists.size(); ++k) seen_total[k] += lists[k]->size();
  }
  batch.deltas.reserve(n);
  const auto batch_lists = batch.seen.lists();
  for (size_t k = 0; k < batch_lists.size(); ++k) batch_lists[k]->reserve(batch_lists[k]->size() + seen_total[k]);
  for (size_t s = 0; s < taken.size(); ++s) {
    PendingBuffer& b = taken[s];
    const size_t first = batch.deltas.size();
    for (PendingEntry& e : b.entries) {
      batch.deltas.push_back({std::move(e.article), e.start, e.width, e.views, e.hot, Hll(),
                              e.visitors, e.engaged, {}});
    }
    for (const auto& [entry, ping] : b.readers) batch.deltas[first + entry].readers.push_back(ping);
    // Raises grouped by entry (stable: a register's later rank comes later).
    std::stable_sort(b.raises.begin(), b.raises.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t i = 0; i < b.raises.size();) {
      size_t j = i;
      std::vector<uint32_t> registers;
      for (; j < b.raises.size() && b.raises[j].first == b.raises[i].first; ++j) {
        registers.push_back(b.raises[j].second);
      }
      batch.deltas[first + b.raises[i].first].raises = Hll::FromEntries(std::move(registers));
      i = j;
    }
    const auto from_lists = b.seen.lists();
    for (size_t k = 0; k < from_lists.size(); ++k) {
      batch_lists[k]->insert(batch_lists[k]->end(), from_lists[k]->begin(), from_lists[k]->end());
    }
    batch.seen_dropped += b.seen_dropped;
    batch.views += b.views;
    // Emptied, capacity kept: the next take's buffer for this shard. A
    // vector far larger than what it held (after a spike) is released, so a
    // spare stays near the current flush size. The index is released too (a
    // large absl table's clear() frees it anyway).
    auto recycle = [](auto& v) {
      if (v.capacity() > 2 * v.size() + 1024) {
        std::exchange(v, {});  // not `v = {}`: that keeps the capacity
      } else {
        v.clear();
      }
    };
    recycle(b.entries);
    recycle(b.raises);
    recycle(b.readers);
    for (std::vector<SeenMark>* list : from_lists) recycle(*list);
    std::exchange(b.index, {});
    b.seen_dropped = 0;
    b.views = 0;
    spare_[s] = std::move(b);
  }
  pending_views_.fetch_sub(batch.views, std::memory_order_relaxed);
  int64_t marks_taken = 0;
  for (size_t taken_of_list : seen_total) marks_taken += static_cast<int64_t>(taken_of_list);
  pending_marks_.fetch_sub(marks_taken, std::memory_order_relaxed);
  return batch;
}

void ViewStore::ApplyOne(Article& a, const BucketDelta& d, int32_t now_min) {
  if (d.engaged > 0 || !d.readers.empty()) {
    if (a.engagement == nullptr) a.engagement = std::make_unique<Engagement>(options_.concurrent_window);
    Engagement& e = *a.engagement;
    const auto seconds = static_cast<uint32_t>(d.engaged);
    const auto pings = static_cast<uint32_t>(d.readers.size());
    if (d.width_min == 1) {
      if (d.start_min >= FineStart(now_min) && d.start_min <= now_min) {
        if (e.minutes == nullptr) e.minutes = std::make_unique<EngagedRing>(d.start_min);
        e.minutes->Add(d.start_min, seconds);
      }
      if (d.start_min >= CompactionHorizon(now_min)) {
        e.tens.Add(FloorTo(d.start_min, kMediumMinutes), seconds, pings, kNegInf);
      }
    }
    e.hours.Add(FloorTo(d.start_min, kMinutesPerHour), seconds, pings, kNegInf);
    // Only pings recent enough to count a reader now.
    const int64_t since_ms = absl::ToUnixMillis(clock_.Now() - options_.concurrent_window);
    for (const ReaderPing& r : d.readers) {
      if (r.time_ms < since_ms) continue;
      e.readers.Note(r.reader, r.time_ms);
    }
  }
  if (d.views > 0) {
    const double hot_log = d.hot > 0 ? std::log2(d.hot) + HotLogOf(MinuteStart(d.start_min))
                                     : kNegInf;
    const auto views = static_cast<uint32_t>(d.views);
    const auto visitors = static_cast<uint32_t>(d.visitors);
    if (d.width_min == 1) {
      if (d.start_min >= FineStart(now_min) && d.start_min <= now_min) {
        if (a.minutes == nullptr) a.minutes = std::make_unique<MinuteRing>(d.start_min);
        a.minutes->Add(d.start_min, views, visitors, d.hot);
      }
      if (d.start_min >= CompactionHorizon(now_min)) {
        a.tens.Add(FloorTo(d.start_min, kMediumMinutes), views, visitors, hot_log);
      }
    }
    a.hours.Add(FloorTo(d.start_min, kMinutesPerHour), views, visitors, hot_log);
  }
  if (!d.raises.empty()) {
    bool all_full = true;
    d.raises.ForEachRegister([&](uint32_t index, uint8_t rho) {
      // A 1-minute delta raises its 10-minute and hour sketches; an hour
      // delta only the hour's.
      const int32_t minute = d.width_min == 1 ? d.start_min : FloorTo(d.start_min, kMinutesPerHour);
      if (d.width_min == 1) {
        RaiseSketches(a, minute, now_min, index, rho, &all_full);
      } else {
        int64_t bytes = 0;
        const int level = SketchLevel(minute, now_min);
        if (level < 3) {
          Sketch& s = SketchAt(a.hour_sketches, minute, kLevelPrecision[level], bytes);
          const size_t before = s.hll.MemoryBytes();
          if (s.hll.Raise(index, rho)) {
            s.changed_gen = checkpoint_gen_.load(std::memory_order_relaxed);
            bytes += static_cast<int64_t>(s.hll.MemoryBytes()) - static_cast<int64_t>(before);
          }
        }
        if (bytes != 0) sketch_bytes_.fetch_add(bytes, std::memory_order_relaxed);
      }
    });
  }
}

void ViewStore::ApplyDeltas(absl::Span<const BucketDelta> deltas) {
  const int32_t now_min = MinuteOf(clock_.Now());
  const int32_t keep_from = RetentionStart(now_min, options_.retention);
  static HoldStats& hold_stats = HoldStats::Get("store_apply");
  std::vector<std::vector<uint32_t>> by_shard(shards_.size());
  for (size_t i = 0; i < deltas.size(); ++i) {
    if (deltas[i].start_min + deltas[i].width_min <= keep_from) continue;
    by_shard[ShardIndex(deltas[i].article)].push_back(static_cast<uint32_t>(i));
  }
  for (size_t s = 0; s < shards_.size(); ++s) {
    const std::vector<uint32_t>& idx = by_shard[s];
    for (size_t from = 0; from < idx.size(); from += kSliceArticles) {
      Shard& shard = *shards_[s];
      absl::MutexLock lock(&shard.mu);
      ScopedHold hold(hold_stats);
      for (size_t j = from; j < std::min(idx.size(), from + kSliceArticles); ++j) {
        const BucketDelta& d = deltas[idx[j]];
        // Counted elsewhere (or before a restart): held even beyond
        // max_articles, so that every replica ranks the same articles.
        ApplyOne(*GetOrCreate(shard, d.article, /*within_limit=*/false), d, now_min);
      }
    }
  }
}

void ViewStore::MergeSketch(absl::string_view article, int32_t start_min, int32_t width_min,
                            const Hll& sketch) {
  const int32_t now_min = MinuteOf(clock_.Now());
  if (width_min == kMediumMinutes && start_min < TenMinuteSketchStart(now_min)) return;
  if (width_min != kMediumMinutes && width_min != kMinutesPerHour) return;
  if (start_min + width_min <= RetentionStart(now_min, options_.retention)) return;
  const int level = SketchLevel(start_min, now_min);
  if (level == 3) return;
  Shard& shard = ShardFor(article);
  absl::MutexLock lock(&shard.mu);
  Article* a = GetOrCreate(shard, article, /*within_limit=*/false);
  int64_t bytes = 0;
  Sketch& s = SketchAt(width_min == kMediumMinutes ? a->ten_sketches : a->hour_sketches,
                       start_min, kLevelPrecision[level], bytes);
  const size_t before = s.hll.MemoryBytes();
  s.hll.Merge(sketch);
  if (FoldShrinks(s.hll, kLevelPrecision[level])) s.hll.FoldTo(kLevelPrecision[level]);
  bytes += static_cast<int64_t>(s.hll.MemoryBytes()) - static_cast<int64_t>(before);
  sketch_bytes_.fetch_add(bytes, std::memory_order_relaxed);
}

void ViewStore::SetSourceInfo(absl::string_view article, ArticleInfo info) {
  Shard& shard = ShardFor(article);
  absl::MutexLock lock(&shard.mu);
  // Metadata of an article with views: the store stays within max_articles.
  if (Article* a = GetOrCreate(shard, article, /*within_limit=*/true)) {
    a->source_info = std::make_unique<ArticleInfo>(std::move(info));
  }
}

void ViewStore::MaintainArticle(Article& a, int32_t now_min, int64_t& sketch_delta,
                                FoldableAges& oldest) {
  if (a.minutes != nullptr && a.minutes->head < FineStart(now_min)) a.minutes.reset();
  a.tens.ExpireBefore(CompactionHorizon(now_min));
  const int32_t keep_from = RetentionStart(now_min, options_.retention);
  a.hours.ExpireBefore(keep_from);
  if (a.engagement != nullptr) {
    Engagement& e = *a.engagement;
    if (e.minutes != nullptr && e.minutes->head < FineStart(now_min)) e.minutes.reset();
    e.tens.ExpireBefore(CompactionHorizon(now_min));
    e.hours.ExpireBefore(keep_from);
    e.readers.Expire(absl::ToUnixMillis(clock_.Now()));
    if (e.Empty()) a.engagement.reset();
  }
  const int32_t ten_start = TenMinuteSketchStart(now_min);
  // Lists are sorted by start: only their front can be old enough to fold
  // or drop, so a list is walked up to its first sketch younger than that.
  const int32_t young = now_min - std::min({horizon_full_.load(std::memory_order_relaxed),
                                            horizon_mid_.load(std::memory_order_relaxed),
                                            horizon_keep_.load(std::memory_order_relaxed)});
  for (SketchList* list : {&a.ten_sketches, &a.hour_sketches}) {
    const bool tens = list == &a.ten_sketches;
    const int32_t expire_before = tens ? ten_start : keep_from - kMinutesPerHour + 1;
    size_t out = 0;
    size_t i = 0;
    for (; i < list->size(); ++i) {
      Sketch& s = (*list)[i];
      if (s.start >= young && s.start >= expire_before) break;
      const int level = SketchLevel(s.start, now_min);
      const bool expired = tens ? s.start < ten_start : s.start + kMinutesPerHour <= keep_from;
      const int64_t before = static_cast<int64_t>(s.hll.MemoryBytes());
      if (expired || level == 3) {
        sketch_delta -= before + static_cast<int64_t>(sizeof(Sketch));
        continue;
      }
      if (FoldShrinks(s.hll, kLevelPrecision[level])) {
        s.hll.FoldTo(kLevelPrecision[level]);
        sketch_delta += static_cast<int64_t>(s.hll.MemoryBytes()) - before;
      }
      if (out != i) (*list)[out] = std::move(s);
      ++out;
    }
    if (out != i) {
      list->erase(list->begin() + static_cast<ptrdiff_t>(out), list->begin() + static_cast<ptrdiff_t>(i));
      if (list->empty()) SketchList().swap(*list);
    }
    // The oldest sketch each horizon could shrink (lists are sorted by
    // start, so the walk ends at the first of each kind).
    if (!list->empty()) oldest[2] = std::max(oldest[2], now_min - list->front().start);
    bool found[2] = {false, false};
    for (const Sketch& s : *list) {
      for (int level = 0; level < 2; ++level) {
        if (!found[level] && FoldShrinks(s.hll, kLevelPrecision[level + 1])) {
          found[level] = true;
          oldest[level] = std::max(oldest[level], now_min - s.start);
        }
      }
      if (found[0] && found[1]) break;
    }
  }
}

void ViewStore::AdjustSketchHorizons() {
  const int64_t bytes = sketch_bytes_.load();
  const auto limit = static_cast<int64_t>(options_.sketch_memory_limit);
  const int32_t all = static_cast<int32_t>(absl::ToInt64Minutes(options_.retention)) +
                      2 * kMinutesPerHour;
  std::atomic<int32_t>* order[3] = {&horizon_full_, &horizon_mid_, &horizon_keep_};
  if (bytes > limit) {
    // Over the bound: halve the first horizon still above zero (the finest
    // precision goes first, dropping last), from the age of the oldest
    // sketch it could shrink when that is younger: halving from the
    // retention would take ten passes (50 s, while ingest adds to the
    // sketches) to reach data a few minutes old, and then fold it all in
    // one pass.
    for (int i = 0; i < 3; ++i) {
      const int32_t v = order[i]->load();
      if (v > 0) {
        const int32_t from = oldest_foldable_[i] >= 0 ? std::min(v, oldest_foldable_[i] + 1) : v;
        order[i]->store(from > 2 * kMediumMinutes ? from / 2 : 0);
        break;
      }
    }
  } else if (bytes < limit / 10 * 6) {
    // Room again: widen the last horizon below its maximum (keeping first).
    for (int i = 2; i >= 0; --i) {
      const int32_t v = order[i]->load();
      if (v < all) {
        order[i]->store(std::min(all, std::max(2 * kMediumMinutes, v * 2)));
        break;
      }
    }
  }
  // Horizons stay ordered: full <= mid <= keep.
  horizon_mid_ = std::max(horizon_mid_.load(), horizon_full_.load());
  horizon_keep_ = std::max(horizon_keep_.load(), horizon_mid_.load());
}

void ViewStore::Maintain() {
  AdjustSketchHorizons();
  const int32_t now_min = MinuteOf(clock_.Now());
  static HoldStats& maintenance = HoldStats::Get("store_maintenance");
  StoreStats st;
  FoldableAges oldest = {-1, -1, -1};
  for (auto& shard_ptr : shards_) {
    Shard& shard = *shard_ptr;
    size_t slot = 0;
    for (bool more = true; more;) {
      int64_t sketch_delta = 0;
      {
        absl::MutexLock lock(&shard.mu);
        ScopedHold hold(maintenance);
        const size_t first = slot;
        const int64_t started_ns = absl::GetCurrentTimeNanos();
        const size_t end = std::min(shard.slots.size(), slot + kSliceArticles);
        for (; slot < end; ++slot) {
          // A slice also ends after kMaintenanceSliceTime of work: folding
          // sketches (at the sketch memory limit) costs far more per
          // article than the usual pass, and this thread, at a low
          // priority, holds the writer lock ingest needs.
          if (slot != first && absl::GetCurrentTimeNanos() - started_ns > kMaintenanceSliceNanos) {
            break;
          }
          std::unique_ptr<Article>& a = shard.slots[slot];
          if (a == nullptr) continue;
          MaintainArticle(*a, now_min, sketch_delta, oldest);
          // An article with an entry in the pending buffer stays: the
          // buffer finds it by address.
          if (a->Empty() && a->pending_epoch != shard.epoch) {
            shard.index.erase(a->id);
            a.reset();
            shard.free_slots.push_back(static_cast<uint32_t>(slot));
            articles_.fetch_sub(1, std::memory_order_relaxed);
            continue;
          }
          ++st.articles;
          st.minute_rings += a->minutes != nullptr;
          st.buckets += a->tens.buckets.size() + a->hours.buckets.size();
          st.sketches += a->ten_sketches.size() + a->hour_sketches.size();
          if (a->engagement != nullptr) {
            ++st.engaged_articles;
            st.readers += a->engagement->readers.size();
          }
          st.bytes += a->BytesBesideRegisters();
        }
        more = slot < shard.slots.size();
        if (!more) {
          // Free slots at the end shrink the vector.
          while (!shard.slots.empty() && shard.slots.back() == nullptr) shard.slots.pop_back();
          shard.free_slots.erase(
              std::remove_if(shard.free_slots.begin(), shard.free_slots.end(),
                             [&](uint32_t i) { return i >= shard.slots.size(); }),
              shard.free_slots.end());
          st.pending_deltas += shard.pending.entries.size();
          st.pending_marks += shard.pending.seen.size();
        }
      }
      if (sketch_delta != 0) sketch_bytes_.fetch_add(sketch_delta, std::memory_order_relaxed);
    }
  }
  oldest_foldable_ = oldest;
  st.sketch_bytes = static_cast<size_t>(std::max<int64_t>(0, sketch_bytes_.load()));
  st.bytes += st.sketch_bytes;
  absl::MutexLock lock(&stats_mu_);
  stats_ = st;
}

StoreStats ViewStore::Stats() const {
  absl::MutexLock lock(&stats_mu_);
  StoreStats st = stats_;
  st.articles = articles_.load();
  st.sketch_bytes = static_cast<size_t>(std::max<int64_t>(0, sketch_bytes_.load()));
  st.rejected_full = rejected_full_.load();
  return st;
}

SketchHorizons ViewStore::sketch_horizons() const {
  return {horizon_full_.load(), horizon_mid_.load(), horizon_keep_.load()};
}

std::vector<StoredSketch> ViewStore::ChangedSketches(SketchCursor& cursor, size_t max_bytes) {
  if (!cursor.begun) {
    // Sketches changed from here on carry the next generation: taken by
    // this checkpoint if their article is visited later, and by the next.
    checkpoint_next_ = checkpoint_gen_.fetch_add(1) + 1;
    cursor = {.begun = true};
  }
  const uint32_t since = checkpoint_since_;
  std::vector<StoredSketch> out;
  size_t bytes = 0;
  // Articles never move between slots, so a slot index is a stable place to
  // go on from; an article created in a slot already passed has only
  // sketches of the next generation.
  static HoldStats& copy = HoldStats::Get("store_checkpoint_copy");
  for (; cursor.shard < shards_.size(); ++cursor.shard, cursor.slot = 0) {
    Shard& shard = *shards_[cursor.shard];
    for (;;) {
      absl::ReaderMutexLock lock(&shard.mu);
      ScopedHold hold(copy);
      const size_t end = std::min(shard.slots.size(), cursor.slot + kCheckpointSliceArticles);
      for (; cursor.slot < end; ++cursor.slot) {
        if (!out.empty() && bytes >= max_bytes) return out;  // a step takes at least one
        const Article* a = shard.slots[cursor.slot].get();
        if (a == nullptr) continue;
        for (auto [list, width] : {std::pair{&a->ten_sketches, kMediumMinutes},
                                   std::pair{&a->hour_sketches, kMinutesPerHour}}) {
          for (const Sketch& s : *list) {
            // Generations only grow; a wrap after 2^31 checkpoints would
            // take everything once.
            if (static_cast<int32_t>(s.changed_gen - since) >= 0 && !s.hll.empty()) {
              out.push_back({a->id, s.start, width, s.hll});
              bytes += s.hll.MemoryBytes();
            }
          }
        }
      }
      if (cursor.slot >= shard.slots.size()) break;
    }
  }
  cursor.done = true;
  return out;
}

std::vector<StoredSketch> ViewStore::ChangedSketches() {
  SketchCursor cursor;
  return ChangedSketches(cursor, std::numeric_limits<size_t>::max());
}

void ViewStore::CheckpointDone() { checkpoint_since_ = checkpoint_next_; }

int64_t ViewStore::UniqueCount(const Article& a, int32_t s, int32_t e, int32_t resolution,
                               int32_t now_min, int64_t views) const {
  if (views <= 0) return 0;
  const int64_t exact_within = absl::ToInt64Minutes(options_.exact_uniques_within);
  if (resolution == kFineMinutes && e - s <= exact_within && s >= FineStart(now_min)) {
    const int64_t v = a.minutes ? a.minutes->VisitorsIn(s, e) : 0;
    return std::min(v, views);
  }
  // Sketches: 10-minute ones from their start on, hours before that. A
  // period whose sketch is missing (dropped under the memory bound) counts
  // its views with a visitor id, an upper bound.
  const int32_t ten_start = TenMinuteSketchStart(now_min);
  Hll out;
  int64_t without_sketch = 0;
  auto merge_tier = [&](const CumTier& tier, const SketchList& sketches, int32_t width,
                        int32_t from, int32_t to) {
    auto next = sketches.begin();
    for (const CumBucket& b : tier.buckets) {
      if (b.start + width <= from) continue;
      if (b.start >= to) break;
      if (b.visitors == 0) continue;
      while (next != sketches.end() && next->start < b.start) ++next;
      if (next != sketches.end() && next->start == b.start) {
        out.Merge(next->hll);
      } else {
        without_sketch += b.visitors;
      }
    }
  };
  merge_tier(a.hours, a.hour_sketches, kMinutesPerHour, s, std::min(e, ten_start));
  merge_tier(a.tens, a.ten_sketches, kMediumMinutes, std::max(s, ten_start), e);
  const int64_t n = std::llround(out.Estimate()) + without_sketch;
  return std::min(n, views);
}

struct ViewStore::Sums {
  int64_t views = 0;
  double hot_log = kNegInf;
};

// Sums of [s, e) at resolution `r` (see windows.h): the minute ring, or the
// 10-minute tier (its part before the tier's start from the hour tier), or
// the hour tier.
ViewStore::Sums ViewStore::SumsOf(const Article& a, int32_t s, int32_t e, int32_t r,
                                  const Window& win, bool with_hot) const {
  return TierSums(a.minutes.get(), a.tens, a.hours, s, e, r, win, with_hot);
}

int64_t ViewStore::EngagedIn(const Article& a, int32_t s, int32_t e, int32_t r,
                             const Window& win) const {
  if (a.engagement == nullptr) return 0;
  const Engagement& g = *a.engagement;
  return TierSums(g.minutes.get(), g.tens, g.hours, s, e, r, win, false).views;
}

int64_t ViewStore::ReadersNow(const Article& a, absl::Time now) const {
  if (a.engagement == nullptr) return 0;
  return a.engagement->readers.Count(absl::ToUnixMillis(now));
}

template <typename MinutesRing>
ViewStore::Sums ViewStore::TierSums(const MinutesRing* minutes, const CumTier& tens,
                                    const CumTier& hours, int32_t s, int32_t e, int32_t r,
                                    const Window& win, bool with_hot) const {
  Sums out;
  if (r == kFineMinutes) {
    if (minutes == nullptr) return out;
    double linear = 0;  // relative to the start of the current minute
    minutes->ForEach(s, e, [&](int32_t m, size_t i) {
      const auto& b = minutes->minute[i];
      out.views += b.views;
      if (with_hot && HotOf(b) > 0) {
        linear += HotOf(b) * std::exp2((m - win.now_min) * 60.0 / half_life_seconds_);
      }
    });
    if (linear > 0) out.hot_log = std::log2(linear) + HotLogOf(MinuteStart(win.now_min));
  } else if (r == kMediumMinutes) {
    const int32_t split = std::max(s, std::min(e, win.medium_start));
    out.views = tens.ViewsIn(split, e) + hours.ViewsIn(s, split);
    if (with_hot) out.hot_log = LogAdd2(tens.HotLogIn(split, e), hours.HotLogIn(s, split));
  } else {
    out.views = hours.ViewsIn(s, e);
    if (with_hot) out.hot_log = hours.HotLogIn(s, e);
  }
  return out;
}

TrendingResult ViewStore::Trending(const TrendingQuery& q) const {
  const absl::Time now = clock_.Now();
  Window win;
  win.now = now;
  win.now_min = MinuteOf(now);
  win.w = ResolveWindow(now, q.window);
  win.p = win.w.Previous();
  win.medium_start = CompactionHorizon(win.now_min);
  win.sketch_ten_start = TenMinuteSketchStart(win.now_min);
  const int32_t r = win.w.resolution_min;
  TrendingResult result;
  result.compute_time = now;
  result.window = q.window;
  result.resolution = absl::Minutes(r);
  const size_t k = static_cast<size_t>(std::max(0, q.limit));
  TopK current(k), previous(k), unknown(k);
  const bool hot = q.metric == RankMetric::kHot;
  const bool unique = q.metric == RankMetric::kUniqueVisitors;
  const bool engaged = q.metric == RankMetric::kEngagedTime;
  const bool average = q.metric == RankMetric::kAverageEngagedTime;
  const bool readers = q.metric == RankMetric::kConcurrentReaders;
  const bool by_engagement = engaged || average || readers;
  // AVERAGE_ENGAGED_TIME = engaged / uniques with uniques >= the floor: at
  // most engaged / floor, the bound its candidates are pruned by.
  const auto floor = static_cast<double>(std::max<int64_t>(1, options_.min_visitors_for_average));
  if (readers) {
    result.window = options_.concurrent_window;
    result.resolution = options_.concurrent_window;
  }
  // Unique visitors never exceed views: candidates by views, then sketches
  // merged for as few of them as possible (below, one article at a time).
  struct Slot {
    uint32_t shard;
    uint32_t slot;
  };
  std::vector<BoundedCandidate<Slot>> by_views, prev_by_views;
  static HoldStats& scan = HoldStats::Get("ranking_scan");
  for (size_t si = 0; si < shards_.size(); ++si) {
    const Shard& shard = *shards_[si];
    for (size_t slot = 0;;) {
      absl::ReaderMutexLock lock(&shard.mu);
      ScopedHold hold(scan);
      const size_t end = std::min(shard.slots.size(), slot + kSliceArticles);
      for (; slot < end; ++slot) {
        const Article* a = shard.slots[slot].get();
        if (a == nullptr) continue;
        if (by_engagement) {
          if (a->engagement == nullptr) continue;
        } else {
          if (a->hours.buckets.empty()) continue;
          // Nothing since the previous window started: neither ranking has it.
          if (a->hours.buckets.back().start + kMinutesPerHour <= win.p.start_min) continue;
        }
        if (!q.exclude.empty() && q.exclude.contains(a->id)) continue;
        const bool unresolved = q.filtered() && !a->MetadataKnown() && !a->Hidden(now);
        if (!unresolved && !a->Matches(q, now)) continue;
        if (by_engagement) {
          // Concurrent readers have no previous window.
          const double cur = readers ? static_cast<double>(ReadersNow(*a, now))
                                     : static_cast<double>(EngagedIn(*a, win.w.start_min, win.w.end_min, r, win));
          const double prev = readers ? 0 : static_cast<double>(EngagedIn(*a, win.p.start_min, win.p.end_min, r, win));
          if (unresolved) {
            if (cur > 0) unknown.Push(average ? cur / floor : cur, a->id);
          } else if (average) {
            const Slot at{static_cast<uint32_t>(si), static_cast<uint32_t>(slot)};
            if (cur > 0) by_views.push_back({cur / floor, a->id, at});
            if (prev > 0) prev_by_views.push_back({prev / floor, a->id, at});
          } else {
            if (cur > 0) current.Push(cur, a->id);
            if (prev > 0) previous.Push(prev, a->id);
          }
          continue;
        }
        const Sums cur = SumsOf(*a, win.w.start_min, win.w.end_min, r, win, hot);
        const Sums prev = SumsOf(*a, win.p.start_min, win.p.end_min, r, win, hot);
        if (unresolved) {
          if (cur.views > 0) {
            unknown.Push(hot ? HotRankKey(cur.hot_log) : static_cast<double>(cur.views), a->id);
          }
          continue;
        }
        if (unique) {
          const Slot at{static_cast<uint32_t>(si), static_cast<uint32_t>(slot)};
          if (cur.views > 0) by_views.push_back({static_cast<double>(cur.views), a->id, at});
          if (prev.views > 0) prev_by_views.push_back({static_cast<double>(prev.views), a->id, at});
          continue;
        }
        if (hot) {
          if (cur.views > 0) current.Push(HotRankKey(cur.hot_log), a->id);
          if (prev.views > 0) previous.Push(HotRankKey(prev.hot_log), a->id);
        } else {
          if (cur.views > 0) current.Push(static_cast<double>(cur.views), a->id);
          if (prev.views > 0) previous.Push(static_cast<double>(prev.views), a->id);
        }
      }
      if (slot >= shard.slots.size()) break;
    }
  }
  if (unique || average) {
    // The candidates' exact scores, one article (one read lock) at a time.
    auto rank_exactly = [&](std::vector<BoundedCandidate<Slot>>& list, TopK& top,
                            const WindowSpec& spec) {
      PushWhileCanRank(list, top, [&](const BoundedCandidate<Slot>& c) -> std::optional<double> {
        const Shard& shard = *shards_[c.ref.shard];
        absl::ReaderMutexLock lock(&shard.mu);
        const Article* a =
            c.ref.slot < shard.slots.size() ? shard.slots[c.ref.slot].get() : nullptr;
        if (a == nullptr || a->id != c.article) return std::nullopt;  // gone meanwhile
        if (unique) {
          return static_cast<double>(UniqueCount(*a, spec.start_min, spec.end_min, r, win.now_min,
                                                 static_cast<int64_t>(c.bound)));
        }
        const int64_t views = SumsOf(*a, spec.start_min, spec.end_min, r, win, false).views;
        const int64_t uniques = UniqueCount(*a, spec.start_min, spec.end_min, r, win.now_min, views);
        if (static_cast<double>(uniques) < floor) return std::nullopt;
        return PerVisitor(EngagedIn(*a, spec.start_min, spec.end_min, r, win), uniques);
      });
    };
    rank_exactly(by_views, current, win.w);
    rank_exactly(prev_by_views, previous, win.p);
  }
  const std::vector<RankCandidate> cur = std::move(current).Sorted();
  const std::vector<RankCandidate> prev = std::move(previous).Sorted();
  const absl::flat_hash_map<std::string, int> previous_rank = RanksByArticle(prev);
  auto describe = [&](const std::string& id, RankedEntry& e) {
    const Shard& shard = ShardFor(id);
    absl::ReaderMutexLock lock(&shard.mu);
    const Article* a = Find(shard, id);
    if (a == nullptr) return;
    const Sums sums = SumsOf(*a, win.w.start_min, win.w.end_min, r, win, true);
    e.views = sums.views;
    e.unique_visitors = UniqueCount(*a, win.w.start_min, win.w.end_min, r, win.now_min, e.views);
    const double hot_score = HotScoreAt(sums.hot_log, now);
    e.engaged_seconds = EngagedIn(*a, win.w.start_min, win.w.end_min, r, win);
    e.average_engaged_seconds = PerVisitor(e.engaged_seconds, e.unique_visitors);
    e.concurrent_readers = ReadersNow(*a, now);
    switch (q.metric) {
      case RankMetric::kViews: e.score = static_cast<double>(e.views); break;
      case RankMetric::kUniqueVisitors: e.score = static_cast<double>(e.unique_visitors); break;
      case RankMetric::kHot: e.score = hot_score; break;
      case RankMetric::kEngagedTime: e.score = static_cast<double>(e.engaged_seconds); break;
      case RankMetric::kAverageEngagedTime: e.score = e.average_engaged_seconds; break;
      case RankMetric::kConcurrentReaders: e.score = static_cast<double>(e.concurrent_readers); break;
    }
    if (a->source_info) e.summary = a->source_info->summary;
  };
  for (size_t i = 0; i < cur.size(); ++i) {
    RankedEntry e;
    e.article = cur[i].article;
    e.rank = static_cast<int>(i) + 1;
    auto pr = previous_rank.find(e.article);
    e.previous_rank = pr == previous_rank.end() ? 0 : pr->second;
    describe(e.article, e);
    result.entries.push_back(std::move(e));
  }
  for (const RankCandidate& c : std::move(unknown).Sorted()) {
    // Only those that would make the cut if they matched.
    if (cur.size() == k && !(c < cur.back())) break;
    RankedEntry e;
    e.article = c.article;
    describe(e.article, e);
    result.unresolved.push_back(std::move(e));
  }
  return result;
}

ArticleSeries ViewStore::Series(absl::string_view article, absl::Duration window,
                                int32_t granularity_min) const {
  const absl::Time now = clock_.Now();
  Window win;
  win.now = now;
  win.now_min = MinuteOf(now);
  win.medium_start = CompactionHorizon(win.now_min);
  win.sketch_ten_start = TenMinuteSketchStart(win.now_min);
  const WindowSpec w = ResolveSeries(now, window, granularity_min);
  // The finest tier that holds the whole window at this granularity.
  int32_t r = kCoarseMinutes;
  if (granularity_min % kMediumMinutes == 0 && w.start_min >= win.medium_start) r = kMediumMinutes;
  if (w.start_min >= FineStart(win.now_min)) r = kFineMinutes;
  if (window > kMediumWindowLimit && granularity_min % kCoarseMinutes == 0) r = kCoarseMinutes;
  ArticleSeries s;
  s.compute_time = now;
  s.granularity_min = granularity_min;
  const Shard& shard = ShardFor(article);
  absl::ReaderMutexLock lock(&shard.mu);
  const Article* a = Find(shard, article);
  for (int32_t p = w.start_min; p < w.end_min; p += granularity_min) {
    SeriesPoint point{p, 0, 0, 0};
    if (a != nullptr) {
      point.views = SumsOf(*a, p, p + granularity_min, r, win, false).views;
      point.unique_visitors = UniqueCount(*a, p, p + granularity_min, r, win.now_min, point.views);
      point.engaged_seconds = EngagedIn(*a, p, p + granularity_min, r, win);
    }
    s.points.push_back(point);
  }
  if (a != nullptr) {
    const Sums sums = SumsOf(*a, w.start_min, w.end_min, r, win, true);
    s.total_views = sums.views;
    s.unique_visitors = UniqueCount(*a, w.start_min, w.end_min, r, win.now_min, s.total_views);
    s.hot_score = HotScoreAt(sums.hot_log, now);
    s.engaged_seconds = EngagedIn(*a, w.start_min, w.end_min, r, win);
    s.average_engaged_seconds = PerVisitor(s.engaged_seconds, s.unique_visitors);
    s.concurrent_readers = ReadersNow(*a, now);
  }
  return s;
}

}  // namespace newsgrid::trending
