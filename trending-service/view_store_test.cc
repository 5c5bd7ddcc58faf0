#include "trending-service/view_store.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/hold_timer.h"
#include "tests/support/test_time.h"
#include "trending-service/visitor_hash.h"

namespace newsgrid::trending {

class ViewStoreTestPeer {
 public:
  static size_t ShardIndex(const ViewStore& s, absl::string_view a) { return s.ShardIndex(a); }
  static absl::Mutex& ShardMutex(const ViewStore& s, absl::string_view a) { return s.ShardMutex(a); }
};

namespace {

using ::newsgrid::testing::At;

uint64_t Visitor(int i) { return SipHash24(3, 4, absl::StrCat("v", i)); }

class ViewStoreTest : public ::testing::Test {
 protected:
  FakeClock clock_{At("2024-05-01T12:07:30Z")};
  ViewStore store_{{.retention = absl::Hours(168), .hot_half_life = absl::Hours(1), .shards = 4},
                   clock_};
  void View(const std::string& article, absl::Time t, int visitor = -1) {
    store_.Add(article, t, visitor >= 0 ? Visitor(visitor) : 0, visitor >= 0, nullptr);
  }
  TrendingResult Top(absl::Duration window, RankMetric metric = RankMetric::kViews,
                     int limit = 10) {
    return store_.Trending({.window = window, .metric = metric, .limit = limit});
  }
};

TEST_F(ViewStoreTest, WindowBoundaryAtBucketEdges) {
  View("a", At("2024-05-01T12:02:59Z"));
  View("a", At("2024-05-01T12:03:00Z"));
  View("a", At("2024-05-01T12:07:29Z"));
  TrendingResult r = Top(absl::Minutes(5));
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].views, 2);
  EXPECT_EQ(r.resolution, absl::Minutes(1));
  // On the next boundary the 12:03 view leaves the 5-minute window.
  clock_.Set(At("2024-05-01T12:08:00Z"));
  EXPECT_EQ(Top(absl::Minutes(5)).entries[0].views, 1);
  EXPECT_EQ(Top(absl::Minutes(6)).entries[0].views, 2);
  EXPECT_EQ(Top(absl::Minutes(7)).entries[0].views, 3);
}

TEST_F(ViewStoreTest, LateEventsLandInTheirBucket) {
  View("a", At("2024-05-01T12:07:00Z"));
  View("a", At("2024-05-01T10:30:10Z"));  // late, arrives after a newer one
  ArticleSeries s = store_.Series("a", absl::Hours(3), 60);
  ASSERT_EQ(s.points.size(), 3u);
  EXPECT_EQ(MinuteStart(s.points[0].start_min), At("2024-05-01T10:00:00Z"));
  EXPECT_EQ(s.points[0].views, 1);
  EXPECT_EQ(s.points[1].views, 0);
  EXPECT_EQ(s.points[2].views, 1);
  EXPECT_EQ(s.total_views, 2);
  EXPECT_EQ(Top(absl::Hours(1)).entries[0].views, 1);
  EXPECT_EQ(Top(absl::Hours(2)).entries[0].views, 2);
}

// Every view is counted in the minute ring (2 h), the 10-minute tier (25 h)
// and the hour tier (the retention); each tier forgets what it no longer
// needs, and windows keep their totals.
TEST_F(ViewStoreTest, TiersKeepTotalsAndExpiryDropsOldViews) {
  for (int m = 0; m < 120; ++m) View("a", At("2024-05-01T09:00:00Z") + absl::Minutes(m));
  View("a", At("2024-05-01T12:00:00Z"));
  store_.Maintain();
  StoreStats st = store_.Stats();
  EXPECT_EQ(st.minute_rings, 1u);
  EXPECT_EQ(st.buckets, 13u + 3u);  // 09:00..10:50 and 12:00 by 10 minutes; 09, 10, 12 by hours
  EXPECT_EQ(Top(absl::Minutes(60)).entries[0].views, 1);   // the ring: 11:08..12:07
  EXPECT_EQ(Top(absl::Minutes(120)).entries[0].views, 50 + 1);  // by 10 minutes: 10:10..12:10
  EXPECT_EQ(Top(absl::Hours(24)).entries[0].views, 121);
  clock_.Set(At("2024-05-02T12:07:30Z"));  // the 09:00-11:00 minutes are older than 25 h now
  store_.Maintain();
  st = store_.Stats();
  EXPECT_EQ(st.minute_rings, 0u);
  EXPECT_EQ(st.buckets, 1u + 3u);
  EXPECT_EQ(Top(absl::Hours(48)).entries[0].views, 121);
  EXPECT_EQ(Top(absl::Hours(26)).entries[0].views, 1);
  // A late event older than 25 h goes straight into its hour.
  View("a", At("2024-05-01T09:30:00Z"));
  store_.Maintain();
  EXPECT_EQ(store_.Stats().buckets, 4u);
  EXPECT_EQ(Top(absl::Hours(48)).entries[0].views, 122);
  // Buckets expire with the whole hour that passed the retention.
  clock_.Set(At("2024-05-08T12:07:30Z"));
  store_.Maintain();
  EXPECT_EQ(store_.Stats().articles, 1u);
  EXPECT_TRUE(Top(absl::Hours(168)).entries.empty());  // the 7-day window starts at 13:00
  clock_.Set(At("2024-05-08T13:00:00Z"));
  store_.TakePending();  // articles with unflushed views are kept
  store_.Maintain();
  EXPECT_EQ(store_.Stats().articles, 0u);
  EXPECT_TRUE(Top(absl::Hours(168)).entries.empty());
}

TEST_F(ViewStoreTest, HotScoreFollowsTheFormula) {
  const absl::Time now = clock_.Now();
  const absl::Time times[] = {now - absl::Minutes(1), now - absl::Minutes(30),
                              now - absl::Minutes(90), now - absl::Minutes(200)};
  double expected = 0;
  for (absl::Time t : times) {
    View("a", t);
    expected += std::exp2(-absl::ToDoubleSeconds(now - t) / 3600.0);
  }
  TrendingResult r = Top(absl::Hours(24), RankMetric::kHot);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_NEAR(r.entries[0].score, expected, 1e-9);
  // Half an hour later every term halved... by 2^-0.5: no rescoring needed.
  clock_.Advance(absl::Minutes(30));
  EXPECT_NEAR(Top(absl::Hours(24), RankMetric::kHot).entries[0].score, expected * std::exp2(-0.5),
              1e-9);
  // Only the window's views count.
  clock_.Set(now);
  const double last_hour = std::exp2(-1.0 / 60) + std::exp2(-30.0 / 60);
  EXPECT_NEAR(store_.Series("a", absl::Hours(1), 1).hot_score, last_hour, 1e-9);
}

