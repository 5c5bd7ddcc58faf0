// The trending core under concurrent load, without PostgreSQL: ingest
// threads count RecordViews-sized batches at full speed while other threads
// read what GetTrending, GetArticleStats and WatchTrending read, and one
// does the synchronizer's in-memory part (take pending deltas, maintain,
// checkpoint, feed a second replica). Also run under TSan (tests/run.sh).
//
// The clock ticks forward on its own thread (so the ranking cache expires
// and refreshes) but stays inside one minute: every window then covers the
// same views throughout, and a count that goes down is a bug, not time.
#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/support/test_time.h"
#include "trending-service/ingestor.h"
#include "trending-service/ranking_cache.h"
#include "trending-service/rankings.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {
namespace {

using ::newsgrid::testing::At;

#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif
#else
constexpr bool kTsan = false;
#endif

constexpr int kArticles = 120;
constexpr int kVisitors = 3000;
constexpr int kIngestThreads = 3;
constexpr int kBatchSize = 300;
// TSan runs everything 5-15 times slower.
constexpr int kBatchesPerThread = kTsan ? 200 : 600;
const char* const kSections[] = {"world", "sport", "tech"};

std::string ArticleId(int i) { return absl::StrCat("a", i); }

ArticleMetadata MetadataOf(int article) {
  return {.section = kSections[article % 3],
          .tags = {absl::StrCat("t", article % 5), "news"},
          .authors = {absl::StrCat("author", article % 7)}};
}

// Describes every article like its events do (never hidden), as the
// article service would; pure, so any thread may ask.
class StaticSource : public ArticleMetadataSource {
 public:
  absl::StatusOr<ArticleInfoMap> Lookup(const std::vector<std::string>& articles) override {
    lookups_.fetch_add(1, std::memory_order_relaxed);
    ArticleInfoMap out;
    for (const std::string& id : articles) {
      const int n = std::stoi(id.substr(1));
      out[id] = {.metadata = MetadataOf(n),
                 .summary = ArticleSummary{.title = absl::StrCat("Title ", id), .slug = id}};
    }
    return out;
  }
  std::optional<ArticleInfoMap> LookupCached(const std::vector<std::string>& articles) override {
    return *Lookup(articles);
  }
  int lookups() const { return lookups_.load(); }

 private:
  std::atomic<int> lookups_{0};
};

// A tiny deterministic generator per thread (no shared state).
struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
};

// Per-(query, article) views a reader saw last: they may only grow, and
// never beyond what ends up counted.
class MonotonicViews {
 public:
  void Observe(const std::string& where, const std::string& article, int64_t views) {
    int64_t& last = last_[where + "|" + article];
    EXPECT_GE(views, last) << where << " " << article << " went backwards";
    last = std::max(last, views);
    int64_t& max = max_[article];
    max = std::max(max, views);
  }
  const std::map<std::string, int64_t>& max_by_article() const { return max_; }

 private:
  absl::flat_hash_map<std::string, int64_t> last_;
  std::map<std::string, int64_t> max_;
};

void CheckEntries(const std::string& where, const TrendingQuery& q, const TrendingResult& r,
                  MonotonicViews& seen) {
  EXPECT_LE(static_cast<int>(r.entries.size()), q.limit) << where;
  for (const RankedEntry& e : r.entries) {
    EXPECT_GT(e.views, 0) << where;
    EXPECT_LE(e.unique_visitors, e.views) << where << " " << e.article;
    if (!q.section.empty()) {
      EXPECT_EQ(MetadataOf(std::stoi(e.article.substr(1))).section, q.section) << where;
    }
    seen.Observe(where, e.article, e.views);
  }
}

struct Totals {
  std::vector<int64_t> accepted = std::vector<int64_t>(kArticles, 0);
  std::vector<int64_t> with_visitor = std::vector<int64_t>(kArticles, 0);
  int64_t deduplicated = 0;
  int64_t rejected = 0;
  int64_t bad_sent = 0;  // bots and malformed names sent on purpose
};

