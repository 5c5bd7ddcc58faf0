#include "article-service/plain_text.h"

#include <string>

#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

TEST(PlainTextTest, MarkdownRemovesMarkupAndCountsImages) {
  const std::string md =
      "# The *big* story\n"
      "\n"
      "Some **bold** and _italic_ text with a [link](https://example.com) and `code`.\n"
      "![a chart](https://example.com/a.png)\n"
      "\n"
      "> A quote\n"
      "- first item\n"
      "1. numbered\n"
      "\n"
      "```\n"
      "int x = 1;\n"
      "```\n"
      "[ref]: https://example.com\n"
      "snake_case stays <img src=\"x.png\"> &amp; entities\n";
  PlainText p = ToPlainText(md, BodyFormat::kMarkdown);
  EXPECT_EQ(p.images, 2);
  EXPECT_EQ(p.text,
            "The big story\n\n"
            "Some bold and italic text with a link and code.\n\n"
            "A quote first item numbered\n\n"
            "int x = 1;\n\n"
            "snake_case stays & entities");
}

TEST(PlainTextTest, HtmlDropsTagsScriptsAndDecodesEntities) {
  PlainText p = ToPlainText(
      "<h1>Title</h1><p>One &amp; <em>two</em>&nbsp;three<br>four</p>"
      "<script>var x = '<p>';</script><figure><img src=a.png><img src=b.png>"
      "<figcaption>Cap &#8212; &#x41;</figcaption></figure><!-- hidden -->",
      BodyFormat::kHtml);
  EXPECT_EQ(p.images, 2);
  EXPECT_EQ(p.text, "Title\n\nOne & two three four\n\nCap \u2014 A");
}

TEST(PlainTextTest, PlainTextKeepsParagraphs) {
  PlainText p = ToPlainText("line one\nline   two\n\n\nnext *para*", BodyFormat::kPlainText);
  EXPECT_EQ(p.text, "line one line two\n\nnext *para*");
  EXPECT_EQ(p.images, 0);
}

}  // namespace
}  // namespace newsgrid::article
