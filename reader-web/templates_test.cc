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
                    {"engaged_url", std::string("/engaged/1")},
                    {"ping_interval_ms", 15000},
                    {"engage", true},
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
  EXPECT_THAT(read, HasSubstr("<script src=\"/static/engage.js\" defer>"));  // and its time
}

// The script makes the page view id and loads the beacon; the <noscript>
// beacon counts browsers without it.
TEST(TemplatesTest, ArticlePageCarriesTheBeaconForTheScriptAndWithout) {
  const Templates t = Templates::Embedded();
  const std::string html = t.Render("article", ArticleContext("Title"));
  EXPECT_THAT(html, HasSubstr("<span id=\"page-view\" hidden data-beacon=\"/views/1\" "
                              "data-engaged=\"/engaged/1\" data-ping-interval-ms=\"15000\">"));
  EXPECT_THAT(html, HasSubstr("<noscript><img class=\"beacon\" src=\"/views/1\""));
  EXPECT_THAT(html, HasSubstr("<script src=\"/static/engage.js\" defer></script>"));
  // Other pages have no view to count.
  mstch::map listing = ArticleContext("Title");
  listing["engage"] = false;
  EXPECT_THAT(t.Render("listing", listing), Not(HasSubstr("engage.js")));
}

TEST(TemplatesTest, TrendingBoxShowsReadersNowAndBothRankings) {
  const Templates t = Templates::Embedded();
  mstch::map c = ArticleContext("Title");
  c["trending"] = mstch::array{
      mstch::map{{"title", std::string("Read <b>a</b>")},
                 {"url", std::string("/articles/a")},
                 {"reading_now", std::string("3 reading now")}},
      mstch::map{{"title", std::string("Read b")}, {"url", std::string("/articles/b")}}};
  c["trending_engaged"] = mstch::array{mstch::map{{"title", std::string("Engaging c")},
                                                  {"url", std::string("/articles/c")},
                                                  {"reading_now", std::string("1 reading now")}}};
  const std::string html = t.Render("article", c);
  const size_t read = html.find("id=\"trending-list\"");
  const size_t engaged = html.find("id=\"trending-engaged-list\"");
  ASSERT_NE(read, std::string::npos);
  ASSERT_NE(engaged, std::string::npos);
  const std::string read_list = html.substr(read, engaged - read);
  const std::string engaged_list = html.substr(engaged);
  EXPECT_THAT(read_list, HasSubstr("<li><a href=\"/articles/a\">Read &lt;b&gt;a&lt;/b&gt;</a> "
                                   "<span class=\"reading-now\">3 reading now</span></li>"));
  EXPECT_THAT(read_list, HasSubstr("<li><a href=\"/articles/b\">Read b</a></li>"));
  EXPECT_THAT(read_list, Not(HasSubstr("Engaging c")));
  EXPECT_THAT(engaged_list, HasSubstr("<li><a href=\"/articles/c\">Engaging c</a> "
                                      "<span class=\"reading-now\">1 reading now</span></li>"));
  EXPECT_THAT(engaged_list, Not(HasSubstr("Read b")));
  // The switch, before both lists (the CSS shows one by the checked radio).
  const size_t switch_at = html.find("id=\"trending-engaged\" value=\"engaged\"");
  ASSERT_NE(switch_at, std::string::npos);
  EXPECT_LT(switch_at, read);
  EXPECT_THAT(html,
              HasSubstr("id=\"trending-read\" value=\"read\" class=\"visually-hidden\" checked>"));
  EXPECT_THAT(html, HasSubstr("<label for=\"trending-read\">Most read</label>"));
  EXPECT_THAT(html, HasSubstr("<label for=\"trending-engaged\">Most engaged</label>"));
  // Nothing read yet: the box is hidden.
  c["trending"] = mstch::array{};
  EXPECT_THAT(t.Render("article", c), HasSubstr("data-live=\"/live/trending\" hidden>"));
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
  ASSERT_NE(t.Static("engage.js"), nullptr);
  EXPECT_EQ(t.Static("engage.js")->content_type, "text/javascript; charset=utf-8");
  ASSERT_NE(t.Static("demo/harbour.svg"), nullptr);
  EXPECT_EQ(t.Static("../etc/passwd"), nullptr);
}

}  // namespace
}  // namespace newsgrid::reader
