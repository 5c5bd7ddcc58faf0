#include "article-service/filter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/status.h"

namespace newsgrid::article {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Compiled {
  std::string sql;
  std::vector<std::string> params;
};

Compiled Compile(absl::string_view filter) {
  SqlParams params;
  const std::string now = params.Add("NOW");
  absl::StatusOr<std::string> sql = CompileFilter(filter, params, now);
  EXPECT_TRUE(sql.ok()) << filter << ": " << sql.status();
  return {sql.value_or(""), params.values()};
}

std::string ErrorOf(absl::string_view filter) {
  SqlParams params;
  absl::StatusOr<std::string> sql = CompileFilter(filter, params, "$1");
  EXPECT_EQ(sql.status().code(), absl::StatusCode::kInvalidArgument) << filter;
  std::vector<FieldViolation> v = GetFieldViolations(sql.status());
  EXPECT_EQ(v.size(), 1u);
  return v.empty() ? "" : v[0].field + ": " + v[0].description;
}

// The tags every match must have: only bare top-level AND terms.
std::vector<std::string> RequiredTags(absl::string_view filter) {
  SqlParams params;
  const std::string now = params.Add("NOW");
  FilterFacts facts;
  absl::StatusOr<std::string> sql = CompileFilter(filter, params, now, "filter", &facts);
  EXPECT_TRUE(sql.ok()) << sql.status();
  std::vector<std::string> out;
  for (const std::string& p : facts.required_tag_params) {
    out.push_back(params.values()[std::stoi(p.substr(1)) - 1]);
  }
  return out;
}

TEST(FilterTest, RequiredTags) {
  EXPECT_THAT(RequiredTags("tags:china"), ElementsAre("china"));
  EXPECT_THAT(RequiredTags("section = world AND tags:\"Trade War\" AND tags:x"),
              ElementsAre("trade-war", "x"));
  EXPECT_THAT(RequiredTags("tags:a OR tags:b"), ElementsAre());
  EXPECT_THAT(RequiredTags("tags:a AND (tags:b OR tags:c)"), ElementsAre("a"));
  EXPECT_THAT(RequiredTags("NOT tags:a"), ElementsAre());
  EXPECT_THAT(RequiredTags("-tags:a AND tags:b"), ElementsAre("b"));
  EXPECT_THAT(RequiredTags("(tags:a)"), ElementsAre());
  EXPECT_THAT(RequiredTags("authors:a AND section = x"), ElementsAre());
  EXPECT_THAT(RequiredTags(""), ElementsAre());
}

TEST(FilterTest, EmptyIsTrue) {
  EXPECT_EQ(Compile("").sql, "TRUE");
  EXPECT_EQ(Compile("   ").sql, "TRUE");
}

TEST(FilterTest, IssueExample) {
  Compiled c = Compile(
      "section = \"World\" AND tags:\"China\" AND authors:\"Ada Lovelace\" AND state = PUBLISHED "
      "AND publish_time > \"2023-06-01T00:00:00Z\"");
  EXPECT_EQ(c.sql,
            "((a.section = $2) AND (a.tags @> ARRAY[$3]::text[]) AND "
            "(a.authors @> ARRAY[$4]::text[]) AND "
            "(a.state IN (2, 3) AND a.publish_time <= $1::timestamptz) AND "
            "COALESCE(a.publish_time > $5::timestamptz, false))");
  EXPECT_THAT(c.params, ElementsAre("NOW", "world", "china", "Ada Lovelace",
                                    "2023-06-01T00:00:00.000000Z"));
}

TEST(FilterTest, OrBindsTighterThanAndAsInAip160) {
  EXPECT_EQ(Compile("section = a AND section = b OR section = c").sql,
            "((a.section = $2) AND ((a.section = $3) OR (a.section = $4)))");
  EXPECT_EQ(Compile("(section = a AND section = b) OR section = c").sql,
            "(((a.section = $2) AND (a.section = $3)) OR (a.section = $4))");
}

TEST(FilterTest, NegationAndStates) {
  EXPECT_EQ(Compile("NOT state = DRAFT").sql, "(NOT (a.state = 1))");
  EXPECT_EQ(Compile("-tags:x").sql, "(NOT (a.tags @> ARRAY[$2]::text[]))");
  EXPECT_EQ(Compile("state != SCHEDULED").sql,
            "(NOT (a.state = 2 AND a.publish_time > $1::timestamptz))");
  EXPECT_EQ(Compile("update_time <= '2024-01-02T03:04:05.5+02:00'").params[1],
            "2024-01-02T01:04:05.500000Z");
  EXPECT_EQ(Compile("slug = \"say-\\\"hi\\\"\"").params[1], "say-\"hi\"");
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
}

TEST(FilterTest, ValuesNeverReachSqlText) {
  Compiled c = Compile("section = \"x'); DROP TABLE articles; --\"");
  EXPECT_EQ(c.sql, "(a.section = $2)");
  EXPECT_EQ(c.params[1], "x'); drop table articles; --");
}

TEST(SearchQueryTest, WordsPrefixesPhrasesNegationAndOr) {
  EXPECT_EQ(*CompileSearchQuery("climate change"), "('climate') & ('change')");
  EXPECT_EQ(*CompileSearchQuery("elect*"), "('elect':*)");
  EXPECT_EQ(*CompileSearchQuery("\"prime minister\" -brexit"),
            "('prime' <-> 'minister') & !('brexit')");
  EXPECT_EQ(*CompileSearchQuery("china OR japan trade"), "(('china') | ('japan')) & ('trade')");
  EXPECT_EQ(*CompileSearchQuery("e-mail"), "('e' <-> 'mail')");
  EXPECT_EQ(*CompileSearchQuery("it's' & | ! :* <-> (x)"), "('it' <-> 's') & ('x')");
}

TEST(SearchQueryTest, Errors) {
  EXPECT_EQ(CompileSearchQuery("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileSearchQuery("-only").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileSearchQuery("&&& !!").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileSearchQuery(std::string(501, 'a')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(CompileSearchQuery("").status())[0].field, "query");
}

}  // namespace
}  // namespace newsgrid::article