TEST_F(ViewStoreTest, HotPrefersRecentViews) {
  const absl::Time now = clock_.Now();
  for (int i = 0; i < 10; ++i) View("old", now - absl::Hours(5));
  for (int i = 0; i < 2; ++i) View("fresh", now - absl::Minutes(1));
  TrendingResult hot = Top(absl::Hours(24), RankMetric::kHot);
  ASSERT_EQ(hot.entries.size(), 2u);
  EXPECT_EQ(hot.entries[0].article, "fresh");
  EXPECT_EQ(Top(absl::Hours(24)).entries[0].article, "old");
}

TEST_F(ViewStoreTest, RankChangeAgainstThePreviousWindow) {
  const absl::Time now = clock_.Now();
  // Previous hour: a > b > c. This hour: c > a, b absent.
  for (int i = 0; i < 5; ++i) View("a", now - absl::Minutes(90));
  for (int i = 0; i < 3; ++i) View("b", now - absl::Minutes(90));
  View("c", now - absl::Minutes(90));
  for (int i = 0; i < 4; ++i) View("c", now - absl::Minutes(5));
  View("a", now - absl::Minutes(5));
  View("d", now - absl::Minutes(5));
  TrendingResult r = Top(absl::Hours(1), RankMetric::kViews, 2);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].article, "c");
  EXPECT_EQ(r.entries[0].previous_rank, 0);  // 3rd before: not in the top 2
  EXPECT_EQ(r.entries[1].article, "a");      // ties (a, d) break by name
  EXPECT_EQ(r.entries[1].previous_rank, 1);
  TrendingResult r3 = Top(absl::Hours(1), RankMetric::kViews, 3);
  EXPECT_EQ(r3.entries[0].previous_rank, 3);
}

// One pass ranks the window and the previous one: HOT rank change, and
// articles with views only before the previous window are in neither.
TEST_F(ViewStoreTest, HotRankChangeAndArticlesOutsideBothWindows) {
  const absl::Time now = clock_.Now();
  for (int i = 0; i < 9; ++i) View("ancient", now - absl::Hours(5));
  for (int i = 0; i < 3; ++i) View("was-first", now - absl::Minutes(90));
  View("was-second", now - absl::Minutes(90));
  View("was-second", now - absl::Minutes(2));
  View("was-second", now - absl::Minutes(1));
  View("new", now - absl::Minutes(1));
  TrendingResult r = Top(absl::Hours(1), RankMetric::kHot, 10);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].article, "was-second");
  EXPECT_EQ(r.entries[0].previous_rank, 2);
  EXPECT_EQ(r.entries[1].article, "new");
  EXPECT_EQ(r.entries[1].previous_rank, 0);
  EXPECT_NEAR(r.entries[1].score, std::exp2(-1.0 / 60), 1e-6);
  TrendingResult views = Top(absl::Hours(1), RankMetric::kViews, 10);
  ASSERT_EQ(views.entries.size(), 2u);
  EXPECT_EQ(views.entries[0].views, 2);
  EXPECT_EQ(views.entries[0].previous_rank, 2);
}

// A top 10 is the head of a ranking of every article: the same articles,
// scores, previous ranks (those within the previous top 10) and
// unresolved articles, for skewed traffic over both windows, late views,
// filters and both metrics. A scan that drops or misranks a candidate to
// save work (a bound checked against the k-th best) fails here.
TEST_F(ViewStoreTest, TopTenIsTheHeadOfTheFullRanking) {
  const absl::Time now = clock_.Now();
  const ArticleMetadata sections[2] = {{.section = "world"}, {.section = "sport"}};
  uint64_t rng = 12345;
  auto next = [&rng](uint64_t n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % n;
  };
  constexpr int kArticles = 2000;
  for (int i = 0; i < kArticles; ++i) {
    // Skewed: a few articles get most views; the third without metadata.
    const int views = 1 + 600 / (i + 1) + static_cast<int>(next(3));
    const ArticleMetadata* m = i % 3 == 2 ? nullptr : &sections[i % 2];
    for (int v = 0; v < views; ++v) {
      // Up to 60 hours back: both 24 h windows, older hours and recent minutes.
      const absl::Duration age = next(4) == 0 ? absl::Seconds(next(600)) : absl::Minutes(next(3600));
      store_.Add(absl::StrCat("a", (i * 7919) % kArticles), now - age, Visitor(v), true, m);
    }
  }
  for (RankMetric metric : {RankMetric::kViews, RankMetric::kHot}) {
    for (absl::Duration window : {absl::Minutes(10), absl::Hours(1), absl::Hours(24)}) {
      for (const std::string section : {"", "world"}) {
        SCOPED_TRACE(absl::StrCat("metric ", static_cast<int>(metric), " window ",
                                  absl::FormatDuration(window), " section '", section, "'"));
        TrendingQuery q{.window = window, .metric = metric, .limit = 10, .section = section};
        const TrendingResult top = store_.Trending(q);
        q.limit = kArticles + 1;
        const TrendingResult all = store_.Trending(q);
        ASSERT_GE(all.entries.size(), 10u);
        ASSERT_EQ(top.entries.size(), 10u);
        for (size_t i = 0; i < 10; ++i) {
          EXPECT_EQ(top.entries[i].article, all.entries[i].article) << i;
          EXPECT_EQ(top.entries[i].score, all.entries[i].score) << i;
          EXPECT_EQ(top.entries[i].views, all.entries[i].views) << i;
          const int previous = all.entries[i].previous_rank;
          EXPECT_EQ(top.entries[i].previous_rank, previous <= 10 ? previous : 0) << i;
        }
        // Unresolved: those of the ten best without metadata that beat the tenth.
        std::vector<std::string> expected;
        for (size_t i = 0; i < all.unresolved.size() && i < 10; ++i) {
          const RankedEntry& u = all.unresolved[i];
          const RankedEntry& tenth = top.entries[9];
          if (u.score > tenth.score || (u.score == tenth.score && u.article < tenth.article)) {
            expected.push_back(u.article);
          }
        }
        std::vector<std::string> got;
        for (const RankedEntry& u : top.unresolved) got.push_back(u.article);
        EXPECT_EQ(got, expected);
        if (!section.empty()) {
          EXPECT_FALSE(all.unresolved.empty());
        }
      }
    }
  }
}

