#include "article-service/filter_sql.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

using ::testing::ElementsAre;

struct Compiled {
  std::string sql;
  std::vector<std::string> params;
  std::vector<std::string> required_tag_params;
};

Compiled Compile(absl::string_view filter) {
  absl::StatusOr<FilterExpr> e = ParseFilter(filter);
  EXPECT_TRUE(e.ok()) << filter << ": " << e.status();
  SqlParams params;
  const std::string now = params.Add("NOW");
  FilterSql sql = FilterToSql(e.value_or(FilterExpr()), params, now);
  return {sql.where, params.values(), sql.required_tag_params};
}

TEST(FilterSqlTest, EmptyIsTrue) {
  EXPECT_EQ(Compile("").sql, "TRUE");
  EXPECT_EQ(Compile("   ").sql, "TRUE");
}

TEST(FilterSqlTest, IssueExample) {
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
  EXPECT_THAT(c.required_tag_params, ElementsAre("$3"));
}

TEST(FilterSqlTest, RequiredTagPlaceholders) {
  EXPECT_THAT(Compile("section = world AND tags:\"Trade War\" AND tags:x").required_tag_params,
              ElementsAre("$3", "$4"));
  EXPECT_THAT(Compile("tags:a AND (tags:b OR tags:c)").required_tag_params, ElementsAre("$2"));
  EXPECT_THAT(Compile("(tags:a)").required_tag_params, ElementsAre());
  EXPECT_THAT(Compile("-tags:a AND tags:b").required_tag_params, ElementsAre("$3"));
}

TEST(FilterSqlTest, OrBindsTighterThanAndAsInAip160) {
  EXPECT_EQ(Compile("section = a AND section = b OR section = c").sql,
            "((a.section = $2) AND ((a.section = $3) OR (a.section = $4)))");
  EXPECT_EQ(Compile("(section = a AND section = b) OR section = c").sql,
            "(((a.section = $2) AND (a.section = $3)) OR (a.section = $4))");
}

TEST(FilterSqlTest, NegationAndStates) {
  EXPECT_EQ(Compile("NOT state = DRAFT").sql, "(NOT (a.state = 1))");
  EXPECT_EQ(Compile("-tags:x").sql, "(NOT (a.tags @> ARRAY[$2]::text[]))");
  EXPECT_EQ(Compile("state != SCHEDULED").sql,
            "(NOT (a.state = 2 AND a.publish_time > $1::timestamptz))");
  EXPECT_EQ(Compile("slug != x").sql, "(a.slug <> $2)");
  EXPECT_EQ(Compile("create_time != '2024-01-01T00:00:00Z'").sql,
            "COALESCE(a.create_time <> $2::timestamptz, false)");
  EXPECT_EQ(Compile("update_time <= '2024-01-02T03:04:05.5+02:00'").params[1],
            "2024-01-02T01:04:05.500000Z");
  EXPECT_EQ(Compile("slug = \"say-\\\"hi\\\"\"").params[1], "say-\"hi\"");
}

TEST(FilterSqlTest, ValuesNeverReachSqlText) {
  Compiled c = Compile("section = \"x'); DROP TABLE articles; --\"");
  EXPECT_EQ(c.sql, "(a.section = $2)");
  EXPECT_EQ(c.params[1], "x'); drop table articles; --");
}

TEST(FilterSqlTest, PgTimeHasMicroseconds) {
  EXPECT_EQ(FormatPgTime(absl::FromUnixMicros(1700000000123456)), "2023-11-14T22:13:20.123456Z");
}

}  // namespace
}  // namespace newsgrid::article
