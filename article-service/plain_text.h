// The plain text of an article body, for word counts, the reading time, the
// excerpt and search: Markdown through cmark (the CommonMark reference
// parser, walking its syntax tree), HTML through gumbo (the HTML5 parsing
// algorithm, the tree body_html.h's HtmlTree gives), plain text as lines.
//
// Paragraphs of the result are separated by "\n\n" and have their
// whitespace collapsed to single spaces. In Markdown a paragraph break is
// where the author left a blank line, and around headings, code blocks and
// thematic breaks; adjacent lines of a quote or list run on. In HTML it is
// at block elements (p, div, h1-h6, li, table cells, figure, ...). Images are
// counted, not shown; what the rendered body drops (script, style, forms,
// ...) is dropped here too.
//
//   PlainText p = ToPlainText("# Title\n\nSome *text* ![x](a.png)", BodyFormat::kMarkdown);
//   // p.text == "Title\n\nSome text", p.images == 1
//   std::string line = CollapseWhitespace("  one\n\ntwo  ");  // "one two"
#ifndef NEWSGRID_ARTICLE_SERVICE_PLAIN_TEXT_H_
#define NEWSGRID_ARTICLE_SERVICE_PLAIN_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace newsgrid::article {

enum class BodyFormat { kMarkdown, kHtml, kPlainText };

struct PlainText {
  std::string text;  // paragraphs separated by "\n\n", inner whitespace collapsed
  int images = 0;    // images in the body (markdown ![..](..) and <img>)
};

// Removes markup. Characters U+E000 and U+E001 (used internally as search
// highlight markers) are dropped from the output; invalid UTF-8 becomes
// U+FFFD.
PlainText ToPlainText(absl::string_view body, BodyFormat format);

// `text` on one line: whitespace runs (Unicode White_Space) become one
// space, none at either end; U+E000/U+E001 dropped, invalid UTF-8 U+FFFD.
std::string CollapseWhitespace(absl::string_view text);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_PLAIN_TEXT_H_