TEST_F(ViewStoreTest, UniqueVisitorsRanking) {
  const absl::Time now = clock_.Now();
  for (int i = 0; i < 100; ++i) View("loyal", now - absl::Minutes(2), i % 5);
  for (int i = 0; i < 40; ++i) View("broad", now - absl::Minutes(2), 1000 + i);
  View("anon", now - absl::Minutes(2));
  TrendingResult r = Top(absl::Hours(1), RankMetric::kUniqueVisitors);
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.entries[0].article, "broad");
  EXPECT_EQ(r.entries[0].unique_visitors, 40);
  EXPECT_EQ(r.entries[1].article, "loyal");
  EXPECT_EQ(r.entries[1].unique_visitors, 5);
  EXPECT_EQ(r.entries[1].views, 100);
  EXPECT_EQ(r.entries[2].unique_visitors, 0);
  // Hour sketches answer beyond the last hour.
  clock_.Advance(absl::Hours(3));
  store_.Maintain();
  EXPECT_EQ(Top(absl::Hours(4), RankMetric::kUniqueVisitors).entries[0].unique_visitors, 40);
}

TEST_F(ViewStoreTest, FiltersAndExclusions) {
  const ArticleMetadata world{.section = "world", .tags = {"election"}, .authors = {"ann"}};
  const ArticleMetadata sport{.section = "sport", .tags = {"football"}, .authors = {"bob"}};
  const absl::Time t = clock_.Now() - absl::Minutes(1);
  store_.Add("w1", t, 0, false, &world);
  store_.Add("w1", t, 0, false, nullptr);
  store_.Add("w2", t, 0, false, &world);
  store_.Add("s1", t, 0, false, &sport);
  TrendingQuery q{.window = absl::Hours(1), .limit = 10, .section = "world"};
  TrendingResult r = store_.Trending(q);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].article, "w1");
  q.exclude.insert("w1");
  EXPECT_EQ(store_.Trending(q).entries.size(), 1u);
  EXPECT_EQ(store_.Trending({.window = absl::Hours(1), .limit = 10, .tag = "football"})
                .entries[0].article, "s1");
  EXPECT_EQ(store_.Trending({.window = absl::Hours(1), .limit = 10, .author = "ann"})
                .entries.size(), 2u);
  // Source metadata wins over event metadata and can hide an article.
  store_.SetSourceInfo("w2", {.metadata = {.section = "sport"}});
  store_.Add("w2", t, 0, false, &world);
  EXPECT_EQ(store_.Trending({.window = absl::Hours(1), .limit = 10, .section = "sport"})
                .entries.size(), 2u);
  store_.SetSourceInfo("s1", {.hidden = true});
  EXPECT_EQ(Top(absl::Hours(1)).entries.size(), 2u);
}

TEST_F(ViewStoreTest, PendingDeltasReplicateExactly) {
  const absl::Time now = clock_.Now();
  for (int i = 0; i < 300; ++i) View(absl::StrCat("a", i % 7), now - absl::Minutes(i % 90), i);
  View("old", now - absl::Hours(30), 1);
  const uint64_t before = store_.Add("x", now, 0, false, nullptr);
  PendingBatch batch = store_.TakePending();
  EXPECT_EQ(batch.flush_seq, before);
  EXPECT_GT(store_.Add("x", now, 0, false, nullptr), before);
  EXPECT_TRUE(store_.TakePending().deltas.size() == 1u);

  ViewStore replica({.retention = absl::Hours(168), .hot_half_life = absl::Hours(1)}, clock_);
  for (const BucketDelta& d : batch.deltas) replica.ApplyDelta(d);
  replica.ApplyDelta({"x", MinuteOf(now), 1, 1, std::exp2(30.0 / 3600), Hll()});
  for (RankMetric m : {RankMetric::kViews, RankMetric::kUniqueVisitors, RankMetric::kHot}) {
    for (absl::Duration w : {absl::Minutes(5), absl::Hours(1), absl::Hours(48)}) {
      TrendingResult a = store_.Trending({.window = w, .metric = m, .limit = 20});
      TrendingResult b = replica.Trending({.window = w, .metric = m, .limit = 20});
      ASSERT_EQ(a.entries.size(), b.entries.size());
      for (size_t i = 0; i < a.entries.size(); ++i) {
        EXPECT_EQ(a.entries[i].article, b.entries[i].article);
        EXPECT_EQ(a.entries[i].views, b.entries[i].views);
        EXPECT_EQ(a.entries[i].unique_visitors, b.entries[i].unique_visitors);
        EXPECT_NEAR(a.entries[i].score, b.entries[i].score, 1e-9 * (1 + a.entries[i].score));
      }
    }
  }
}

TEST_F(ViewStoreTest, DedupMarksGoWithTheirFlushAndStayBounded) {
  ViewStore store({.shards = 1, .max_pending_seen = 10}, clock_);
  const absl::Time now = clock_.Now();
  for (uint64_t i = 1; i <= 4; ++i) {
    store.Add(absl::StrCat("a", i), now, i, true, nullptr, {.visitor = i * 10, .event = i});
  }
  store.Add("a0", now, 0, false, nullptr);  // no keys: no marks
  PendingBatch first = store.TakePending();
  EXPECT_EQ(first.seen.visitors.size(), 4u);
  EXPECT_EQ(first.seen.events.size(), 4u);
  EXPECT_EQ(first.seen_dropped, 0u);
  // 80 offered, 10 kept, the rest counted.
  for (uint64_t i = 1; i <= 40; ++i) {
    store.Add(absl::StrCat("b", i), now, i, true, nullptr, {.visitor = 100 + i, .event = 200 + i});
  }
  PendingBatch second = store.TakePending();
  EXPECT_EQ(second.seen.size(), 10u);
  EXPECT_EQ(second.seen_dropped, 70u);
  // A failed flush is retried with the next: marks accumulate in order and
  // KeepNewest drops from the front (the oldest flush's).
  first.Absorb(std::move(second));
  EXPECT_EQ(first.seen.size(), 18u);
  EXPECT_EQ(first.seen_dropped, 70u);
  const SeenMarks before = first.seen;
  EXPECT_EQ(first.seen.KeepNewest(10), 8u);
  EXPECT_EQ(first.seen.size(), 10u);
  for (auto [kept, all] : {std::pair{&first.seen.visitors, &before.visitors},
                           std::pair{&first.seen.events, &before.events}}) {
    EXPECT_TRUE(std::equal(kept->begin(), kept->end(), all->end() - kept->size()));
  }
  EXPECT_EQ(first.seen.KeepNewest(10), 0u);
}

