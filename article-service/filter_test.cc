#include "article-service/filter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/status.h"

namespace newsgrid::article {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = FilterExpr::Kind;

FilterExpr Parse(absl::string_view filter) {
  absl::StatusOr<FilterExpr> e = ParseFilter(filter);
  EXPECT_TRUE(e.ok()) << filter << ": " << e.status();
  return e.value_or(FilterExpr());
}

std::string ErrorOf(absl::string_view filter) {
  absl::StatusOr<FilterExpr> e = ParseFilter(filter);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << filter;
  std::vector<FieldViolation> v = GetFieldViolations(e.status());
  EXPECT_EQ(v.size(), 1u);
  return v.empty() ? "" : v[0].field + ": " + v[0].description;
}

std::vector<std::string> Required(absl::string_view filter) { return RequiredTags(Parse(filter)); }

TEST(FilterTest, RequiredTags) {
  EXPECT_THAT(Required("tags:china"), ElementsAre("china"));
  EXPECT_THAT(Required("section = world AND tags:\"Trade War\" AND tags:x"),
              ElementsAre("trade-war", "x"));
  EXPECT_THAT(Required("tags:a OR tags:b"), ElementsAre());
  EXPECT_THAT(Required("tags:a AND (tags:b OR tags:c)"), ElementsAre("a"));
  EXPECT_THAT(Required("NOT tags:a"), ElementsAre());
  EXPECT_THAT(Required("-tags:a AND tags:b"), ElementsAre("b"));
  EXPECT_THAT(Required("(tags:a)"), ElementsAre());
  EXPECT_THAT(Required("(tags:a AND tags:b)"), ElementsAre());
  EXPECT_THAT(Required("authors:a AND section = x"), ElementsAre());
  EXPECT_THAT(Required(""), ElementsAre());
}

TEST(FilterTest, EmptyMatchesAll) {
  EXPECT_EQ(Parse("").kind, Kind::kMatchAll);
  EXPECT_EQ(Parse("   ").kind, Kind::kMatchAll);
}

TEST(FilterTest, IssueExampleTree) {
  const FilterExpr e = Parse(
      "section = \"World\" AND tags:\"China\" AND authors:\"Ada Lovelace\" AND state = PUBLISHED "
      "AND publish_time > \"2023-06-01T00:00:00Z\"");
  ASSERT_EQ(e.kind, Kind::kAnd);
  ASSERT_EQ(e.children.size(), 5u);
  EXPECT_EQ(e.children[0].field, FilterField::kSection);
  EXPECT_EQ(e.children[0].op, FilterOp::kEq);
  EXPECT_EQ(e.children[0].text, "world");  // normalized as stored
  EXPECT_EQ(e.children[1].field, FilterField::kTags);
  EXPECT_EQ(e.children[1].op, FilterOp::kHas);
  EXPECT_EQ(e.children[1].text, "china");
  EXPECT_EQ(e.children[2].field, FilterField::kAuthors);
  EXPECT_EQ(e.children[2].text, "Ada Lovelace");
  EXPECT_EQ(e.children[3].field, FilterField::kState);
  EXPECT_EQ(e.children[3].state, news::article::v1::Article::PUBLISHED);
  EXPECT_EQ(e.children[4].field, FilterField::kPublishTime);
  EXPECT_EQ(e.children[4].op, FilterOp::kGt);
  EXPECT_EQ(e.children[4].time, absl::FromUnixSeconds(1685577600));
}

TEST(FilterTest, OrBindsTighterThanAndAsInAip160) {
  const FilterExpr e = Parse("section = a AND section = b OR section = c");
  ASSERT_EQ(e.kind, Kind::kAnd);
  ASSERT_EQ(e.children.size(), 2u);
  EXPECT_EQ(e.children[0].kind, Kind::kCompare);
  EXPECT_EQ(e.children[1].kind, Kind::kOr);
  const FilterExpr p = Parse("(section = a AND section = b) OR section = c");
  ASSERT_EQ(p.kind, Kind::kOr);
  EXPECT_EQ(p.children[0].kind, Kind::kAnd);
  EXPECT_EQ(Parse("(section = a)").kind, Kind::kCompare);
}

TEST(FilterTest, NegationTimesAndEscapes) {
  const FilterExpr n = Parse("NOT state = DRAFT");
  ASSERT_EQ(n.kind, Kind::kNot);
  EXPECT_EQ(n.children[0].state, news::article::v1::Article::DRAFT);
  EXPECT_EQ(Parse("-tags:x").kind, Kind::kNot);
  EXPECT_EQ(Parse("state != SCHEDULED").op, FilterOp::kNe);
  EXPECT_EQ(Parse("update_time <= '2024-01-02T03:04:05.5+02:00'").time,
            absl::FromUnixMillis(1704157445500));
  EXPECT_EQ(Parse("slug = \"say-\\\"hi\\\"\"").text, "say-\"hi\"");
}

TEST(FilterTest, ErrorsNameThePosition) {
  EXPECT_THAT(ErrorOf("colour = red"), HasSubstr("unknown field \"colour\""));
  EXPECT_THAT(ErrorOf("colour = red"), HasSubstr("at position 1"));
  EXPECT_THAT(ErrorOf("section = world AND"), HasSubstr("at position 20"));
  EXPECT_THAT(ErrorOf("section = world tags:x"), HasSubstr("at position 17"));
  EXPECT_THAT(ErrorOf("section > world"), HasSubstr("position 9"));
  EXPECT_THAT(ErrorOf("tags = x"), HasSubstr("use ':'"));
  EXPECT_THAT(ErrorOf("state = LIVE"), HasSubstr("unknown state"));
  EXPECT_THAT(ErrorOf("publish_time > \"yesterday\""), HasSubstr("RFC 3339"));
  EXPECT_THAT(ErrorOf("(section = a"), HasSubstr("expected ')'"));
  EXPECT_THAT(ErrorOf("section = \"open"), HasSubstr("unterminated string at position 11"));
  EXPECT_THAT(ErrorOf("section ~ x"), HasSubstr("unexpected character '~' at position 9"));
  EXPECT_THAT(ErrorOf("section = a; DROP TABLE articles"), HasSubstr("position 12"));
  EXPECT_THAT(ErrorOf(std::string(2001, 'a')), HasSubstr("longer than"));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "(";
  EXPECT_THAT(ErrorOf(deep + "section = a"), HasSubstr("nested too deeply"));
  EXPECT_EQ(GetFieldViolations(ParseFilter("x", "search.filter").status())[0].field,
            "search.filter");
}

}  // namespace
}  // namespace newsgrid::article
