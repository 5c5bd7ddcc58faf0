#include "article-service/plain_text.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "article-service/body_html.h"
#include "cmark.h"
#include "gumbo.h"
#include "unicode/uchar.h"
#include "unicode/utf8.h"

namespace newsgrid::article {
namespace {

// Collects text into paragraphs, collapsing whitespace.
class ParagraphBuilder {
 public:
  void Add(absl::string_view text) {
    const auto* p = reinterpret_cast<const uint8_t*>(text.data());
    const int64_t n = static_cast<int64_t>(text.size());
    for (int64_t i = 0; i < n;) {
      // ASCII runs (most text) are copied whole, not decoded and re-encoded
      // character by character: that was a fifth of CreateArticle's CPU in
      // the service.
      if (p[i] < 0x80) {
        if (absl::ascii_isspace(p[i])) {
          pending_space_ = true;
          ++i;
          continue;
        }
        int64_t j = i + 1;
        while (j < n && p[j] < 0x80 && !absl::ascii_isspace(p[j])) ++j;
        Word();
        current_.append(text.data() + i, j - i);
        i = j;
        continue;
      }
      UChar32 c;
      U8_NEXT(p, i, n, c);
      if (c < 0) c = 0xFFFD;
      if (c == 0xE000 || c == 0xE001) continue;  // reserved for highlight markers
      if (u_isUWhiteSpace(c)) {
        pending_space_ = true;
        continue;
      }
      Word();
      char buf[U8_MAX_LENGTH];
      int32_t len = 0;
      U8_APPEND_UNSAFE(buf, len, c);
      current_.append(buf, len);
    }
  }
  void Space() { pending_space_ = true; }
  void Break() {
    if (!current_.empty()) {
      if (!out_.empty()) out_ += "\n\n";
      out_ += current_;
      current_.clear();
    }
    pending_space_ = false;
  }
  std::string Finish() {
    Break();
    return std::move(out_);
  }

 private:
  // Before text: the pending space, if any text precedes it.
  void Word() {
    if (pending_space_ && !current_.empty()) current_ += ' ';
    pending_space_ = false;
  }

  std::string out_;
  std::string current_;
  bool pending_space_ = false;
};

// Elements whose start and end separate paragraphs.
bool IsBlockElement(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_H1: case GUMBO_TAG_H2:
    case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
    case GUMBO_TAG_LI: case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_PRE:
    case GUMBO_TAG_TABLE: case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH:
    case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_HR: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_ASIDE: case GUMBO_TAG_MAIN:
    case GUMBO_TAG_NAV: case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
      return true;
    default:
      return false;
  }
}

// The text of `html` into `pb`.
void HtmlText(absl::string_view html, ParagraphBuilder& pb, int& images) {
  const HtmlTree tree(html);
  WalkHtmlTree(
      tree, [&](absl::string_view text) { pb.Add(text); },
      [&](const GumboNode* element) {
        if (IsDroppedElement(element)) return false;
        const GumboTag tag = element->v.element.tag;
        if (tag == GUMBO_TAG_IMG) {
          ++images;
          return false;
        }
        if (tag == GUMBO_TAG_BR) {
          pb.Space();
          return false;
        }
        // Inline elements (a, em, span...) join their text without a gap.
        if (IsBlockElement(tag)) pb.Break();
        return true;
      },
      [&](const GumboNode* element) {
        if (IsBlockElement(element->v.element.tag)) pb.Break();
      });
}

// The lowercase name of the tag a raw inline HTML node starts with:
// "img" for "<IMG src=...>", "/em" for "</em>", "" for comments and the like.
std::string InlineTagName(absl::string_view raw) {
  std::string name;
  size_t i = 1;
  if (i < raw.size() && raw[i] == '/') name += raw[i++];
  while (i < raw.size() && absl::ascii_isalnum(static_cast<unsigned char>(raw[i]))) {
    name += absl::ascii_tolower(static_cast<unsigned char>(raw[i++]));
  }
  return name;
}

bool IsLeafBlock(cmark_node_type type) {
  return type == CMARK_NODE_PARAGRAPH || type == CMARK_NODE_HEADING ||
         type == CMARK_NODE_CODE_BLOCK || type == CMARK_NODE_HTML_BLOCK ||
         type == CMARK_NODE_THEMATIC_BREAK;
}

// Leaf blocks that are paragraphs of their own, whatever surrounds them.
bool StandsAlone(cmark_node_type type) {
  return type == CMARK_NODE_HEADING || type == CMARK_NODE_CODE_BLOCK ||
         type == CMARK_NODE_THEMATIC_BREAK;
}

PlainText MarkdownToPlain(absl::string_view md) {
  PlainText result;
  ParagraphBuilder pb;
  const MarkdownTree tree(md);
  cmark_iter* it = cmark_iter_new(tree.root());
  int last_end_line = -1;  // of the previous leaf block
  bool last_alone = false;
  for (cmark_event_type ev; (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE;) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node* node = cmark_iter_get_node(it);
    const cmark_node_type type = cmark_node_get_type(node);
    if (IsLeafBlock(type)) {
      // Leaf blocks on adjacent lines (a quote, then a list) run on; a blank
      // line between them separates paragraphs.
      const bool alone = StandsAlone(type);
      if (alone || last_alone || cmark_node_get_start_line(node) > last_end_line + 1) {
        pb.Break();
      } else {
        pb.Space();
      }
      last_alone = alone;
      last_end_line = cmark_node_get_end_line(node);
    }
    switch (type) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE:
      case CMARK_NODE_CODE_BLOCK:
        pb.Add(cmark_node_get_literal(node));
        break;
      case CMARK_NODE_SOFTBREAK:
      case CMARK_NODE_LINEBREAK:
        pb.Space();
        break;
      case CMARK_NODE_HTML_BLOCK:
        HtmlText(cmark_node_get_literal(node), pb, result.images);
        break;
      case CMARK_NODE_HTML_INLINE: {
        // One raw tag (or comment): an image counts, a line break spaces,
        // the rest (em, span...) only wraps text.
        const std::string name = InlineTagName(cmark_node_get_literal(node));
        if (name == "img") ++result.images;
        if (name == "br") pb.Space();
        break;
      }
      case CMARK_NODE_IMAGE:
        // Counted, not shown: its alt text is not read as body text.
        ++result.images;
        pb.Space();
        cmark_iter_reset(it, node, CMARK_EVENT_EXIT);
        break;
      default:
        break;
    }
  }
  cmark_iter_free(it);
  result.text = pb.Finish();
  return result;
}

}  // namespace

PlainText ToPlainText(absl::string_view body, BodyFormat format) {
  PlainText result;
  ParagraphBuilder pb;
  switch (format) {
    case BodyFormat::kHtml:
      HtmlText(body, pb, result.images);
      break;
    case BodyFormat::kPlainText:
      for (absl::string_view line : absl::StrSplit(body, '\n')) {
        if (absl::StripAsciiWhitespace(line).empty()) {
          pb.Break();
        } else {
          pb.Add(line);
          pb.Space();
        }
      }
      break;
    case BodyFormat::kMarkdown:
      return MarkdownToPlain(body);
  }
  result.text = pb.Finish();
  return result;
}

std::string CollapseWhitespace(absl::string_view text) {
  ParagraphBuilder pb;
  pb.Add(text);
  return pb.Finish();
}

}  // namespace newsgrid::article