// The bound is for all shards together: a hot article's shard may hold all
// of it (views are skewed), and a flush makes room again.
TEST_F(ViewStoreTest, DedupMarkBoundIsSharedByTheShards) {
  ViewStore store({.shards = 64, .max_pending_seen = 100}, clock_);
  const absl::Time now = clock_.Now();
  for (uint64_t i = 1; i <= 60; ++i) {
    store.Add("hot", now, i, true, nullptr, {.visitor = i, .event = 1000 + i});
  }
  PendingBatch first = store.TakePending();
  EXPECT_EQ(first.seen.size(), 100u);
  EXPECT_EQ(first.seen_dropped, 20u);
  // Spread over many articles (and so shards), the same bound.
  for (uint64_t i = 1; i <= 30; ++i) {
    store.Add(absl::StrCat("a", i), now, i, true, nullptr, {.visitor = 5000 + i});
  }
  EXPECT_EQ(store.TakePending().seen.size(), 30u);
  for (uint64_t i = 1; i <= 150; ++i) {
    store.Add(absl::StrCat("b", i), now, i, true, nullptr, {.visitor = 9000 + i});
  }
  PendingBatch third = store.TakePending();
  EXPECT_EQ(third.seen.size(), 100u);
  EXPECT_EQ(third.seen_dropped, 50u);
}

TEST_F(ViewStoreTest, EachTakeHoldsOnlyItsOwnViews) {
  // TakePending hands every shard the buffer taken from it the time before,
  // emptied: nothing of an earlier flush may show up in a later one, however
  // the sizes change from round to round.
  ViewStore store({.shards = 4}, clock_);
  const absl::Time now = clock_.Now();
  uint64_t key = 1;
  for (int round = 0; round < 4; ++round) {
    const int articles = round % 2 == 0 ? 300 : 7;
    for (int i = 0; i < articles; ++i) {
      const std::string id = absl::StrCat("r", round, "-", i);
      store.Add(id, now, key, true, nullptr, {.visitor = key, .event = key + 1});
      store.Add(id, now, 0, false, nullptr);  // no keys: no marks
      key += 2;
    }
    PendingBatch batch = store.TakePending();
    EXPECT_EQ(batch.views, 2 * articles) << "round " << round;
    ASSERT_EQ(batch.deltas.size(), static_cast<size_t>(articles)) << "round " << round;
    for (const BucketDelta& d : batch.deltas) {
      EXPECT_TRUE(absl::StartsWith(d.article, absl::StrCat("r", round, "-"))) << d.article;
      EXPECT_EQ(d.views, 2);
      EXPECT_EQ(d.visitors, 1);
    }
    EXPECT_EQ(batch.seen.visitors.size(), static_cast<size_t>(articles)) << "round " << round;
    EXPECT_EQ(batch.seen.events.size(), static_cast<size_t>(articles)) << "round " << round;
    for (const SeenMark& m : batch.seen.visitors) EXPECT_GE(m.key, key - 2 * articles);
    // Handed over whole when the receiving batch is empty (the flush before
    // succeeded): the same views, and the flush number kept.
    PendingBatch retried;
    const uint64_t seq = batch.flush_seq;
    retried.Absorb(std::move(batch));
    EXPECT_EQ(retried.views, 2 * articles);
    EXPECT_EQ(retried.deltas.size(), static_cast<size_t>(articles));
    EXPECT_EQ(retried.seen.size(), static_cast<size_t>(2 * articles));
    EXPECT_EQ(retried.flush_seq, seq);
  }
  EXPECT_EQ(store.pending_views(), 0);
}

TEST_F(ViewStoreTest, AtMostMaxArticlesAreHeld) {
  ViewStore store({.shards = 4, .max_articles = 3}, clock_);
  const absl::Time now = clock_.Now();
  for (const char* id : {"a", "b", "c"}) EXPECT_GT(store.Add(id, now, 0, false, nullptr), 0u);
  EXPECT_EQ(store.Add("d", now, 0, false, nullptr), 0u);  // full: not counted
  EXPECT_GT(store.Add("a", now, 0, false, nullptr), 0u);  // known articles still count
  const ViewToCount batch[] = {{"b", now}, {"e", now}, {"c", now}};
  bool counted[3] = {false, true, false};
  store.AddBatch(batch, counted);
  EXPECT_TRUE(counted[0]);
  EXPECT_FALSE(counted[1]);
  EXPECT_TRUE(counted[2]);
  EXPECT_EQ(store.Stats().articles, 3u);
  EXPECT_EQ(store.Stats().rejected_full, 2u);
  // Other replicas' views are held whatever the bound (every replica ranks
  // the same articles).
  store.ApplyDelta({"f", MinuteOf(now), 1, 1, 1.0, Hll()});
  EXPECT_EQ(store.Trending({.window = absl::Hours(1), .limit = 10}).entries.size(), 4u);
  // Expiry makes room again.
  clock_.Advance(absl::Hours(24 * 8));
  store.TakePending();
  store.Maintain();
  EXPECT_EQ(store.Stats().articles, 0u);
  EXPECT_GT(store.Add("d", clock_.Now(), 0, false, nullptr), 0u);
}