TEST(TrendingConcurrencyTest, ReadersSeeConsistentCountsWhileIngestRunsFlatOut) {
  // Start of the minute the whole test stays in.
  const absl::Time minute = At("2024-05-01T12:07:00Z");
  const absl::Time last_tick = minute + absl::Seconds(59);
  FakeClock clock(minute);
  const StoreOptions store_options{.shards = 8, .exact_uniques_within = absl::Minutes(30)};
  ViewStore store(store_options, clock);
  ViewStore replica(store_options, clock);  // fed only with the taken deltas
  VisitorHasher hasher("concurrency-secret");
  Ingestor ingestor(store, clock, hasher, {.dedup_window = absl::Minutes(30)});
  // Every result cached (the fake clock does not move while computing) and
  // refreshed as soon as the ticking clock makes it 2 ms old.
  RankingCache cache({.max_staleness = absl::Milliseconds(10),
                      .refresh_after = absl::Milliseconds(2),
                      .min_compute_time = absl::ZeroDuration()},
                     clock, [&store](const TrendingQuery& q) { return store.Trending(q); });
  StaticSource source;
  Rankings rankings(store, &source, &cache);
  Rankings plain_rankings(store, /*source=*/nullptr, &cache);
  cache.Start();

  std::atomic<bool> ingest_done{false};
  std::atomic<bool> stop_clock{false};
  std::vector<std::thread> threads;

  // The clock: 1 ms of fake time per step, never past the minute.
  std::thread ticker([&] {
    while (!stop_clock.load()) {
      if (clock.Now() < last_tick) clock.Advance(absl::Milliseconds(1));
      absl::SleepFor(absl::Microseconds(200));
    }
  });

  // Ingest: batches over every article and a pool of visitors (so repeats
  // are deduplicated), with event metadata, times over the last 25 minutes,
  // and a few bots and malformed names that must be rejected.
  std::vector<Totals> totals(kIngestThreads);
  for (int t = 0; t < kIngestThreads; ++t) {
    threads.emplace_back([&, t] {
      Rng rng{0x9e3779b97f4a7c15ULL * (t + 1)};
      std::vector<ArticleMetadata> metadata;
      for (int a = 0; a < kArticles; ++a) metadata.push_back(MetadataOf(a));
      std::vector<std::string> names, visitors;
      std::vector<int> article_of;
      std::vector<RawView> batch;
      std::vector<Verdict> verdicts;
      Totals& mine = totals[t];
      for (int b = 0; b < kBatchesPerThread; ++b) {
        names.clear();
        visitors.clear();
        article_of.clear();
        batch.clear();
        const absl::Time now = clock.Now();
        for (int i = 0; i < kBatchSize; ++i) {
          // Skewed towards low ids, so rankings have a head and a tail.
          const int a = std::min(rng.Below(kArticles), rng.Below(kArticles));
          article_of.push_back(a);
          names.push_back(absl::StrCat("articles/", ArticleId(a)));
          const int kind = rng.Below(100);
          visitors.push_back(kind < 10 ? "" : absl::StrCat("v", rng.Below(kVisitors)));
          if (kind == 99) names.back() = "posts/x";  // malformed
        }
        for (int i = 0; i < kBatchSize; ++i) {
          RawView v{.article_name = names[i],
                    .view_time = now - absl::Seconds(rng.Below(25 * 60)),
                    .visitor_id = visitors[i],
                    .metadata = &metadata[article_of[i]]};
          if (i % 97 == 0) v.user_agent = "Googlebot/2.1";
          if (i % 97 == 0 || names[i] == "posts/x") ++mine.bad_sent;
          batch.push_back(v);
        }
        verdicts.assign(batch.size(), Verdict{});
        uint64_t ticket = 0;
        ingestor.RecordBatch(batch, verdicts.data(), &ticket);
        for (size_t i = 0; i < batch.size(); ++i) {
          switch (verdicts[i].outcome) {
            case Outcome::kAccepted:
              ++mine.accepted[article_of[i]];
              if (!visitors[i].empty()) ++mine.with_visitor[article_of[i]];
              break;
            case Outcome::kDeduplicated:
              ++mine.deduplicated;
              break;
            case Outcome::kRejected:
              ++mine.rejected;
              EXPECT_TRUE(verdicts[i].reason == RejectReason::kBot ||
                          verdicts[i].reason == RejectReason::kInvalidArticle)
                  << static_cast<int>(verdicts[i].reason);
              break;
          }
        }
      }
    });
  }

  // Readers run until ingest is over and have done some rounds by then.
  auto reader_loop = [&](auto round) {
    for (int i = 0; !ingest_done.load() || i < 20; ++i) round(i);
  };
  std::vector<MonotonicViews> seen(4);
  const std::vector<TrendingQuery> queries = {
      {.window = absl::Hours(1), .limit = 20},
      {.window = absl::Hours(1), .limit = 10, .section = "world"},
      {.window = absl::Hours(24), .metric = RankMetric::kUniqueVisitors, .limit = 10, .tag = "t1"},
      {.window = absl::Minutes(30), .metric = RankMetric::kHot, .limit = 15},
  };
  // GetTrending: the cached answer when there is one, else a computation.
  threads.emplace_back([&] {
    reader_loop([&](int i) {
      const TrendingQuery& q = queries[i % queries.size()];
      const std::string where = absl::StrCat("GetTrending#", i % queries.size());
      std::optional<TrendingResult> r = rankings.TryGetCached(q);
      CheckEntries(where, q, r ? *r : rankings.Get(q), seen[0]);
    });
  });
  // The store's top-K directly, filtered and not.
  threads.emplace_back([&] {
    reader_loop([&](int i) {
      const TrendingQuery& q = queries[i % queries.size()];
      CheckEntries(absl::StrCat("Trending#", i % queries.size()), q, store.Trending(q), seen[1]);
    });
  });
  // GetArticleStats: points add up to the total (one consistent read).
  threads.emplace_back([&] {
    Rng rng{42};
    reader_loop([&](int) {
      const std::string id = ArticleId(rng.Below(kArticles));
      for (auto [window, granularity] :
           {std::pair{absl::Hours(1), 1}, std::pair{absl::Hours(24), 60}}) {
        const ArticleSeries s = store.Series(id, window, granularity);
        int64_t sum = 0;
        for (const SeriesPoint& p : s.points) {
          EXPECT_LE(p.unique_visitors, p.views);
          sum += p.views;
        }
        EXPECT_EQ(sum, s.total_views) << id;
        EXPECT_LE(s.unique_visitors, s.total_views) << id;
        seen[2].Observe(absl::StrCat("Series", absl::ToInt64Hours(window)), id, s.total_views);
      }
    });
  });
  // WatchTrending: the watched ranking asked again and again (the cache's
  // refresher recomputes it underneath as the clock ticks).
  threads.emplace_back([&] {
    const TrendingQuery watched{.window = absl::Minutes(5), .limit = 10, .section = "sport"};
    reader_loop([&](int) {
      CheckEntries("Watch", watched, plain_rankings.Get(watched), seen[3]);
      absl::SleepFor(absl::Microseconds(100));
    });
  });

  // The synchronizer's in-memory part: take what is pending (a flush),
  // hand it to another replica (its poll), maintain, checkpoint sketches.
  std::vector<int64_t> taken(kArticles, 0);
  int64_t taken_views = 0;
  auto take = [&] {
    PendingBatch batch = store.TakePending();
    for (const BucketDelta& d : batch.deltas) taken[std::stoi(d.article.substr(1))] += d.views;
    taken_views += batch.views;
    replica.ApplyDeltas(batch.deltas);
  };
  std::atomic<int> sync_rounds{0};
  std::thread sync([&] {
    while (!ingest_done.load() || sync_rounds.load() < 5) {
      take();
      store.Maintain();
      ingestor.Maintain();
      store.ChangedSketches();
      store.CheckpointDone();
      sync_rounds.fetch_add(1);
      absl::SleepFor(absl::Milliseconds(2));
    }
  });

  for (int t = 0; t < kIngestThreads; ++t) threads[t].join();
  ingest_done.store(true);
  for (size_t t = kIngestThreads; t < threads.size(); ++t) threads[t].join();
  sync.join();
  stop_clock.store(true);
  ticker.join();
  cache.Stop();
  take();  // what was counted after the last round

  // Quiescent: every total is exactly what was counted.
  Totals all;
  for (const Totals& t : totals) {
    for (int a = 0; a < kArticles; ++a) {
      all.accepted[a] += t.accepted[a];
      all.with_visitor[a] += t.with_visitor[a];
    }
    all.deduplicated += t.deduplicated;
    all.rejected += t.rejected;
    all.bad_sent += t.bad_sent;
  }
  int64_t accepted = 0;
  for (int64_t n : all.accepted) accepted += n;
  EXPECT_EQ(accepted + all.deduplicated + all.rejected,
            int64_t{kIngestThreads} * kBatchesPerThread * kBatchSize);
  EXPECT_EQ(all.rejected, all.bad_sent);
  EXPECT_GT(all.deduplicated, 0);
  EXPECT_EQ(taken_views, accepted);
  EXPECT_EQ(store.pending_views(), 0);

  int ranked = 0;
  for (int a = 0; a < kArticles; ++a) {
    const std::string id = ArticleId(a);
    const ArticleSeries hour = store.Series(id, absl::Hours(1), 1);
    EXPECT_EQ(hour.total_views, all.accepted[a]) << id;
    EXPECT_EQ(store.Series(id, absl::Hours(24), 60).total_views, all.accepted[a]) << id;
    // Within the dedup window unique visitors are exact: the counted views
    // that carried a visitor id.
    EXPECT_EQ(store.Series(id, absl::Minutes(30), 1).unique_visitors, all.with_visitor[a]) << id;
    EXPECT_LE(hour.unique_visitors, hour.total_views) << id;
    // What was taken for the flushes is exactly what was counted, and a
    // replica fed with it agrees.
    EXPECT_EQ(taken[a], all.accepted[a]) << id;
    EXPECT_EQ(replica.Series(id, absl::Hours(1), 1).total_views, all.accepted[a]) << id;
    EXPECT_EQ(replica.Series(id, absl::Minutes(30), 1).unique_visitors, all.with_visitor[a]) << id;
    if (all.accepted[a] > 0) ++ranked;
    for (const MonotonicViews& s : seen) {
      auto it = s.max_by_article().find(id);
      if (it != s.max_by_article().end()) {
        EXPECT_LE(it->second, all.accepted[a]) << id;
      }
    }
  }
  const TrendingResult everything = store.Trending({.window = absl::Hours(1), .limit = kArticles});
  ASSERT_EQ(static_cast<int>(everything.entries.size()), ranked);
  for (const RankedEntry& e : everything.entries) {
    EXPECT_EQ(e.views, all.accepted[std::stoi(e.article.substr(1))]) << e.article;
  }
  const TrendingResult world =
      store.Trending({.window = absl::Hours(1), .limit = kArticles, .section = "world"});
  int world_ranked = 0;
  for (int a = 0; a < kArticles; a += 3) world_ranked += all.accepted[a] > 0;
  EXPECT_EQ(static_cast<int>(world.entries.size()), world_ranked);
  // Every reader saw something, and the cache really served and refreshed.
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_FALSE(seen[i].max_by_article().empty()) << i;
  const RankingCacheStats stats = cache.Stats();
  EXPECT_GT(stats.hits, 0u);
  EXPECT_GT(stats.refreshes, 0u);
  EXPECT_GT(source.lookups(), 0);
  EXPECT_GE(sync_rounds.load(), 5);
}

