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
      if (id == "gone") continue;
      out[id] = {.summary = ArticleSummary{.title = "Title " + id, .slug = id},
                 .hidden = id == "draft"};
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
  for (const char* id : {"a", "draft", "b", "gone"}) store.Add(id, clock.Now(), 0, false, nullptr);
  store.Add("a", clock.Now(), 0, false, nullptr);
  FakeSource source;
  Rankings rankings(store, &source);
  TrendingResult r = rankings.Get({.window = absl::Hours(1), .limit = 10});
  EXPECT_EQ(source.calls, 1);
  EXPECT_EQ(source.last_request.size(), 4u);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].article, "a");
  ASSERT_TRUE(r.entries[0].summary.has_value());
  EXPECT_EQ(r.entries[0].summary->title, "Title a");
  // Cached: no second lookup.
  rankings.Get({.window = absl::Hours(1), .limit = 10});
  EXPECT_EQ(source.calls, 1);
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