// AddBatch counts a message's views in groups per shard, looking articles
// up ahead of counting them: new articles (repeated inside a group), the
// max_articles bound, late views and visitors end up exactly as the same
// views added one at a time.
TEST_F(ViewStoreTest, BatchesCountLikeSingleViews) {
  const absl::Time now = clock_.Now();
  // One shard: long groups, in the views' order, so the same new articles
  // meet the bound. Four shards: the bound would admit articles in shard
  // order instead, so it is left out.
  for (const int shards : {1, 4}) {
    SCOPED_TRACE(shards);
    const size_t max_articles = shards == 1 ? 12 : 100;
    ViewStore batched({.shards = shards, .max_articles = max_articles}, clock_);
    ViewStore single({.shards = shards, .max_articles = max_articles}, clock_);
    for (ViewStore* store : {&batched, &single}) {
      for (int i = 0; i < 6; ++i) {
        store->Add(absl::StrCat("old-", i), now - absl::Hours(30 + i), 100 + i, true, nullptr);
      }
      store->TakePending();
    }
    std::vector<std::string> ids;
    std::vector<ViewToCount> views;
    for (int i = 0; i < 300; ++i) ids.push_back(i % 3 == 0 ? absl::StrCat("old-", i % 6)
                                                           : absl::StrCat("new-", (i * 7) % 10));
    for (int i = 0; i < 300; ++i) {
      const absl::Time t = i % 5 == 0 ? now - absl::Hours(26) : now - absl::Seconds(i % 90);
      views.push_back({ids[i], t, 0x9e3779b97f4a7c15ULL * (i % 40 + 1), i % 4 != 0, nullptr});
    }
    bool counted[300];
    batched.AddBatch(views, counted);
    for (int i = 0; i < 300; ++i) {
      const ViewToCount& v = views[i];
      EXPECT_EQ(counted[i], single.Add(v.article, v.time, v.visitor_hash, v.has_visitor, nullptr) > 0)
          << i;
    }
    EXPECT_EQ(batched.Stats().articles, shards == 1 ? 12u : 16u);
    EXPECT_EQ(batched.Stats().rejected_full, single.Stats().rejected_full);
    EXPECT_EQ(batched.Stats().rejected_full > 0, shards == 1);
    for (const RankMetric metric : {RankMetric::kViews, RankMetric::kUniqueVisitors}) {
      for (const absl::Duration window : {absl::Hours(1), absl::Hours(48)}) {
        const TrendingResult b = batched.Trending({.window = window, .metric = metric, .limit = 20});
        const TrendingResult o = single.Trending({.window = window, .metric = metric, .limit = 20});
        ASSERT_EQ(b.entries.size(), o.entries.size());
        for (size_t i = 0; i < b.entries.size(); ++i) {
          EXPECT_EQ(b.entries[i].article, o.entries[i].article);
          EXPECT_EQ(b.entries[i].views, o.entries[i].views);
          EXPECT_EQ(b.entries[i].unique_visitors, o.entries[i].unique_visitors);
        }
      }
    }
    auto sorted_deltas = [](PendingBatch p) {
      std::sort(p.deltas.begin(), p.deltas.end(), [](const BucketDelta& x, const BucketDelta& y) {
        return std::tie(x.article, x.start_min, x.width_min) <
               std::tie(y.article, y.start_min, y.width_min);
      });
      return p.deltas;
    };
    const std::vector<BucketDelta> b = sorted_deltas(batched.TakePending());
    const std::vector<BucketDelta> o = sorted_deltas(single.TakePending());
    ASSERT_EQ(b.size(), o.size());
    for (size_t i = 0; i < b.size(); ++i) {
      EXPECT_EQ(b[i].article, o[i].article);
      EXPECT_EQ(b[i].start_min, o[i].start_min);
      EXPECT_EQ(b[i].views, o[i].views);
      EXPECT_EQ(b[i].visitors, o[i].visitors);
      EXPECT_DOUBLE_EQ(b[i].hot, o[i].hot);
      EXPECT_EQ(b[i].raises.Serialize(), o[i].raises.Serialize());
    }
  }
}

// Maintenance and ranking scans walk the shards in order, in slices; a
// batch that blocked at a busy shard before counting the next ones was
// dragged behind them for the rest of their pass. A busy shard is now
// counted last, after the free ones.
TEST_F(ViewStoreTest, ABatchCountsTheFreeShardsWhileAnotherIsBusy) {
  // "busy" lies in a lower shard than "free", so walking the shards in
  // order would reach it first.
  std::string busy, free;
  for (int i = 0; busy.empty() || free.empty(); ++i) {
    const std::string id = absl::StrCat("article-", i);
    const size_t shard = ViewStoreTestPeer::ShardIndex(store_, id);
    if (shard == 0 && busy.empty()) busy = id;
    if (shard == 3 && free.empty()) free = id;
  }
  const absl::Time now = clock_.Now();
  const std::vector<ViewToCount> views = {{busy, now, 0, false, nullptr},
                                          {free, now, 0, false, nullptr}};
  // The batch's progress is watched through the shards it has counted
  // (one ingest hold each), not by reading the free shard: a read holds
  // that shard's lock, and a batch finding it held would count it last,
  // after the busy one.
  HoldStats& ingest = HoldStats::Get("store_ingest");
  const uint64_t counted_before = ingest.Count();
  absl::Mutex& mu = ViewStoreTestPeer::ShardMutex(store_, busy);
  mu.Lock();
  std::thread batch([&] { store_.AddBatch(views, nullptr); });
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (ingest.Count() == counted_before && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  // The free shard's view is counted while the busy shard stays held.
  EXPECT_EQ(ingest.Count(), counted_before + 1);
  EXPECT_EQ(store_.Series(free, absl::Hours(1), 60).total_views, 1);
  mu.Unlock();
  batch.join();
  EXPECT_EQ(store_.Series(busy, absl::Hours(1), 60).total_views, 1);
  EXPECT_EQ(store_.Series(free, absl::Hours(1), 60).total_views, 1);
}

// Within the dedup window a repeat is never counted, so the counted views
// with a visitor id are the unique visitors, exactly; longer windows use
// the sketches.
TEST_F(ViewStoreTest, ShortWindowsCountVisitorsExactly) {
  ViewStore store({.shards = 2, .exact_uniques_within = absl::Minutes(30)}, clock_);
  const absl::Time now = clock_.Now();
  for (int i = 0; i < 3000; ++i) store.Add("a", now - absl::Minutes(i % 20), Visitor(i), true, nullptr);
  store.Add("a", now, 0, false, nullptr);  // no visitor id: a view, not a visitor
  TrendingResult r = store.Trending({.window = absl::Minutes(30), .metric = RankMetric::kUniqueVisitors});
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].views, 3001);
  EXPECT_EQ(r.entries[0].unique_visitors, 3000);  // exact, not an estimate
  const ArticleSeries s = store.Series("a", absl::Minutes(30), 1);
  EXPECT_EQ(s.points.back().views, 151);
  EXPECT_EQ(s.points.back().unique_visitors, 150);  // the anonymous view is no visitor
  EXPECT_EQ(s.unique_visitors, 3000);
  // An hour: sketches, within their error.
  const int64_t hour = store.Trending({.window = absl::Hours(1), .metric = RankMetric::kUniqueVisitors})
                           .entries[0].unique_visitors;
  EXPECT_NEAR(hour, 3000, 60);
}

