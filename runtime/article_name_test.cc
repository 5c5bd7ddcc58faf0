#include "runtime/article_name.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace newsgrid {
namespace {

TEST(ParseArticleNameTest, RejectsOtherForms) {
  for (const std::string& bad : std::vector<std::string>{"", "articles/", "article/abc", "posts/1", "articles/a b", "articles/a/b", "articles/a.b",
        "Articles/a", "articles/é", "/articles/a", "articles/" + std::string(129, 'a')}) {
    EXPECT_FALSE(ParseArticleName(bad)) << bad;
  }
}

TEST(ParseArticleNameTest, AcceptsTheIdAlphabet) {
  EXPECT_EQ(ParseArticleName("articles/abc-123_X"), "abc-123_X");
  EXPECT_EQ(ParseArticleName("articles/42"), "42");
  EXPECT_EQ(ParseArticleName("articles/007"), "007");
  EXPECT_EQ(ParseArticleName("articles/" + std::string(128, 'a')), std::string(128, 'a'));
}

TEST(ParseArticleServiceIdTest, AcceptsCanonicalPositiveInt64) {
  EXPECT_EQ(ParseArticleServiceId("articles/42"), 42);
  EXPECT_EQ(ParseArticleServiceId("articles/1"), 1);
  EXPECT_EQ(ParseArticleServiceId("articles/9223372036854775807"), INT64_MAX);
}

TEST(ParseArticleServiceIdTest, RejectsWhatTheArticleServiceNeverAssigns) {
  for (const char* bad :
       {"", "articles/", "articles/0", "articles/007", "articles/-1", "articles/+1", "articles/x",
        "articles/1x", "articles/abc", "posts/1", "articles/ 1", "articles/9223372036854775808",
        "articles/99999999999999999999"}) {
    EXPECT_FALSE(ParseArticleServiceId(bad)) << bad;
  }
}

TEST(ArticleServiceNameTest, RoundTrips) {
  EXPECT_EQ(ArticleServiceName(42), "articles/42");
  for (int64_t id : {int64_t{1}, int64_t{1234567890123}, INT64_MAX}) {
    EXPECT_EQ(ParseArticleServiceId(ArticleServiceName(id)), id);
  }
}

}  // namespace
}  // namespace newsgrid
