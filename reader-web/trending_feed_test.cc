#include "reader-web/trending_feed.h"

#include "gtest/gtest.h"

namespace newsgrid::reader {
namespace {

namespace tpb = ::news::trending::v1;

tpb::TrendingEntry* AddEntry(tpb::GetTrendingResponse& r, const std::string& name,
                             const std::string& title, int64_t readers) {
  tpb::TrendingEntry* e = r.add_entries();
  e->set_article(name);
  e->set_hydrated(true);
  e->mutable_summary()->set_title(title);
  e->mutable_summary()->set_slug(name.substr(name.find('/') + 1));
  e->set_concurrent_readers(readers);
  return e;
}

TEST(TrendingFeedTest, SnapshotCarriesReadersNowAsText) {
  tpb::GetTrendingResponse ranking;
  AddEntry(ranking, "articles/a", "Title \"<a>\"", 3);
  AddEntry(ranking, "articles/b", "Nobody here", 0);
  AddEntry(ranking, "articles/c", "One", 1);
  AddEntry(ranking, "articles/d", "Not hydrated", 9)->set_hydrated(false);
  const auto s = TrendingFeed::MakeSnapshot(ranking, 7, absl::FromUnixSeconds(100));
  EXPECT_EQ(s->version, 7u);
  ASSERT_EQ(s->items.size(), 3u);
  EXPECT_EQ(s->items[0].url, "/articles/a");
  EXPECT_EQ(s->items[0].reading_now, "3 reading now");
  EXPECT_EQ(s->items[1].reading_now, "");
  EXPECT_EQ(s->items[2].reading_now, "1 reading now");
  // JSON strings only (the script puts them in as text); "reading" only
  // when someone is.
  EXPECT_EQ(s->json,
            "[{\"title\":\"Title \\\"<a>\\\"\",\"url\":\"/articles/a\","
            "\"reading\":\"3 reading now\"},"
            "{\"title\":\"Nobody here\",\"url\":\"/articles/b\"},"
            "{\"title\":\"One\",\"url\":\"/articles/c\",\"reading\":\"1 reading now\"}]");
}

}  // namespace
}  // namespace newsgrid::reader