// Folding is for dense sketches: a sparse one (4 bytes a set register at
// any precision) would turn dense at the lower precision and grow, so it
// keeps its precision; no maintenance pass ever grows the sketch memory.
TEST_F(ViewStoreTest, FoldingNeverGrowsSketchMemory) {
  const size_t limit = 16 << 10;
  ViewStore store({.shards = 4, .sketch_memory_limit = limit}, clock_);
  const absl::Time old = clock_.Now() - absl::Hours(3);
  int visitor = 0;
  // 30 sparse hour sketches of 200 visitors (about 1 KiB each; dense at
  // precision 11 they would take 2 KiB) and one dense one.
  for (int a = 0; a < 30; ++a) {
    for (int i = 0; i < 200; ++i) {
      store.Add(absl::StrCat("s", a), old, Visitor(visitor++), true, nullptr);
    }
  }
  for (int i = 0; i < 3000; ++i) store.Add("dense", old, Visitor(visitor++), true, nullptr);
  size_t bytes = store.Stats().sketch_bytes;
  ASSERT_GT(bytes, 40u << 10);
  bool folded = false;
  for (int pass = 0; pass < 40 && bytes > limit; ++pass) {
    store.Maintain();
    const size_t now = store.Stats().sketch_bytes;
    EXPECT_LE(now, bytes) << "pass " << pass;
    folded |= now < bytes && now > 0;
    bytes = now;
  }
  EXPECT_TRUE(folded);  // the dense sketch was folded before anything was dropped
  EXPECT_LE(bytes, limit);
}

// Over the bound, the horizons halve from the age of the oldest sketch a
// fold would shrink, not from the retention: sketches minutes old are
// folded on the second pass, not the tenth.
TEST_F(ViewStoreTest, OverTheBoundYoungSketchesFoldWithinTwoPasses) {
  ViewStore store({.retention = absl::Hours(168), .shards = 4, .sketch_memory_limit = 64 << 10},
                  clock_);
  int visitor = 0;
  for (int a = 0; a < 10; ++a) {
    for (int i = 0; i < 3000; ++i) {
      store.Add(absl::StrCat("a", a), clock_.Now() - absl::Minutes(i % 5), Visitor(visitor++), true,
                nullptr);
    }
  }
  const size_t before = store.Stats().sketch_bytes;
  ASSERT_GT(before, size_t{20} * 16384);  // 10-minute and hour sketches, dense
  store.Maintain();
  store.Maintain();
  EXPECT_EQ(store.sketch_horizons().full_min, 0);
  EXPECT_LT(store.Stats().sketch_bytes, before / 4);
  const TrendingResult r = store.Trending({.window = absl::Minutes(30),
                                           .metric = RankMetric::kUniqueVisitors, .limit = 10});
  ASSERT_EQ(r.entries.size(), 10u);
  for (const RankedEntry& e : r.entries) EXPECT_NEAR(e.unique_visitors, 3000, 3000 * 0.07);
}

// Over the sketch memory bound, the oldest sketches are folded first, then
// dropped (counting their visitor views); counts never change.
TEST_F(ViewStoreTest, SketchMemoryStaysWithinItsBound) {
  ViewStore store({.shards = 4, .sketch_memory_limit = 256 << 10}, clock_);
  const absl::Time now = clock_.Now();
  // 20 articles, each 3000 visitors an hour over 6 hours: dense sketches,
  // far more than 256 KiB at full precision.
  int visitor = 0;
  for (int h = 0; h < 6; ++h) {
    for (int a = 0; a < 20; ++a) {
      for (int i = 0; i < 3000; ++i) {
        store.Add(absl::StrCat("a", a), now - absl::Hours(h) - absl::Minutes(i % 50), Visitor(visitor++),
                  true, nullptr);
      }
    }
  }
  EXPECT_GT(store.Stats().sketch_bytes, size_t{1} << 20);
  for (int pass = 0; pass < 40 && store.Stats().sketch_bytes > (256u << 10); ++pass) store.Maintain();
  const StoreStats st = store.Stats();
  EXPECT_LE(st.sketch_bytes, 256u << 10);
  const SketchHorizons h = store.sketch_horizons();
  EXPECT_LT(h.full_min, 6 * 60);
  // Counts are untouched; unique visitors degrade within the folded
  // precisions' error, or to the visitor views of a dropped period.
  TrendingResult r = store.Trending({.window = absl::Hours(7), .metric = RankMetric::kUniqueVisitors,
                                     .limit = 20});
  ASSERT_EQ(r.entries.size(), 20u);
  for (const RankedEntry& e : r.entries) {
    EXPECT_EQ(e.views, 18000);
    EXPECT_GE(e.unique_visitors, 18000 * 0.75);
    EXPECT_LE(e.unique_visitors, 18000);
  }
  // Under 60% of the bound (here: once it all expired) the horizons widen
  // again, the dropping one first: new sketches get the full precision back.
  clock_.Advance(absl::Hours(24 * 8));
  for (int pass = 0; pass < 40; ++pass) store.Maintain();
  EXPECT_EQ(store.Stats().sketch_bytes, 0u);
  EXPECT_EQ(store.sketch_horizons().full_min, store.sketch_horizons().keep_min);
  store.CheckpointDone();
  store.ChangedSketches();
  store.CheckpointDone();
  store.Add("new", clock_.Now(), Visitor(-5), true, nullptr);
  for (const StoredSketch& sk : store.ChangedSketches()) {
    EXPECT_EQ(sk.article, "new");
    EXPECT_EQ(sk.sketch.precision(), Hll::kPrecision);
  }
}

// A filtered ranking reports the articles it could not check because their
// metadata is unknown, if they would rank.
TEST_F(ViewStoreTest, FilteredRankingsListArticlesWithUnknownMetadata) {
  const ArticleMetadata world{.section = "world"};
  const absl::Time t = clock_.Now() - absl::Minutes(1);
  store_.Add("known", t, 0, false, &world);
  for (int i = 0; i < 3; ++i) store_.Add("fresh", t, 0, false, nullptr);
  store_.Add("cold", t - absl::Minutes(5), 0, false, nullptr);
  TrendingResult r = store_.Trending({.window = absl::Hours(1), .limit = 1, .section = "world"});
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].article, "known");
  ASSERT_EQ(r.unresolved.size(), 1u);  // "cold" would not make the top 1 anyway
  EXPECT_EQ(r.unresolved[0].article, "fresh");
  EXPECT_EQ(r.unresolved[0].views, 3);
  // Once described, it is ranked (or filtered out) like any other.
  store_.SetSourceInfo("fresh", {.metadata = {.section = "world"}});
  r = store_.Trending({.window = absl::Hours(1), .limit = 1, .section = "world"});
  EXPECT_EQ(r.entries[0].article, "fresh");
  EXPECT_TRUE(r.unresolved.empty());
  EXPECT_TRUE(Top(absl::Hours(1)).unresolved.empty());  // unfiltered: nothing to check
}

