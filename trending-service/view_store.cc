#include "trending-service/view_store.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/hash/hash.h"
#include "runtime/hold_timer.h"

namespace newsgrid::trending {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

struct Bucket {
  int32_t start;
  int32_t width;
  uint32_t views;
  uint32_t cum_views;  // through this bucket, modulo 2^32 (differences stay exact)
  double cum_hot;      // log2 of the HOT mass through this bucket
};

bool BucketBefore(const Bucket& b, std::pair<int32_t, int32_t> key) {
  return b.start < key.first || (b.start == key.first && b.width > key.second);
}

using SketchList = std::vector<std::pair<int32_t, Hll>>;

Hll& SketchAt(SketchList& list, int32_t key) {
  auto it = std::lower_bound(list.begin(), list.end(), key,
                             [](const auto& e, int32_t k) { return e.first < k; });
  if (it == list.end() || it->first != key) it = list.insert(it, {key, Hll()});
  return it->second;
}

// Splits a hash the way Hll::Add does, so raises can be recorded.
void HashToRegister(uint64_t hash, uint32_t& index, uint8_t& rho) {
  index = static_cast<uint32_t>(hash >> (64 - Hll::kPrecision));
  const uint64_t rest = (hash << Hll::kPrecision) | (uint64_t{1} << (Hll::kPrecision - 1));
  rho = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
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

void PendingBatch::Absorb(PendingBatch newer) {
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
      into.hot += d.hot;
      into.raises.Merge(d.raises);
    }
  }
  for (std::string& id : newer.batch_ids) batch_ids.push_back(std::move(id));
  seen.Append(std::move(newer.seen));
  seen_dropped += newer.seen_dropped;
  flush_seq = std::max(flush_seq, newer.flush_seq);
}

void SeenMarks::Append(SeenMarks newer) {
  for (auto [into, from] : {std::pair{&visitors, &newer.visitors}, std::pair{&events, &newer.events}}) {
    if (into->empty()) {
      *into = std::move(*from);
    } else {
      into->insert(into->end(), from->begin(), from->end());
    }
  }
}

size_t SeenMarks::KeepNewest(size_t max) {
  if (size() <= max) return 0;
  const size_t excess = size() - max;
  // From both lists in proportion to their size.
  const size_t from_events = std::min(events.size(), excess * events.size() / size());
  const size_t from_visitors = std::min(visitors.size(), excess - from_events);
  visitors.erase(visitors.begin(), visitors.begin() + static_cast<ptrdiff_t>(from_visitors));
  events.erase(events.begin(), events.begin() + static_cast<ptrdiff_t>(from_events));
  return from_visitors + from_events;
}

struct ViewStore::Article {
  std::string id;
  std::vector<Bucket> buckets;  // by (start, width desc)
  uint32_t base_views = 0;      // cumulative before the first bucket
  double base_hot = kNegInf;
  SketchList minute_sketches;
  SketchList hour_sketches;
  ArticleMetadata event_metadata;
  // Only set when a source describes the article (most articles of a store
  // without a source never get one): a pointer keeps the idle cost at 8 bytes.
  std::unique_ptr<ArticleInfo> source_info;
  struct Pending {
    int32_t start;
    int32_t width;
    uint32_t views;
    double hot;  // linear, relative to the bucket start
    Hll raises;
  };
  std::vector<Pending> pending;

