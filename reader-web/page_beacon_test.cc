#include "reader-web/page_beacon.h"

#include <string>

#include "gtest/gtest.h"

namespace newsgrid::reader {
namespace {

TEST(PageBeaconTest, ViewBeaconNamesTheArticleAndItsPageView) {
  absl::StatusOr<PageBeacon> b = ParseViewBeacon("7", "0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->article_name, "articles/7");
  EXPECT_EQ(b->page_view_id, "0123456789abcdef0123456789abcdef");
  // No script on the page: a view without a page view.
  b = ParseViewBeacon("42", "");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->article_name, "articles/42");
  EXPECT_EQ(b->page_view_id, "");
}

TEST(PageBeaconTest, ViewBeaconRejectsBadIds) {
  for (const char* id : {"", "0", "-3", "+3", " 3", "3 ", "abc", "1234567890123456789", "3x"}) {
    const absl::StatusOr<PageBeacon> b = ParseViewBeacon(id, "");
    EXPECT_EQ(b.status().code(), absl::StatusCode::kNotFound) << id;
    EXPECT_EQ(BeaconHttpStatus(b.status()), 404) << id;
  }
  for (const std::string pv : {std::string(101, 'a'), std::string("a b"), std::string("<x>"),
                               std::string("a/b"), std::string("\xc3\xa9")}) {
    const absl::StatusOr<PageBeacon> b = ParseViewBeacon("7", pv);
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << pv;
    EXPECT_EQ(BeaconHttpStatus(b.status()), 400) << pv;
  }
  EXPECT_TRUE(ParseViewBeacon("7", std::string(100, 'a')).ok());
  EXPECT_TRUE(ParseViewBeacon("7", "A-z_9").ok());
}

TEST(PageBeaconTest, PingCarriesWholeEngagedSeconds) {
  absl::StatusOr<PageBeacon> p = ParseEngagementPing("7", "pv-1", "15");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->article_name, "articles/7");
  EXPECT_EQ(p->page_view_id, "pv-1");
  EXPECT_EQ(p->engaged, absl::Seconds(15));
  EXPECT_EQ(ParseEngagementPing("7", "pv-1", "1")->engaged, absl::Seconds(1));
  EXPECT_EQ(ParseEngagementPing("7", "pv-1", "3600")->engaged, absl::Seconds(3600));
}

TEST(PageBeaconTest, PingRejectsBadInput) {
  EXPECT_EQ(ParseEngagementPing("x", "pv", "15").status().code(), absl::StatusCode::kNotFound);
  // The page view id is required.
  EXPECT_EQ(ParseEngagementPing("7", "", "15").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEngagementPing("7", std::string(101, 'a'), "15").status().code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* s : {"", "0", "3601", "-1", "+5", " 5", "5 ", "1.5", "1e3", "99999", "15s"}) {
    const absl::StatusOr<PageBeacon> p = ParseEngagementPing("7", "pv", s);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(BeaconHttpStatus(p.status()), 400) << s;
    EXPECT_NE(p.status().message().find("s:"), absl::string_view::npos) << p.status();
  }
}

}  // namespace
}  // namespace newsgrid::reader
