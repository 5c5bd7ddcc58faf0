#include "reader-web/page_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace newsgrid::reader {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PageTextTest, DatesInTheReadersWording) {
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2023, 6, 17, 9, 14, 42), absl::UTCTimeZone());
  EXPECT_EQ(ReaderTime(t, absl::UTCTimeZone()), "17 Jun 2023 09:14");
  EXPECT_EQ(ReaderTime(t, absl::FixedTimeZone(2 * 3600)), "17 Jun 2023 11:14");
  EXPECT_EQ(IsoTime(t + absl::Milliseconds(300)), "2023-06-17T09:14:42Z");
  EXPECT_EQ(HttpDate(t), "Sat, 17 Jun 2023 09:14:42 GMT");
  EXPECT_EQ(ParseHttpDate("Sat, 17 Jun 2023 09:14:42 GMT"), t);
  EXPECT_FALSE(ParseHttpDate("yesterday").has_value());
}

TEST(PageTextTest, EtagsAreStableContentHashes) {
  EXPECT_EQ(BodyEtag("hello"), "\"2cf24dba5fb0a30e\"");  // SHA-256 prefix
  EXPECT_NE(BodyEtag("hello"), BodyEtag("hello!"));
}

TEST(PageTextTest, Bylines) {
  google::protobuf::RepeatedPtrField<std::string> a;
  EXPECT_EQ(Byline(a), "");
  *a.Add() = "Ada";
  EXPECT_EQ(Byline(a), "Ada");
  *a.Add() = "Li";
  EXPECT_EQ(Byline(a), "Ada and Li");
  *a.Add() = "Mo";
  EXPECT_EQ(Byline(a), "Ada, Li and Mo");
}

TEST(PageTextTest, SnippetPartsUnescapeAndMark) {
  const std::vector<SnippetPart> parts =
      SnippetParts("Tram &amp; <mark>harbour</mark> &lt;b&gt; <mark>line</mark>");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0].text, "Tram & ");
  EXPECT_FALSE(parts[0].marked);
  EXPECT_EQ(parts[1].text, "harbour");
  EXPECT_TRUE(parts[1].marked);
  EXPECT_EQ(parts[2].text, " <b> ");
  EXPECT_EQ(parts[3].text, "line");
  EXPECT_TRUE(parts[3].marked);
  EXPECT_TRUE(SnippetParts("").empty());
}

TEST(PageTextTest, JsonLdCannotCloseItsScriptElement) {
  news::article::v1::Article a;
  a.set_title("</script><script>alert(1)</script> & \"quotes\"");
  a.set_excerpt("Short");
  a.add_authors("Ada Lovelace");
  a.add_tags("rail");
  a.set_section("travel");
  a.mutable_publish_time()->set_seconds(1686993240);
  a.mutable_update_time()->set_seconds(1686996840);
  const std::string json = NewsArticleJsonLd(a, "https://news.example/articles/x", "Example");
  EXPECT_THAT(json, Not(HasSubstr("<")));
  EXPECT_THAT(json, Not(HasSubstr("&")));
  EXPECT_THAT(json, HasSubstr("\\u003c/script\\u003e"));
  EXPECT_THAT(json, HasSubstr("\"@type\":\"NewsArticle\""));
  EXPECT_THAT(json, HasSubstr("\"datePublished\":\"2023-06-17T09:14:00Z\""));
  EXPECT_THAT(json, HasSubstr("\"dateModified\":\"2023-06-17T10:14:00Z\""));
  EXPECT_THAT(json, HasSubstr("{\"@type\":\"Person\",\"name\":\"Ada Lovelace\"}"));
  EXPECT_THAT(json, HasSubstr("\\\"quotes\\\""));
}

}  // namespace
}  // namespace newsgrid::reader