TEST_F(ViewStoreTest, CheckpointsTakeTheSketchesChangedSinceTheLastOne) {
  const absl::Time now = clock_.Now();
  View("a", now, 1);
  View("b", now - absl::Hours(3), 2);
  std::vector<StoredSketch> first = store_.ChangedSketches();
  EXPECT_EQ(first.size(), 3u);  // a: 10 minutes and hour; b: hour
  // Not done: taken again, with what changed since.
  View("c", now, 3);
  EXPECT_EQ(store_.ChangedSketches().size(), 5u);
  store_.CheckpointDone();
  EXPECT_TRUE(store_.ChangedSketches().empty());
  store_.CheckpointDone();
  View("a", now, 4);
  View("a", now, 4);  // the same register: no change the second time
  std::vector<StoredSketch> next = store_.ChangedSketches();
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].article, "a");
  EXPECT_NEAR(next[0].sketch.Estimate(), 2.0, 0.01);
}

// A checkpoint taken in steps takes what one step would, an article at a
// time when each step's bytes are that small; a sketch changed behind the
// cursor is taken by the next checkpoint.
TEST_F(ViewStoreTest, CheckpointStepsTakeWhatOneStepWould) {
  const absl::Time now = clock_.Now();
  for (int i = 0; i < 40; ++i) View(absl::StrCat("a", i), now - absl::Minutes(i * 7), i);
  auto key = [](const StoredSketch& s) {
    return std::make_tuple(s.article, s.start_min, s.width_min, s.sketch.Serialize());
  };
  std::vector<std::tuple<std::string, int32_t, int32_t, std::string>> whole, stepped;
  for (const StoredSketch& s : store_.ChangedSketches()) whole.push_back(key(s));
  SketchCursor cursor;
  int steps = 0;
  std::string behind;
  while (!cursor.done) {
    std::vector<StoredSketch> step = store_.ChangedSketches(cursor, 0);  // still one article a step
    if (step.empty()) continue;
    ++steps;
    for (const StoredSketch& s : step) {
      EXPECT_EQ(s.article, step[0].article);  // one article per step
      stepped.push_back(key(s));
    }
    if (steps == 1) {
      behind = step[0].article;
      View(behind, now, 99);  // a new visitor, behind the cursor now
    }
  }
  EXPECT_EQ(steps, 40);
  std::sort(whole.begin(), whole.end());
  std::sort(stepped.begin(), stepped.end());
  EXPECT_EQ(stepped, whole);
  store_.CheckpointDone();
  std::vector<StoredSketch> next = store_.ChangedSketches();
  ASSERT_FALSE(next.empty());
  for (const StoredSketch& s : next) EXPECT_EQ(s.article, behind);
}

class EngagementTest : public ViewStoreTest {
 protected:
  // (article, score) of a ranking, best first.
  static std::vector<std::pair<std::string, double>> Scores(const TrendingResult& r) {
    std::vector<std::pair<std::string, double>> out;
    for (const RankedEntry& e : r.entries) out.emplace_back(e.article, e.score);
    return out;
  }
  // A counted ping of `reader` with `seconds` engaged.
  void Ping(const std::string& article, absl::Time t, int reader, int64_t seconds) {
    const PingToCount p{article, t, Visitor(reader), seconds, nullptr, {}};
    bool counted = false;
    store_.AddPings(absl::MakeConstSpan(&p, 1), &counted);
    ASSERT_TRUE(counted);
  }
};

TEST_F(EngagementTest, EngagedTimeSumsOverWindowsTiersAndSeries) {
  Ping("a", At("2024-05-01T12:06:10Z"), 1, 15);
  Ping("a", At("2024-05-01T12:07:10Z"), 1, 15);
  Ping("a", At("2024-05-01T10:05:00Z"), 2, 12);  // older than the minute ring
  Ping("b", At("2024-05-01T12:07:00Z"), 3, 20);
  TrendingResult r = Top(absl::Minutes(5), RankMetric::kEngagedTime);
  EXPECT_EQ(Scores(r), (std::vector<std::pair<std::string, double>>{{"a", 30}, {"b", 20}}));
  EXPECT_EQ(r.entries[1].engaged_seconds, 20);
  // A 6-hour window (10-minute resolution) holds the 10:05 ping too.
  EXPECT_EQ(Top(absl::Hours(6), RankMetric::kEngagedTime).entries[0].engaged_seconds, 42);
  // Views rankings report the engaged time of their entries too.
  View("b", At("2024-05-01T12:07:00Z"), 3);
  TrendingResult by_views = Top(absl::Minutes(5));
  ASSERT_EQ(by_views.entries.size(), 1u);
  EXPECT_EQ(by_views.entries[0].engaged_seconds, 20);
  EXPECT_EQ(by_views.entries[0].concurrent_readers, 1);
  ArticleSeries s = store_.Series("a", absl::Hours(3), 60);
  ASSERT_EQ(s.points.size(), 3u);
  EXPECT_EQ(s.points[0].engaged_seconds, 12);
  EXPECT_EQ(s.points[1].engaged_seconds, 0);
  EXPECT_EQ(s.points[2].engaged_seconds, 30);
  EXPECT_EQ(s.engaged_seconds, 42);
}

TEST_F(EngagementTest, ConcurrentReadersLeaveWithinTheWindow) {
  Ping("a", At("2024-05-01T12:07:00Z"), 1, 15);
  Ping("a", At("2024-05-01T12:07:10Z"), 1, 10);  // the same reader again
  Ping("a", At("2024-05-01T12:07:20Z"), 2, 10);
  Ping("a", At("2024-05-01T12:07:25Z"), 3, 5);
  Ping("b", At("2024-05-01T12:07:29Z"), 4, 5);
  TrendingResult r = Top(absl::Hours(1), RankMetric::kConcurrentReaders);
  EXPECT_EQ(Scores(r), (std::vector<std::pair<std::string, double>>{{"a", 3}, {"b", 1}}));
  EXPECT_EQ(r.entries[0].concurrent_readers, 3);
  EXPECT_EQ(r.entries[0].previous_rank, 0);
  EXPECT_EQ(r.window, absl::Seconds(60));
  EXPECT_EQ(r.resolution, absl::Seconds(60));
  // 12:08:05: reader 1's last ping (12:07:10) is 55 s old, still reading.
  clock_.Set(At("2024-05-01T12:08:05Z"));
  EXPECT_EQ(Top(absl::Hours(1), RankMetric::kConcurrentReaders).entries[0].concurrent_readers, 3);
  // 12:08:15: reader 1 stopped pinging 65 s ago and has left.
  clock_.Set(At("2024-05-01T12:08:15Z"));
  EXPECT_EQ(Top(absl::Hours(1), RankMetric::kConcurrentReaders).entries[0].concurrent_readers, 2);
  clock_.Set(At("2024-05-01T12:08:30Z"));
  EXPECT_TRUE(Top(absl::Hours(1), RankMetric::kConcurrentReaders).entries.empty());
  // Maintenance forgets them; the engaged time stays.
  store_.Maintain();
  EXPECT_EQ(store_.Stats().readers, 0u);
  EXPECT_EQ(store_.Stats().engaged_articles, 2u);
  EXPECT_EQ(Top(absl::Hours(1), RankMetric::kEngagedTime).entries[0].engaged_seconds, 40);
}

