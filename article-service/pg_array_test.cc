#include "article-service/pg_array.h"

#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

using V = std::vector<std::string>;

TEST(PgArrayTest, PlainAndQuotedElements) {
  EXPECT_EQ(ParsePgTextArray("{}"), V{});
  EXPECT_EQ(ParsePgTextArray("{a,b}"), (V{"a", "b"}));
  EXPECT_EQ(ParsePgTextArray(R"({"a b","",c})"), (V{"a b", "", "c"}));
  EXPECT_EQ(ParsePgTextArray(R"({NULL,"NULL",x})"), (V{"NULL", "x"}));
  EXPECT_EQ(ParsePgTextArray("[0:1]={a,b}"), (V{"a", "b"}));
}

TEST(PgArrayTest, EscapesAsPostgresWritesThem) {
  // Values ending in a backslash or a quote aborted libpqxx's parser.
  EXPECT_EQ(ParsePgTextArray(R"({"\" OR 1=1 --","x\\","\\","say \"hi\"","a,b}{"})"),
            (V{"\" OR 1=1 --", "x\\", "\\", "say \"hi\"", "a,b}{"}));
  EXPECT_EQ(ParsePgTextArray(R"({"'; DROP TABLE articles; --","$1 $2 ::text ARRAY[] \\x00"})"),
            (V{"'; DROP TABLE articles; --", "$1 $2 ::text ARRAY[] \\x00"}));
  EXPECT_EQ(ParsePgTextArray("{\"caf\xC3\xA9\",\xE6\x97\xA5}"), (V{"caf\xC3\xA9", "\xE6\x97\xA5"}));
}

TEST(PgArrayTest, MalformedInputStopsWithoutCrashing) {
  EXPECT_EQ(ParsePgTextArray(""), V{});
  EXPECT_EQ(ParsePgTextArray("a,b"), V{});
  EXPECT_EQ(ParsePgTextArray("{\"open"), V{});
  EXPECT_EQ(ParsePgTextArray("{\"x\\"), V{});
  EXPECT_EQ(ParsePgTextArray("{a\\"), V{});
  EXPECT_EQ(ParsePgTextArray("{a,"), V{"a"});
  EXPECT_EQ(ParsePgTextArray("[1:2"), V{});
  EXPECT_EQ(ParsePgTextArray("{a\"b}"), V{"a\"b"});
}

}  // namespace
}  // namespace newsgrid::article
