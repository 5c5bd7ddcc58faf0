#include "trending-service/rankings.h"

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
  EXPECT_EQ(source.last_request.size(), 3u);  // the second round asks for the survivors
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

}  // namespace
}  // namespace newsgrid::trending
