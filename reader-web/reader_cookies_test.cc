#include "reader-web/reader_cookies.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace newsgrid::reader {
namespace {

using ::testing::HasSubstr;

TEST(ReaderCookiesTest, CookieValue) {
  EXPECT_EQ(CookieValue("a=1; ngv=abc; b=2", "ngv"), "abc");
  EXPECT_EQ(CookieValue("ngv=\"q\"", "ngv"), "q");
  EXPECT_EQ(CookieValue("xngv=1;ngv =  v2 ", "ngv"), "v2");
  EXPECT_FALSE(CookieValue("a=1; b", "ngv").has_value());
  EXPECT_FALSE(CookieValue("", "ngv").has_value());
}

TEST(ReaderCookiesTest, VisitorIdsAreRandomAndOpaque) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewVisitorId();
    EXPECT_TRUE(IsValidVisitorId(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_FALSE(IsValidVisitorId("ABCDEF0123456789abcdef0123456789"));
  EXPECT_FALSE(IsValidVisitorId("short"));
  EXPECT_FALSE(IsValidVisitorId("zz" + std::string(30, 'a')));
  const std::string header = VisitorCookieHeader("0123456789abcdef0123456789abcdef");
  EXPECT_THAT(header, HasSubstr("ngv=0123456789abcdef0123456789abcdef;"));
  EXPECT_THAT(header, HasSubstr("HttpOnly"));
  EXPECT_THAT(header, HasSubstr("SameSite=Lax"));
  EXPECT_THAT(header, HasSubstr("Path=/"));
}

TEST(ReaderCookiesTest, PrefsRoundTripAndFallBack) {
  EXPECT_EQ(ParsePrefs(""), ReadingPrefs{});
  EXPECT_EQ(ParsePrefs("read.130"), (ReadingPrefs{.read_mode = true, .font_percent = 130}));
  EXPECT_EQ(ParsePrefs("full.150"), (ReadingPrefs{.read_mode = false, .font_percent = 150}));
  EXPECT_EQ(ParsePrefs("read.999"), (ReadingPrefs{.read_mode = true, .font_percent = 100}));
  EXPECT_EQ(ParsePrefs("<script>"), ReadingPrefs{});
  const ReadingPrefs p{.read_mode = true, .font_percent = 115};
  EXPECT_EQ(ParsePrefs(FormatPrefs(p)), p);
  EXPECT_THAT(PrefsCookieHeader(p), HasSubstr("ngprefs=read.115;"));
  EXPECT_THAT(PrefsCookieHeader(ReadingPrefs{}), HasSubstr("Max-Age=0"));
}

TEST(ReaderCookiesTest, ReturnPathsStayOnTheSite) {
  EXPECT_EQ(SafeReturnPath("/articles/x"), "/articles/x");
  EXPECT_EQ(SafeReturnPath("/search?q=a"), "/search?q=a");
  EXPECT_EQ(SafeReturnPath("//evil.example/"), "/");
  EXPECT_EQ(SafeReturnPath("https://evil.example/"), "/");
  EXPECT_EQ(SafeReturnPath("/\\evil.example"), "/");
  EXPECT_EQ(SafeReturnPath("/a\r\nSet-Cookie: x"), "/");
  EXPECT_EQ(SafeReturnPath(""), "/");
}

}  // namespace
}  // namespace newsgrid::reader