  const ArticleMetadata& metadata() const {
    return source_info ? source_info->metadata : event_metadata;
  }
  uint32_t CumViewsBefore(int32_t t) const {
    auto it = std::lower_bound(buckets.begin(), buckets.end(), t,
                               [](const Bucket& b, int32_t v) { return b.start < v; });
    return it == buckets.begin() ? base_views : std::prev(it)->cum_views;
  }
  double CumHotBefore(int32_t t) const {
    auto it = std::lower_bound(buckets.begin(), buckets.end(), t,
                               [](const Bucket& b, int32_t v) { return b.start < v; });
    return it == buckets.begin() ? base_hot : std::prev(it)->cum_hot;
  }
  int64_t ViewsIn(int32_t s, int32_t e) const {
    if (buckets.empty()) return 0;
    return static_cast<uint32_t>(CumViewsBefore(e) - CumViewsBefore(s));
  }
  double HotIn(int32_t s, int32_t e) const { return LogSub2(CumHotBefore(e), CumHotBefore(s)); }
  // Union of the sketches covering [s, e) (see the header on resolution).
  Hll UniquesIn(int32_t s, int32_t e, int32_t fine_start) const {
    Hll out;
    for (const auto& [hour, h] : hour_sketches) {
      if (hour + kMinutesPerHour <= s) continue;
      if (hour >= std::min(e, fine_start)) break;
      out.Merge(h);
    }
    for (const auto& [minute, h] : minute_sketches) {
      if (minute < std::max(s, fine_start)) continue;
      if (minute >= e) break;
      out.Merge(h);
    }
    return out;
  }
  int64_t UniqueCount(int32_t s, int32_t e, int32_t fine_start, int64_t views) const {
    const int64_t n = std::llround(UniquesIn(s, e, fine_start).Estimate());
    return std::min(n, views);
  }
  bool Matches(const TrendingQuery& q, absl::Time now) const {
    if (source_info && source_info->hidden && now < source_info->hidden_until) return false;
    const ArticleMetadata& m = metadata();
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
};

struct ViewStore::Shard {
  mutable absl::Mutex mu;
  absl::flat_hash_map<std::string, std::unique_ptr<Article>> articles ABSL_GUARDED_BY(mu);
  std::vector<Article*> dirty ABSL_GUARDED_BY(mu);
  uint64_t flush_seq ABSL_GUARDED_BY(mu) = 1;  // the flush that takes new data
  SeenMarks seen ABSL_GUARDED_BY(mu);          // marks of the views in `dirty`
  uint64_t seen_dropped ABSL_GUARDED_BY(mu) = 0;
};

ViewStore::ViewStore(StoreOptions options, const Clock& clock)
    : options_(options),
      clock_(clock),
      half_life_seconds_(absl::ToDoubleSeconds(options.hot_half_life)),
      max_seen_per_shard_(std::max<size_t>(
          1, options.max_pending_seen / static_cast<size_t>(std::max(1, options.shards)))) {
  for (int i = 0; i < std::max(1, options_.shards); ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

ViewStore::~ViewStore() = default;

ViewStore::Shard& ViewStore::ShardFor(absl::string_view article) const {
  return *shards_[absl::HashOf(article) % shards_.size()];
}

ViewStore::Article& ViewStore::GetOrCreate(Shard& shard, absl::string_view article) {
  auto it = shard.articles.find(article);
  if (it != shard.articles.end()) return *it->second;
  auto a = std::make_unique<Article>();
  a->id = std::string(article);
  Article& ref = *a;
  shard.articles.emplace(ref.id, std::move(a));
  return ref;
}

double ViewStore::HotLogOf(absl::Time view_time) const {
  return absl::ToDoubleSeconds(view_time - absl::UnixEpoch()) / half_life_seconds_;
}

double ViewStore::HotScoreAt(double hot_log, absl::Time now) const {
  if (hot_log == kNegInf) return 0.0;
  return std::exp2(hot_log - HotLogOf(now));
}

void ViewStore::AddToBucket(Article& a, int32_t minute, int32_t now_min, uint32_t views,
                            double hot_log) {
  int32_t start = minute;
  int32_t width = 1;
  if (minute < CompactionHorizon(now_min)) {
    start = FloorTo(minute, kMinutesPerHour);
    width = kMinutesPerHour;
  }
  const std::pair<int32_t, int32_t> key{start, width};
  auto it = std::lower_bound(a.buckets.begin(), a.buckets.end(), key, BucketBefore);
  if (it == a.buckets.end() || it->start != start || it->width != width) {
    const uint32_t cum = it == a.buckets.begin() ? a.base_views : std::prev(it)->cum_views;
    const double hot = it == a.buckets.begin() ? a.base_hot : std::prev(it)->cum_hot;
    it = a.buckets.insert(it, Bucket{start, width, 0, cum, hot});
  }
  it->views += views;
  for (; it != a.buckets.end(); ++it) {
    it->cum_views += views;
    it->cum_hot = LogAdd2(it->cum_hot, hot_log);
  }
}

bool ViewStore::AddToSketches(Article& a, int32_t minute, int32_t now_min, uint32_t index,
                              uint8_t rho) {
  bool raised = SketchAt(a.hour_sketches, FloorTo(minute, kMinutesPerHour)).Raise(index, rho);
  if (minute >= FineSketchStart(now_min)) {
    raised = SketchAt(a.minute_sketches, minute).Raise(index, rho) || raised;
  }
  return raised;
}

uint64_t ViewStore::Add(absl::string_view article, absl::Time view_time, uint64_t visitor_hash,
                        bool has_visitor, const ArticleMetadata* metadata, DedupKeys keys) {
  const int32_t now_min = MinuteOf(clock_.Now());
  const int32_t minute = MinuteOf(view_time);
  const double hot_log = HotLogOf(view_time);
  Shard& shard = ShardFor(article);
  absl::MutexLock lock(&shard.mu);
  Article& a = GetOrCreate(shard, article);
  if (metadata != nullptr && !metadata->empty() && !a.source_info &&
      !(a.event_metadata == *metadata)) {
    a.event_metadata = *metadata;
  }
  AddToBucket(a, minute, now_min, 1, hot_log);
  uint32_t index = 0;
  uint8_t rho = 0;
  bool raised = false;
  if (has_visitor) {
    HashToRegister(visitor_hash, index, rho);
    raised = AddToSketches(a, minute, now_min, index, rho);
  }
  // Pending delta keyed by the bucket the view landed in.
  int32_t start = minute;
  int32_t width = 1;
  if (minute < CompactionHorizon(now_min)) {
    start = FloorTo(minute, kMinutesPerHour);
    width = kMinutesPerHour;
  }
  if (a.pending.empty()) shard.dirty.push_back(&a);
  Article::Pending* p = nullptr;
  for (auto& e : a.pending) {
    if (e.start == start && e.width == width) {
      p = &e;
      break;
    }
  }
  if (p == nullptr) {
    a.pending.push_back({start, width, 0, 0.0, Hll()});
    p = &a.pending.back();
  }
  p->views += 1;
  p->hot += std::exp2(absl::ToDoubleSeconds(view_time - MinuteStart(start)) / half_life_seconds_);
  if (raised) p->raises.Raise(index, rho);
  if (keys.visitor != 0 || keys.event != 0) {
    const int64_t view_ns = absl::ToUnixNanos(view_time);
    for (auto [key, list] : {std::pair{keys.visitor, &shard.seen.visitors},
                             std::pair{keys.event, &shard.seen.events}}) {
      if (key == 0) continue;
      if (shard.seen.size() < max_seen_per_shard_) {
        list->push_back({key, view_ns});
      } else {
        ++shard.seen_dropped;
      }
    }
  }
  return shard.flush_seq;
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
    batch.flush_seq = batch_ids_seq_++;
  }
  HoldStats& take = HoldStats::Get("store_flush_take");
  for (auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    ScopedHold hold(take);
    for (Article* a : shard->dirty) {
      for (auto& p : a->pending) {
        batch.deltas.push_back(
            {a->id, p.start, p.width, p.views, p.hot, std::move(p.raises)});
      }
      // Capacity kept: an article viewed in this interval is likely viewed
      // in the next, and a malloc/free pair per article per flush showed up
      // in the ingest profile (a few dozen bytes per article).
      a->pending.clear();
    }
    shard->dirty.clear();
    batch.seen.Append(std::move(shard->seen));
    shard->seen = SeenMarks();
    batch.seen_dropped += std::exchange(shard->seen_dropped, 0);
    ++shard->flush_seq;
  }
  return batch;
}

void ViewStore::ApplyDelta(const BucketDelta& d) {
  const int32_t now_min = MinuteOf(clock_.Now());
  if (d.start_min + d.width_min <= RetentionStart(now_min, options_.retention)) return;
  Shard& shard = ShardFor(d.article);
  absl::MutexLock lock(&shard.mu);
  Article& a = GetOrCreate(shard, d.article);
  if (d.views > 0) {
    const double hot_log = d.hot > 0 ? std::log2(d.hot) + HotLogOf(MinuteStart(d.start_min))
                                     : kNegInf;
    AddToBucket(a, d.start_min, now_min, static_cast<uint32_t>(d.views), hot_log);
  }
  if (!d.raises.empty()) {
    d.raises.ForEachRegister([&](uint32_t index, uint8_t rho) {
      SketchAt(a.hour_sketches, FloorTo(d.start_min, kMinutesPerHour)).Raise(index, rho);
      if (d.width_min == 1 && d.start_min >= FineSketchStart(now_min)) {
        SketchAt(a.minute_sketches, d.start_min).Raise(index, rho);
      }
    });
  }
}

void ViewStore::MergeSketch(absl::string_view article, int32_t start_min, int32_t width_min,
                            const Hll& sketch) {
  const int32_t now_min = MinuteOf(clock_.Now());
  if (width_min == 1 && start_min < FineSketchStart(now_min)) return;
  if (start_min + width_min <= RetentionStart(now_min, options_.retention)) return;
  Shard& shard = ShardFor(article);
  absl::MutexLock lock(&shard.mu);
  Article& a = GetOrCreate(shard, article);
  SketchAt(width_min == 1 ? a.minute_sketches : a.hour_sketches, start_min).Merge(sketch);
}

void ViewStore::SetSourceInfo(absl::string_view article, ArticleInfo info) {
  Shard& shard = ShardFor(article);
  absl::MutexLock lock(&shard.mu);
  GetOrCreate(shard, article).source_info = std::make_unique<ArticleInfo>(std::move(info));
}

void ViewStore::Maintain() {
  const int32_t now_min = MinuteOf(clock_.Now());
  const int32_t horizon = CompactionHorizon(now_min);
  const int32_t fine_start = FineSketchStart(now_min);
  const int32_t keep_from = RetentionStart(now_min, options_.retention);
  HoldStats& maintenance = HoldStats::Get("store_maintenance");
  for (auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    ScopedHold hold(maintenance);
    for (auto it = shard->articles.begin(); it != shard->articles.end();) {
      Article& a = *it->second;
      // Expire: the cumulative base moves past what is dropped.
      size_t drop = 0;
      while (drop < a.buckets.size() && a.buckets[drop].start + a.buckets[drop].width <= keep_from) {
        a.base_views = a.buckets[drop].cum_views;
        a.base_hot = a.buckets[drop].cum_hot;
        ++drop;
      }
      a.buckets.erase(a.buckets.begin(), a.buckets.begin() + drop);
      // Compact minutes older than the horizon into their hour.
      if (!a.buckets.empty() && a.buckets.front().start < horizon) {
        std::vector<Bucket> out;
        out.reserve(a.buckets.size());
        for (const Bucket& b : a.buckets) {
          if (b.start < horizon) {
            const int32_t hour = FloorTo(b.start, kMinutesPerHour);
            if (!out.empty() && out.back().start == hour && out.back().width == kMinutesPerHour) {
              out.back().views += b.views;
              out.back().cum_views = b.cum_views;
              out.back().cum_hot = b.cum_hot;
              continue;
            }
            out.push_back(Bucket{hour, kMinutesPerHour, b.views, b.cum_views, b.cum_hot});
          } else {
            out.push_back(b);
          }
        }
        a.buckets = std::move(out);
      }
      auto expire = [](SketchList& list, int32_t before) {
        auto end = std::find_if(list.begin(), list.end(),
                                [&](const auto& e) { return e.first >= before; });
        list.erase(list.begin(), end);
      };
      expire(a.minute_sketches, fine_start);
      expire(a.hour_sketches, keep_from);
      const bool empty = a.buckets.empty() && a.hour_sketches.empty() &&
                         a.minute_sketches.empty() && a.pending.empty();
      if (empty) {
        shard->articles.erase(it++);
      } else {
        ++it;
      }
    }
  }
}

struct ViewStore::Candidate {
  double score;
  std::string article;
  bool operator<(const Candidate& o) const {  // better first
    return score != o.score ? score > o.score : article < o.article;
  }
};

struct ViewStore::Ranked {
  std::vector<Candidate> current;
  std::vector<Candidate> previous;
};

namespace {

// The best k seen so far, as a heap with the worst on top.
template <typename C>
class BoundedTop {
 public:
  explicit BoundedTop(size_t k) : k_(k) {}
  void Push(double score, const std::string& id) {
    if (heap_.size() < k_) {
      heap_.push_back(C{score, id});
      std::push_heap(heap_.begin(), heap_.end());
      return;
    }
    // Compare before copying the id: most articles do not make the cut.
    const C& worst = heap_.front();
    if (score < worst.score || (score == worst.score && !(id < worst.article))) return;
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.back() = C{score, id};
    std::push_heap(heap_.begin(), heap_.end());
  }
  bool full() const { return heap_.size() == k_; }
  double worst() const { return heap_.front().score; }
  void MoveTo(std::vector<C>& out) {
    for (C& c : heap_) out.push_back(std::move(c));
  }

 private:
  size_t k_;
  std::vector<C> heap_;
};

// HOT keys are rounded (relative 7e-7) so that float noise from the order
// in which deltas arrived cannot reorder equal scores: replicas then break
// such ties identically, by name.
double HotKey(double hot_log) { return std::round(hot_log * 1e6) / 1e6; }

}  // namespace

void ViewStore::CollectTop(const Shard& shard, const TrendingQuery& q, const WindowSpec& w,
                           int32_t fine_start, Ranked& out) const {
  const absl::Time now = clock_.Now();
  const WindowSpec p = w.Previous();
  BoundedTop<Candidate> current(static_cast<size_t>(q.limit));
  BoundedTop<Candidate> previous(static_cast<size_t>(q.limit));
  static HoldStats& scan = HoldStats::Get("ranking_scan");
  absl::ReaderMutexLock lock(&shard.mu);
  ScopedHold hold(scan);
  if (q.metric == RankMetric::kUniqueVisitors) {
    CollectTopUnique(shard, q, w, fine_start, out.current);
    CollectTopUnique(shard, q, p, fine_start, out.previous);
    return;
  }
  const bool hot = q.metric == RankMetric::kHot;
  for (const auto& [id, a] : shard.articles) {
    // Nothing since the previous window started: neither ranking has it.
    if (a->buckets.empty() || a->buckets.back().start + a->buckets.back().width <= p.start_min) {
      continue;
    }
    if (!q.exclude.empty() && q.exclude.contains(id)) continue;
    if (!a->Matches(q, now)) continue;
    // Three cumulative points bound both windows: [p.start, w.start, w.end).
    const uint32_t c0 = a->CumViewsBefore(p.start_min);
    const uint32_t c1 = a->CumViewsBefore(w.start_min);
    const uint32_t c2 = a->CumViewsBefore(w.end_min);
    const int64_t views_now = static_cast<uint32_t>(c2 - c1);
    const int64_t views_before = static_cast<uint32_t>(c1 - c0);
    if (!hot) {
      if (views_now > 0) current.Push(static_cast<double>(views_now), id);
      if (views_before > 0) previous.Push(static_cast<double>(views_before), id);
      continue;
    }
    const double h1 = a->CumHotBefore(w.start_min);
    if (views_now > 0) current.Push(HotKey(LogSub2(a->CumHotBefore(w.end_min), h1)), id);
    if (views_before > 0) previous.Push(HotKey(LogSub2(h1, a->CumHotBefore(p.start_min))), id);
  }
  current.MoveTo(out.current);
  previous.MoveTo(out.previous);
}

void ViewStore::CollectTopUnique(const Shard& shard, const TrendingQuery& q, const WindowSpec& w,
                                 int32_t fine_start, std::vector<Candidate>& out) const {
  const absl::Time now = clock_.Now();
  BoundedTop<Candidate> top(static_cast<size_t>(q.limit));
  // Unique visitors never exceed views: visit by views, stop when the k-th
  // best unique count beats every remaining article's views.
  std::vector<std::pair<int64_t, const Article*>> by_views;
  for (const auto& [id, a] : shard.articles) {
    if (q.exclude.contains(id) || !a->Matches(q, now)) continue;
    const int64_t v = a->ViewsIn(w.start_min, w.end_min);
    if (v > 0) by_views.emplace_back(v, a.get());
  }
  std::sort(by_views.begin(), by_views.end(),
            [](const auto& x, const auto& y) { return x.first > y.first; });
  for (const auto& [v, a] : by_views) {
    if (top.full() && top.worst() > static_cast<double>(v)) break;
    top.Push(static_cast<double>(a->UniqueCount(w.start_min, w.end_min, fine_start, v)), a->id);
  }
  top.MoveTo(out);
}

ViewStore::Ranked ViewStore::Rank(const TrendingQuery& q, const WindowSpec& w,
                                  int32_t fine_start) const {
  Ranked all;
  for (const auto& shard : shards_) CollectTop(*shard, q, w, fine_start, all);
  for (auto* list : {&all.current, &all.previous}) {
    std::sort(list->begin(), list->end());
    if (list->size() > static_cast<size_t>(q.limit)) list->resize(q.limit);
  }
  return all;
}

TrendingResult ViewStore::Trending(const TrendingQuery& q) const {
  const absl::Time now = clock_.Now();
  const int32_t now_min = MinuteOf(now);
  const int32_t fine_start = FineSketchStart(now_min);
  const WindowSpec w = ResolveWindow(now, q.window);
  TrendingResult result;
  result.compute_time = now;
  result.window = q.window;
  result.resolution = absl::Minutes(w.resolution_min);
  const Ranked ranked = Rank(q, w, fine_start);
  const std::vector<Candidate>& current = ranked.current;
  const std::vector<Candidate>& previous = ranked.previous;
  absl::flat_hash_map<std::string, int> previous_rank;
  for (size_t i = 0; i < previous.size(); ++i) previous_rank[previous[i].article] = i + 1;
  for (size_t i = 0; i < current.size(); ++i) {
    RankedEntry e;
    e.article = current[i].article;
    e.rank = static_cast<int>(i) + 1;
    auto pr = previous_rank.find(e.article);
    e.previous_rank = pr == previous_rank.end() ? 0 : pr->second;
    const Shard& shard = ShardFor(e.article);
    absl::ReaderMutexLock lock(&shard.mu);
    auto it = shard.articles.find(e.article);
    if (it != shard.articles.end()) {
      const Article& a = *it->second;
      e.views = a.ViewsIn(w.start_min, w.end_min);
      e.unique_visitors = a.UniqueCount(w.start_min, w.end_min, fine_start, e.views);
      const double hot = HotScoreAt(a.HotIn(w.start_min, w.end_min), now);
      e.score = q.metric == RankMetric::kHot              ? hot
                : q.metric == RankMetric::kUniqueVisitors ? static_cast<double>(e.unique_visitors)
                                                          : static_cast<double>(e.views);
      if (a.source_info) e.summary = a.source_info->summary;
    }
    result.entries.push_back(std::move(e));
  }
  return result;
}

ArticleSeries ViewStore::Series(absl::string_view article, absl::Duration window,
                                int32_t granularity_min) const {
  const absl::Time now = clock_.Now();
  const int32_t fine_start = FineSketchStart(MinuteOf(now));
  const WindowSpec w = ResolveSeries(now, window, granularity_min);
  ArticleSeries s;
  s.compute_time = now;
  s.granularity_min = granularity_min;
  const Shard& shard = ShardFor(article);
  absl::ReaderMutexLock lock(&shard.mu);
  auto it = shard.articles.find(article);
  const Article* a = it == shard.articles.end() ? nullptr : it->second.get();
  for (int32_t p = w.start_min; p < w.end_min; p += granularity_min) {
    SeriesPoint point{p, 0, 0};
    if (a != nullptr) {
      point.views = a->ViewsIn(p, p + granularity_min);
      if (point.views > 0) {
        point.unique_visitors = a->UniqueCount(p, p + granularity_min, fine_start, point.views);
      }
    }
    s.points.push_back(point);
  }
  if (a != nullptr) {
    s.total_views = a->ViewsIn(w.start_min, w.end_min);
    s.unique_visitors = a->UniqueCount(w.start_min, w.end_min, fine_start, s.total_views);
    s.hot_score = HotScoreAt(a->HotIn(w.start_min, w.end_min), now);
  }
  return s;
}

StoreStats ViewStore::Stats() const {
  StoreStats st;
  for (const auto& shard : shards_) {
    absl::ReaderMutexLock lock(&shard->mu);
    st.articles += shard->articles.size();
    for (const auto& [id, a] : shard->articles) {
      st.buckets += a->buckets.size();
      st.sketches += a->minute_sketches.size() + a->hour_sketches.size();
      for (const auto& [k, h] : a->minute_sketches) st.sketch_bytes += h.MemoryBytes();
      for (const auto& [k, h] : a->hour_sketches) st.sketch_bytes += h.MemoryBytes();
    }
  }
  return st;
}

}  // namespace newsgrid::trending
