#include "trending-service/rankings.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace newsgrid::trending {
namespace {

class FakeSource : public ArticleMetadataSource {
 public:
  absl::StatusOr<ArticleInfoMap> Lookup(const std::vector<std::string>& articles) override {
    ++calls;
    last_request = articles;
    if (!up) return absl::UnavailableError("down");
    ArticleInfoMap out;
    for (const auto& id : articles) {
      if (id == "unknown") continue;
      if (id == "draft" || id == "gone") {
        out[id] = {.hidden = true};
        continue;
      }
      out[id] = {.summary = ArticleSummary{.title = "Title " + id, .slug = id}};
    }
    return out;
  }
  int calls = 0;
  bool up = true;
  std::vector<std::string> last_request;
};

TEST(RankingsTest, HydratesInOneLookupAndDropsHiddenArticles) {
  FakeClock clock(absl::FromUnixSeconds(1'714'565'250));
  ViewStore store({}, clock);
  for (const char* id : {"a", "draft", "b", "gone", "unknown"}) {
    store.Add(id, clock.Now(), 0, false, nullptr);
  }
  store.Add("a", clock.Now(), 0, false, nullptr);
  FakeSource source;
  Rankings rankings(store, &source);
  TrendingResult r = rankings.Get({.window = absl::Hours(1), .limit = 10});
  EXPECT_EQ(source.calls, 1);  // all five in one lookup; nothing to recompute
  EXPECT_EQ(source.last_request.size(), 5u);
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.entries[0].article, "a");
  ASSERT_TRUE(r.entries[0].summary.has_value());
  EXPECT_EQ(r.entries[0].summary->title, "Title a");
  // Nothing known of "unknown": kept, without a summary.
  bool saw_unknown = false;
  for (const auto& e : r.entries) {
    if (e.article == "unknown") {
      saw_unknown = true;
      EXPECT_FALSE(e.summary.has_value());
    }
  }
  EXPECT_TRUE(saw_unknown);
  // One Lookup per ranking (the source caches), and nothing changes.
  const int calls = source.calls;
  TrendingResult again = rankings.Get({.window = absl::Hours(1), .limit = 10});
  EXPECT_EQ(source.calls, calls + 1);
  EXPECT_EQ(again.entries.size(), 3u);
}

TEST(RankingsTest, ArticleHiddenLaterLeavesTheRanking) {
  FakeClock clock(absl::FromUnixSeconds(1'714'565'250));
  ViewStore store({}, clock);
  store.Add("a", clock.Now(), 0, false, nullptr);
  store.Add("b", clock.Now(), 0, false, nullptr);
  FakeSource source;
  Rankings rankings(store, &source);
  ASSERT_EQ(rankings.Get({.window = absl::Hours(1), .limit = 1}).entries.size(), 1u);
  class HidingSource : public ArticleMetadataSource {
   public:
    absl::StatusOr<ArticleInfoMap> Lookup(const std::vector<std::string>& ids) override {
      ArticleInfoMap out;
      for (const auto& id : ids) {
        if (id == "a") {
          out[id] = {.hidden = true};
        } else {
          out[id] = {.summary = ArticleSummary{.title = "Title " + id}};
        }
      }
      return out;
    }
  } hiding;
  Rankings later(store, &hiding);
  TrendingResult r = later.Get({.window = absl::Hours(1), .limit = 1});
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].article, "b");  // moved up, and described
  ASSERT_TRUE(r.entries[0].summary.has_value());
  EXPECT_EQ(r.entries[0].summary->title, "Title b");
}

TEST(RankingsTest, SourceDownServesWithoutSummaries) {
  FakeClock clock(absl::FromUnixSeconds(1'714'565'250));
  ViewStore store({}, clock);
  store.Add("a", clock.Now(), 0, false, nullptr);
  FakeSource source;
  source.up = false;
  Rankings rankings(store, &source);
  TrendingResult r = rankings.Get({.window = absl::Hours(1), .limit = 10});
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_FALSE(r.entries[0].summary.has_value());
}

// Many viewed articles the source does not know (views for ids that never
// existed): they are dropped, the spares fill the ranking, and the store's
// ranking is computed again only when the spares run out.
TEST(RankingsTest, HiddenArticlesAreDroppedWithoutRescanningEveryCall) {
  FakeClock clock(absl::FromUnixSeconds(1'714'565'250));
  ViewStore store({}, clock);
  class FewPublished : public ArticleMetadataSource {
   public:
    absl::StatusOr<ArticleInfoMap> Lookup(const std::vector<std::string>& ids) override {
      ArticleInfoMap out;
      for (const auto& id : ids) {
        if (id.rfind("real", 0) == 0) {
          out[id] = {.summary = ArticleSummary{.title = id}};
        } else {
          out[id] = {.hidden = true};
        }
      }
      return out;
    }
  } source;
  // 25 fake articles with 10 views each above 5 real ones with 5..1 views.
  for (int i = 0; i < 25; ++i) {
    for (int v = 0; v < 10; ++v) store.Add(absl::StrCat("fake", i), clock.Now(), 0, false, nullptr);
  }
  for (int i = 0; i < 5; ++i) {
    for (int v = 0; v < 5 - i; ++v) store.Add(absl::StrCat("real", i), clock.Now(), 0, false, nullptr);
  }
  int computes = 0;
  RankingCache cache({.min_compute_time = absl::ZeroDuration()}, clock,
                     [&](const TrendingQuery& q) {
                       ++computes;
                       return store.Trending(q);
                     });
  Rankings rankings(store, &source, &cache);
  // limit 3 fetches 13: all fake. The caller gets nothing rather than wait
  // for another scan; the refresher recomputes (the store now skips them).
  TrendingResult r = rankings.Get({.window = absl::Hours(1), .limit = 3});
  EXPECT_EQ(computes, 1);
  EXPECT_TRUE(r.entries.empty());
  cache.RefreshDue();
  EXPECT_EQ(computes, 2);
  r = rankings.Get({.window = absl::Hours(1), .limit = 3});  // 12 fakes, then real0
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].article, "real0");
  EXPECT_EQ(r.entries[0].rank, 1);
  cache.RefreshDue();
  r = rankings.Get({.window = absl::Hours(1), .limit = 3});
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.entries[2].article, "real2");
  EXPECT_EQ(r.entries[2].rank, 3);
  const int settled = computes;
  // From now on the cache serves: no scan per call, none asked for.
  for (int i = 0; i < 5; ++i) {
    r = rankings.Get({.window = absl::Hours(1), .limit = 3});
    ASSERT_EQ(r.entries.size(), 3u);
  }
  cache.RefreshDue();
  EXPECT_EQ(computes, settled);

  // Without a cache: one deeper second scan settles it within the call.
  ViewStore direct_store({}, clock);
  for (int i = 0; i < 25; ++i) {
    for (int v = 0; v < 10; ++v) {
      direct_store.Add(absl::StrCat("fake", i), clock.Now(), 0, false, nullptr);
    }
  }
  direct_store.Add("real0", clock.Now(), 0, false, nullptr);
  Rankings direct(direct_store, &source);
  r = direct.Get({.window = absl::Hours(1), .limit = 3});
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].article, "real0");
}

// Rank change is counted among the entries served: a previous rank beyond
// the limit reads as "not in the previous top".
TEST(RankingsTest, PreviousRanksBeyondTheLimitAreNotCounted) {
  FakeClock clock(absl::FromUnixSeconds(1'714'565'250));
  ViewStore store({}, clock);
  FakeSource source;
  // Previous hour: "c" first, "b" second, "a" third; this hour: "a" leads.
  const absl::Time before = clock.Now() - absl::Minutes(90);
  for (int v = 0; v < 3; ++v) store.Add("c", before, 0, false, nullptr);
  for (int v = 0; v < 2; ++v) store.Add("b", before, 0, false, nullptr);
  store.Add("a", before, 0, false, nullptr);
  for (int v = 0; v < 5; ++v) store.Add("a", clock.Now(), 0, false, nullptr);
  store.Add("b", clock.Now(), 0, false, nullptr);
  Rankings rankings(store, &source);
  TrendingResult r = rankings.Get({.window = absl::Hours(1), .limit = 2});
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].article, "a");
  EXPECT_EQ(r.entries[0].previous_rank, 0);  // third before: beyond the limit of 2
  EXPECT_EQ(r.entries[1].article, "b");
  EXPECT_EQ(r.entries[1].previous_rank, 2);
}

// A freshly published article viewed without event metadata is right in a
// filtered ranking on its first ask: its metadata is looked up in the same
// call, and the store keeps it.
TEST(RankingsTest, AFilteredRankingChecksArticlesWhoseMetadataIsUnknown) {
  FakeClock clock(absl::FromUnixSeconds(1'714'565'250));
  ViewStore store({}, clock);
  class Tagged : public ArticleMetadataSource {
   public:
    absl::StatusOr<ArticleInfoMap> Lookup(const std::vector<std::string>& ids) override {
      ++calls;
      if (!up) return absl::UnavailableError("down");
      ArticleInfoMap out;
      for (const auto& id : ids) {
        if (id == "mystery") continue;  // unknown to the source too
        const bool transport = id.rfind("tram", 0) == 0 || id == "bus";
        out[id] = {.metadata = {.tags = {transport ? "transport" : "other"}},
                   .summary = ArticleSummary{.title = "Title " + id}};
      }
      return out;
    }
    int calls = 0;
    bool up = true;
  } source;
  const ArticleMetadata transport{.tags = {"transport"}};
  store.Add("bus", clock.Now(), 0, false, &transport);  // described by its event
  for (int i = 0; i < 3; ++i) store.Add("tram-9", clock.Now(), 0, false, nullptr);
  for (int i = 0; i < 2; ++i) store.Add("weather", clock.Now(), 0, false, nullptr);
  Rankings rankings(store, &source);
  TrendingResult r = rankings.Get({.window = absl::Hours(1), .limit = 10, .tag = "transport"});
  EXPECT_EQ(source.calls, 1);  // entries and candidates in one lookup
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].article, "tram-9");
  EXPECT_EQ(r.entries[0].views, 3);
  EXPECT_EQ(r.entries[0].rank, 1);
  ASSERT_TRUE(r.entries[0].summary.has_value());
  EXPECT_EQ(r.entries[1].article, "bus");
  EXPECT_FALSE(r.partial);
  // The store learnt both: the next ranking needs no candidate check.
  EXPECT_TRUE(store.Trending({.window = absl::Hours(1), .limit = 10, .tag = "transport"})
                  .unresolved.empty());
  // A candidate nobody can describe (or a source that is down) is left
  // out, and the response says it is partial.
  store.Add("mystery", clock.Now(), 0, false, nullptr);
  r = rankings.Get({.window = absl::Hours(1), .limit = 10, .tag = "transport"});
  EXPECT_EQ(r.entries.size(), 2u);
  EXPECT_TRUE(r.partial);
  source.up = false;
  store.Add("tram-10", clock.Now(), 0, false, nullptr);
  r = rankings.Get({.window = absl::Hours(1), .limit = 10, .tag = "transport"});
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(r.entries.size(), 2u);
}

// The cached path answers from the caches alone, and declines when the
// source would need a round trip or the cache has nothing to serve.
TEST(RankingsTest, TryGetCachedNeverComputesNorLooksUp) {
  FakeClock clock(absl::FromUnixSeconds(1'714'565'250));
  ViewStore store({}, clock);
  for (int i = 0; i < 3; ++i) store.Add("a", clock.Now(), 0, false, nullptr);
  store.Add("b", clock.Now(), 0, false, nullptr);
  class CachedSource : public FakeSource {
   public:
    std::optional<ArticleInfoMap> LookupCached(const std::vector<std::string>& ids) override {
      ++cached_calls;
      if (!warm) return std::nullopt;
      absl::StatusOr<ArticleInfoMap> r = Lookup(ids);
      --calls;
      return *r;
    }
    int cached_calls = 0;
    bool warm = false;
  } source;
  int computes = 0;
  RankingCache cache({.min_compute_time = absl::ZeroDuration()}, clock,
                     [&](const TrendingQuery& q) {
                       ++computes;
                       return store.Trending(q);
                     });
  Rankings rankings(store, &source, &cache);
  const TrendingQuery q{.window = absl::Hours(1), .limit = 1};
  EXPECT_FALSE(rankings.TryGetCached(q).has_value());  // nothing cached yet
  EXPECT_EQ(computes, 0);
  ASSERT_EQ(rankings.Get(q).entries.size(), 1u);  // computes and caches
  EXPECT_EQ(computes, 1);
  EXPECT_FALSE(rankings.TryGetCached(q).has_value());  // the source cache is cold
  source.warm = true;
  std::optional<TrendingResult> r = rankings.TryGetCached(q);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].article, "a");
  EXPECT_EQ(r->entries[0].summary->title, "Title a");
  EXPECT_EQ(computes, 1);
  EXPECT_EQ(source.calls, 1);  // only Get's lookup
  clock.Advance(absl::Seconds(2));  // older than max_staleness
  EXPECT_FALSE(rankings.TryGetCached(q).has_value());
}

}  // namespace
}  // namespace newsgrid::trending
