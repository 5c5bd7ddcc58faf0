#include "trending-service/ranking_cache.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "trending-service/rankings.h"

namespace newsgrid::trending {
namespace {

constexpr absl::Time kStart = absl::FromUnixSeconds(1'714'565'250);

// Every result cached (the fake clock does not move while computing).
RankingCacheOptions Options() {
  return {.max_staleness = absl::Seconds(1),
          .refresh_after = absl::Milliseconds(500),
          .idle_expiry = absl::Seconds(30),
          .min_compute_time = absl::ZeroDuration(),
          .max_entries = 4};
}

class CountingStore {
 public:
  explicit CountingStore(FakeClock& clock) : store({}, clock) {}
  RankingCache::Compute Compute() {
    return [this](const TrendingQuery& q) {
      ++computes;
      return store.Trending(q);
    };
  }
  ViewStore store;
  std::atomic<int> computes{0};
};

std::vector<std::string> Order(const TrendingResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.entries) out.push_back(e.article);
  return out;
}

TEST(RankingCacheTest, KeyNormalizesExclusionsAndSeparatesFields) {
  TrendingQuery a{.limit = 5, .exclude = {"x", "y"}};
  TrendingQuery b{.limit = 5, .exclude = {"y", "x"}};
  EXPECT_EQ(RankingCache::KeyOf(a), RankingCache::KeyOf(b));
  TrendingQuery section{.section = "ab"};
  TrendingQuery tag{.section = "a", .tag = "b"};
  EXPECT_NE(RankingCache::KeyOf(section), RankingCache::KeyOf(tag));
  EXPECT_NE(RankingCache::KeyOf({.metric = RankMetric::kHot}), RankingCache::KeyOf({}));
  EXPECT_NE(RankingCache::KeyOf({.window = absl::Hours(2)}), RankingCache::KeyOf({}));
}

TEST(RankingCacheTest, ServesWithinStalenessThenRecomputes) {
  FakeClock clock(kStart);
  CountingStore s(clock);
  RankingCache cache(Options(), clock, s.Compute());
  s.store.Add("a", clock.Now(), 0, false, nullptr);
  EXPECT_EQ(Order(cache.Get({})), std::vector<std::string>{"a"});
  s.store.Add("b", clock.Now(), 0, false, nullptr);
  s.store.Add("b", clock.Now(), 0, false, nullptr);
  clock.Advance(absl::Seconds(1));  // exactly the bound: still served
  TrendingResult cached = cache.Get({});
  EXPECT_EQ(Order(cached), std::vector<std::string>{"a"});
  EXPECT_EQ(cached.compute_time, kStart);  // the age is visible to the caller
  EXPECT_EQ(s.computes, 1);
  clock.Advance(absl::Milliseconds(1));  // past it: never served
  EXPECT_EQ(Order(cache.Get({})), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(s.computes, 2);
  EXPECT_EQ(cache.Stats().hits, 1u);
}

TEST(RankingCacheTest, RefresherRecomputesReadEntriesAndDropsIdleOnes) {
  FakeClock clock(kStart);
  CountingStore s(clock);
  RankingCache cache(Options(), clock, s.Compute());
  s.store.Add("a", clock.Now(), 0, false, nullptr);
  cache.Get({});
  cache.RefreshDue();  // too young
  EXPECT_EQ(s.computes, 1);
  s.store.Add("b", clock.Now(), 0, false, nullptr);
  s.store.Add("b", clock.Now(), 0, false, nullptr);
  clock.Advance(absl::Milliseconds(600));
  cache.RefreshDue();
  EXPECT_EQ(s.computes, 2);
  EXPECT_EQ(cache.Stats().refreshes, 1u);
  clock.Advance(absl::Milliseconds(600));  // 1.2 s after the first, 0.6 s after the refresh
  EXPECT_EQ(Order(cache.Get({})), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(s.computes, 2);  // served from the refresh
  clock.Advance(absl::Seconds(31));
  cache.RefreshDue();  // not read for longer than idle_expiry
  EXPECT_EQ(cache.Stats().entries, 0u);
  EXPECT_EQ(s.computes, 2);
}

// A cache holding the ranking {a} of {.limit = 3}, computed before the store
// also got "b".
struct CachedBeforeB {
  CachedBeforeB() {
    s.store.Add("a", clock.Now(), 0, false, nullptr);
    cache.Get({.limit = 3});
    s.store.Add("b", clock.Now(), 0, false, nullptr);
  }
  FakeClock clock{kStart};
  CountingStore s{clock};
  RankingCache cache{Options(), clock, s.Compute()};
};

TEST(RankingCacheTest, InvalidateForcesARecomputation) {
  CachedBeforeB f;
  RankingCache& cache = f.cache;
  CountingStore& s = f.s;
  cache.Invalidate({.limit = 5});  // another key: no effect
  EXPECT_EQ(cache.Get({.limit = 3}).entries.size(), 1u);
  cache.Invalidate({.limit = 3});
  EXPECT_EQ(cache.Get({.limit = 3}).entries.size(), 2u);
  EXPECT_EQ(s.computes, 2);
}

TEST(RankingCacheTest, RequestedRefreshKeepsServingUntilTheRefresherRuns) {
  CachedBeforeB f;
  RankingCache& cache = f.cache;
  CountingStore& s = f.s;
  cache.RequestRefresh({.limit = 3});
  EXPECT_EQ(cache.Get({.limit = 3}).entries.size(), 1u);  // still the cached one
  EXPECT_EQ(s.computes, 1);
  cache.RefreshDue();  // young, but asked for
  EXPECT_EQ(s.computes, 2);
  EXPECT_EQ(cache.Get({.limit = 3}).entries.size(), 2u);
  cache.RefreshDue();  // nothing asked, nothing due
  EXPECT_EQ(s.computes, 2);
}

TEST(RankingCacheTest, InvalidationDuringAComputationDiscardsItsResult) {
  FakeClock clock(kStart);
  absl::Notification started, release;
  std::atomic<int> computes{0};
  RankingCache* self = nullptr;
  RankingCache cache(Options(), clock, [&](const TrendingQuery&) {
    if (++computes == 1) {
      started.Notify();
      release.WaitForNotification();
    }
    TrendingResult r;
    r.entries.push_back({.article = computes == 1 ? "old" : "new"});
    return r;
  });
  self = &cache;
  std::thread reader([&] { EXPECT_EQ(self->Get({}).entries[0].article, "old"); });
  started.WaitForNotification();
  cache.Invalidate({});
  release.Notify();
  reader.join();
  EXPECT_EQ(cache.Get({}).entries[0].article, "new");
  EXPECT_EQ(computes, 2);
}

TEST(RankingCacheTest, ConcurrentMissesComputeOnce) {
  FakeClock clock(kStart);
  absl::Notification release;
  std::atomic<int> computes{0};
  RankingCache cache(Options(), clock, [&](const TrendingQuery&) {
    ++computes;
    release.WaitForNotification();
    TrendingResult r;
    r.entries.push_back({.article = "a"});
    return r;
  });
  std::vector<std::thread> readers;
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] { EXPECT_EQ(cache.Get({}).entries.size(), 1u); });
  }
  absl::SleepFor(absl::Milliseconds(50));  // let them all arrive
  release.Notify();
  for (auto& t : readers) t.join();
  EXPECT_EQ(computes, 1);
  EXPECT_EQ(cache.Stats().hits, 7u);
}

// A recomputation running late (a saturated machine) does not make readers
// queue: the previous result is served within the grace, then they wait.
TEST(RankingCacheTest, ReadersGetThePreviousResultWhileARecomputationRunsLate) {
  FakeClock clock(kStart);
  std::atomic<int> computes{0};
  absl::Notification entered;
  absl::Notification release;
  RankingCache cache(Options(), clock, [&](const TrendingQuery&) {
    TrendingResult r;
    r.entries.push_back({.article = absl::StrCat("v", ++computes)});
    if (computes == 2) {
      entered.Notify();
      release.WaitForNotification();
    }
    return r;
  });
  ASSERT_EQ(cache.Get({}).entries[0].article, "v1");
  clock.Advance(absl::Milliseconds(600));
  std::thread refresher([&] { cache.RefreshDue(); });  // v2, blocked
  entered.WaitForNotification();
  clock.Advance(absl::Seconds(2));  // v1 is 2.6 s old: stale, within the grace
  EXPECT_EQ(cache.Get({}).entries[0].article, "v1");
  EXPECT_EQ(cache.Stats().stale_served, 1u);
  clock.Advance(absl::Seconds(4));  // 6.6 s: beyond 1 s + 5 s, readers wait
  std::atomic<bool> answered{false};
  std::thread reader([&] {
    EXPECT_NE(cache.Get({}).entries[0].article, "v1");
    answered = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(answered.load());  // waiting for the recomputation
  release.Notify();
  reader.join();
  refresher.join();
  EXPECT_TRUE(answered.load());
}

TEST(RankingCacheTest, BoundedByLeastRecentlyRead) {
  FakeClock clock(kStart);
  CountingStore s(clock);
  RankingCache cache(Options(), clock, s.Compute());  // 4 entries
  for (int limit = 1; limit <= 4; ++limit) {
    cache.Get({.limit = limit});
    clock.Advance(absl::Milliseconds(10));
  }
  cache.Get({.limit = 1});  // limit 2 is now the least recently read
  cache.Get({.limit = 5});
  EXPECT_EQ(cache.Stats().entries, 4u);
  const int before = s.computes;
  cache.Get({.limit = 1});
  EXPECT_EQ(s.computes, before);  // kept
  cache.Get({.limit = 2});
  EXPECT_EQ(s.computes, before + 1);  // evicted
}

TEST(RankingCacheTest, CheapResultsAreNotCached) {
  FakeClock clock(kStart);
  CountingStore s(clock);
  RankingCacheOptions o = Options();
  o.min_compute_time = absl::Milliseconds(1);  // the fake clock measures 0
  RankingCache cache(o, clock, s.Compute());
  s.store.Add("a", clock.Now(), 0, false, nullptr);
  cache.Get({});
  s.store.Add("b", clock.Now(), 0, false, nullptr);
  EXPECT_EQ(cache.Get({}).entries.size(), 2u);  // read-your-writes on a small store
  EXPECT_EQ(s.computes, 2);
}

TEST(RankingCacheTest, BackgroundRefresherKeepsEntriesFresh) {
  FakeClock clock(kStart);
  CountingStore s(clock);
  RankingCacheOptions o = Options();
  o.refresh_after = absl::Milliseconds(40);
  RankingCache cache(o, clock, s.Compute());
  cache.Get({});
  cache.Start();
  clock.Advance(absl::Milliseconds(100));
  for (int i = 0; i < 200 && s.computes < 2; ++i) absl::SleepFor(absl::Milliseconds(5));
  cache.Stop();
  EXPECT_GE(s.computes, 2);
}

// Hydration runs on cached rankings: an article hidden after its ranking was
// cached leaves at once, and the next one moves up.
TEST(RankingCacheTest, RankingsDropAnArticleHiddenAfterCaching) {
  FakeClock clock(kStart);
  CountingStore s(clock);
  RankingCache cache(Options(), clock, s.Compute());
  s.store.Add("a", clock.Now(), 0, false, nullptr);
  s.store.Add("a", clock.Now(), 0, false, nullptr);
  s.store.Add("b", clock.Now(), 0, false, nullptr);
  class Source : public ArticleMetadataSource {
   public:
    absl::StatusOr<ArticleInfoMap> Lookup(const std::vector<std::string>& ids) override {
      ArticleInfoMap out;
      for (const auto& id : ids) {
        out[id] = {.summary = ArticleSummary{.title = "T " + id}, .hidden = hide_a && id == "a"};
      }
      return out;
    }
    bool hide_a = false;
  } source;
  Rankings rankings(s.store, &source, &cache);
  TrendingResult r = rankings.Get({.limit = 1});
  ASSERT_EQ(Order(r), std::vector<std::string>{"a"});
  ASSERT_TRUE(r.entries[0].summary.has_value());
  const int computes = s.computes;
  EXPECT_EQ(Order(rankings.Get({.limit = 1})), std::vector<std::string>{"a"});
  EXPECT_EQ(s.computes, computes);  // cached and already hydrated
  source.hide_a = true;
  r = rankings.Get({.limit = 1});
  EXPECT_EQ(Order(r), std::vector<std::string>{"b"});
  ASSERT_TRUE(r.entries[0].summary.has_value());
  EXPECT_EQ(r.entries[0].summary->title, "T b");
  EXPECT_EQ(Order(rankings.Get({.limit = 1})), std::vector<std::string>{"b"});
}

}  // namespace
}  // namespace newsgrid::trending