// Pings beside views: ingest threads register page views and ping them
// (each ping a whole second apart in event time, so the interval rule
// passes) while readers rank by ENGAGED_TIME, AVERAGE_ENGAGED_TIME and
// CONCURRENT_READERS and read series, and the sync thread takes the pending
// deltas into a second replica. Engaged time never goes backwards, and once
// quiescent both replicas hold exactly the seconds of the counted pings.
TEST(TrendingConcurrencyTest, EngagementStaysConsistentUnderConcurrentPings) {
  const absl::Time start = At("2024-05-01T12:07:00Z");
  FakeClock clock(start + absl::Seconds(50));
  const StoreOptions store_options{.shards = 8, .exact_uniques_within = absl::Minutes(30)};
  ViewStore store(store_options, clock);
  ViewStore replica(store_options, clock);
  VisitorHasher hasher("concurrency-secret");
  Ingestor ingestor(store, clock, hasher, {.min_ping_interval = absl::Seconds(1)});
  constexpr int kPageViews = 200;   // per thread
  constexpr int kPingsEach = kTsan ? 10 : 40;
  std::vector<std::vector<int64_t>> engaged(kIngestThreads, std::vector<int64_t>(kArticles, 0));
  std::atomic<int> writers_left{kIngestThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kIngestThreads; ++t) {
    threads.emplace_back([&, t] {
      Rng rng{0x51ed270b7a1f3c2dULL * (t + 1)};
      std::vector<std::string> names, visitors, page_views;
      for (int p = 0; p < kPageViews; ++p) {
        names.push_back(absl::StrCat("articles/", ArticleId(rng.Below(kArticles))));
        visitors.push_back(absl::StrCat("r", t, "-", p % 50));
        page_views.push_back(absl::StrCat("pv", t, "-", p));
      }
      std::vector<RawView> batch;
      std::vector<Verdict> verdicts(kPageViews);
      uint64_t ticket = 0;
      for (int p = 0; p < kPageViews; ++p) {
        batch.push_back({.article_name = names[p], .view_time = start, .visitor_id = visitors[p],
                         .page_view_id = page_views[p]});
      }
      ingestor.RecordBatch(batch, verdicts.data(), &ticket);
      for (int k = 0; k < kPingsEach; ++k) {
        batch.clear();
        for (int p = 0; p < kPageViews; ++p) {
          batch.push_back({.article_name = names[p], .view_time = start + absl::Seconds(k + 1),
                           .visitor_id = visitors[p], .kind = EventKind::kEngagement,
                           .page_view_id = page_views[p],
                           .engaged = absl::Seconds(1 + rng.Below(20))});
        }
        ingestor.RecordBatch(batch, verdicts.data(), &ticket);
        for (int p = 0; p < kPageViews; ++p) {
          ASSERT_EQ(verdicts[p].outcome, Outcome::kAccepted) << RejectReasonName(verdicts[p].reason);
          engaged[t][std::stoi(names[p].substr(std::string("articles/a").size()))] +=
              absl::ToInt64Seconds(batch[p].engaged);
        }
      }
      writers_left.fetch_sub(1);
    });
  }
  MonotonicViews seen;  // engaged seconds per article, only growing
  std::thread reader([&] {
    while (writers_left.load() > 0) {
      for (RankMetric m : {RankMetric::kEngagedTime, RankMetric::kAverageEngagedTime,
                           RankMetric::kConcurrentReaders}) {
        const TrendingResult r = store.Trending({.window = absl::Minutes(5), .metric = m});
        for (const RankedEntry& e : r.entries) {
          seen.Observe("top", e.article, e.engaged_seconds);
          EXPECT_LE(e.concurrent_readers, kIngestThreads * 50) << e.article;
        }
      }
      const ArticleSeries s = store.Series(ArticleId(0), absl::Minutes(5), 1);
      int64_t sum = 0;
      for (const SeriesPoint& p : s.points) sum += p.engaged_seconds;
      EXPECT_EQ(sum, s.engaged_seconds);
    }
  });
  std::thread sync([&] {
    while (writers_left.load() > 0) {
      replica.ApplyDeltas(store.TakePending().deltas);
      store.Maintain();
      ingestor.Maintain();
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  for (std::thread& t : threads) t.join();
  reader.join();
  sync.join();
  replica.ApplyDeltas(store.TakePending().deltas);
  EXPECT_EQ(store.pending_views(), 0);
  for (int a = 0; a < kArticles; ++a) {
    int64_t want = 0;
    for (const auto& per_thread : engaged) want += per_thread[a];
    EXPECT_EQ(store.Series(ArticleId(a), absl::Minutes(5), 1).engaged_seconds, want) << a;
    EXPECT_EQ(replica.Series(ArticleId(a), absl::Minutes(5), 1).engaged_seconds, want) << a;
  }
}

}  // namespace
}  // namespace newsgrid::trending