TEST_F(EngagementTest, AverageEngagedTimeRanksArticlesWithEnoughVisitors) {
  auto visit = [&](const std::string& article, int visitors, int64_t seconds_each) {
    for (int v = 0; v < visitors; ++v) {
      const int reader = static_cast<int>(article[0]) * 100 + v;
      View(article, At("2024-05-01T12:05:00Z"), reader);
      Ping(article, At("2024-05-01T12:06:00Z"), reader, seconds_each);
    }
  };
  visit("a", 5, 20);   // 20 s each
  visit("b", 2, 300);  // long, but below the floor of 5 visitors
  visit("c", 10, 10);  // 10 s each
  TrendingResult r = Top(absl::Minutes(10), RankMetric::kAverageEngagedTime);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].article, "a");
  EXPECT_DOUBLE_EQ(r.entries[0].score, 20.0);
  EXPECT_DOUBLE_EQ(r.entries[0].average_engaged_seconds, 20.0);
  EXPECT_EQ(r.entries[0].unique_visitors, 5);
  EXPECT_EQ(r.entries[1].article, "c");
  EXPECT_DOUBLE_EQ(r.entries[1].score, 10.0);
  // By total engaged time b leads.
  EXPECT_EQ(Top(absl::Minutes(10), RankMetric::kEngagedTime).entries[0].article, "b");
  ArticleSeries s = store_.Series("b", absl::Minutes(10), 1);
  EXPECT_DOUBLE_EQ(s.average_engaged_seconds, 300.0);
}

TEST_F(EngagementTest, PingsReplicateThroughPendingDeltas) {
  Ping("a", At("2024-05-01T12:07:00Z"), 1, 15);
  Ping("a", At("2024-05-01T12:07:20Z"), 2, 7);
  const PingToCount keyed{"b", At("2024-05-01T12:07:25Z"), Visitor(3), 9, nullptr,
                          {.event = 77, .ping = 88}};
  store_.AddPings(absl::MakeConstSpan(&keyed, 1), nullptr);
  const SeenMark page_view{99, absl::ToUnixNanos(At("2024-05-01T12:06:00Z"))};
  store_.AddPageViews(absl::MakeConstSpan(&page_view, 1));
  EXPECT_EQ(store_.pending_views(), 3);
  PendingBatch batch = store_.TakePending();
  EXPECT_EQ(batch.views, 3);
  ASSERT_EQ(batch.seen.pings.size(), 1u);
  EXPECT_EQ(batch.seen.pings[0].key, 88u);
  ASSERT_EQ(batch.seen.events.size(), 1u);
  ASSERT_EQ(batch.seen.page_views.size(), 1u);
  EXPECT_EQ(batch.seen.page_views[0], page_view);
  int64_t engaged = 0;
  size_t readers = 0;
  for (const BucketDelta& d : batch.deltas) {
    EXPECT_EQ(d.views, 0);
    engaged += d.engaged;
    readers += d.readers.size();
  }
  EXPECT_EQ(engaged, 31);
  EXPECT_EQ(readers, 3u);
  // Another replica applying the deltas sees the same engaged time and
  // readers.
  ViewStore other({.retention = absl::Hours(168), .shards = 2}, clock_);
  other.ApplyDeltas(batch.deltas);
  TrendingResult r = other.Trending({.window = absl::Minutes(5), .metric = RankMetric::kEngagedTime});
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].article, "a");
  EXPECT_EQ(r.entries[0].engaged_seconds, 22);
  EXPECT_EQ(r.entries[0].concurrent_readers, 2);
  EXPECT_EQ(r.entries[1].engaged_seconds, 9);
  // Readers too old to be reading now are not taken in.
  clock_.Set(At("2024-05-01T12:08:21Z"));
  ViewStore late({.retention = absl::Hours(168), .shards = 2}, clock_);
  late.ApplyDeltas(batch.deltas);
  EXPECT_EQ(late.Series("a", absl::Minutes(5), 1).concurrent_readers, 0);
  EXPECT_EQ(late.Series("b", absl::Minutes(5), 1).concurrent_readers, 1);
}

TEST_F(EngagementTest, AnArticleBeingReadCostsUnderAKibibyteMore) {
  for (int i = 0; i < 1000; ++i) View(absl::StrCat("m", i), At("2024-05-01T12:07:00Z"), i);
  store_.Maintain();
  const size_t views_only = store_.Stats().bytes;
  for (int i = 0; i < 1000; ++i) Ping(absl::StrCat("m", i), At("2024-05-01T12:07:10Z"), i, 12);
  store_.Maintain();
  const StoreStats st = store_.Stats();
  EXPECT_EQ(st.engaged_articles, 1000u);
  EXPECT_EQ(st.readers, 1000u);
  // The engagement of an article read now: its ring of engaged seconds
  // (480 bytes), a 10-minute and an hour bucket and its reader.
  EXPECT_LT((st.bytes - views_only) / 1000, 1024u);
  EXPECT_GT((st.bytes - views_only) / 1000, 480u);
}

TEST_F(EngagementTest, EngagementExpiresWithTheRetention) {
  Ping("a", At("2024-05-01T12:07:00Z"), 1, 15);
  store_.TakePending();  // an article with a pending entry stays until flushed
  clock_.Set(At("2024-05-08T13:10:00Z"));
  store_.Maintain();
  EXPECT_EQ(store_.Stats().articles, 0u);
  EXPECT_TRUE(Top(absl::Hours(168), RankMetric::kEngagedTime).entries.empty());
}

TEST(LogArithmeticTest, AddAndSubtract) {
  EXPECT_NEAR(LogAdd2(3, 3), 4, 1e-12);
  EXPECT_NEAR(LogSub2(4, 3), 3, 1e-12);
  EXPECT_EQ(LogSub2(3, 3), -INFINITY);
  EXPECT_NEAR(LogAdd2(-INFINITY, 5), 5, 1e-12);
  EXPECT_NEAR(LogSub2(LogAdd2(1000000.0, 999990.0), 999990.0), 1000000.0, 1e-9);
}

}  // namespace
}  // namespace newsgrid::trending
