#include "reader-web/templates.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace newsgrid::reader {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

mstch::map ArticleContext(const std::string& title) {
  return mstch::map{{"lang", std::string("en")},
                    {"site_name", std::string("Site")},
                    {"page_title", title},
                    {"font_percent", 100},
                    {"read_mode", false},
                    {"title", title},
                    {"subtitle", std::string("Sub \" onmouseover=\"x")},
                    {"path", std::string("/articles/x")},
                    {"body_html", std::string("<p>Body <b>bold</b></p>")},
                    {"beacon", std::string("/views/1")},
                    {"image", mstch::map{{"url", std::string("https://e.com/a.jpg")},
                                         {"alt", std::string("\"><script>alert(2)</script>")}}},
                    {"trending", mstch::array{mstch::map{{"title", std::string("<i>t</i>")},
                                                         {"url", std::string("/articles/t")}}}}};
}

TEST(TemplatesTest, ValuesAreEscapedBodyIsNot) {
  const Templates t = Templates::Embedded();
  const std::string html = t.Render("article", ArticleContext("<script>alert(1)</script>"));
  EXPECT_THAT(html, HasSubstr("<h1 id=\"headline\">&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
  EXPECT_THAT(html, HasSubstr("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, HasSubstr("alt=\"&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;\""));
  EXPECT_THAT(html, HasSubstr("Sub &quot; onmouseover=&quot;x"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/articles/t\">&lt;i&gt;t&lt;/i&gt;</a>"));
  EXPECT_THAT(html, HasSubstr("<p>Body <b>bold</b></p>"));  // sanitized upstream, kept as HTML
  EXPECT_THAT(html, HasSubstr("<html lang=\"en\" class=\"font-100\">"));
  EXPECT_THAT(html, HasSubstr("<main id=\"main\">"));
}

TEST(TemplatesTest, ReadModeDropsTheChrome) {
  const Templates t = Templates::Embedded();
  mstch::map c = ArticleContext("Title");
  const std::string full = t.Render("article", c);
  EXPECT_THAT(full, HasSubstr("class=\"site-header\""));
  EXPECT_THAT(full, HasSubstr("aria-labelledby=\"trending-title\""));
  c["read_mode"] = true;
  c["font_percent"] = 130;
  const std::string read = t.Render("article", c);
  EXPECT_THAT(read, Not(HasSubstr("class=\"site-header\"")));
  EXPECT_THAT(read, Not(HasSubstr("trending-title")));
  EXPECT_THAT(read, Not(HasSubstr("site-footer")));
  EXPECT_THAT(read, HasSubstr("class=\"font-130 read-mode\""));
  EXPECT_THAT(read, HasSubstr("<p>Body <b>bold</b></p>"));
  EXPECT_THAT(read, HasSubstr("src=\"/views/1\""));  // a read-mode view counts too
}

TEST(TemplatesTest, EscapeCoversAttributeQuoting) {
  EXPECT_EQ(Templates::Escape("<a href='x' title=\"y\">`&"),
            "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&#96;&amp;");
}

TEST(TemplatesTest, StaticFilesAreBuiltIn) {
  const Templates t = Templates::Embedded();
  const StaticFile* css = t.Static("site.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_THAT(css->content, HasSubstr(".font-130"));
  ASSERT_NE(t.Static("live.js"), nullptr);
  ASSERT_NE(t.Static("demo/harbour.svg"), nullptr);
  EXPECT_EQ(t.Static("../etc/passwd"), nullptr);
}

}  // namespace
}  // namespace newsgrid::reader
