// libFuzzer target: the body renderer and HTML sanitizer (body_html.h) on
// arbitrary bytes in each body format. Whatever the input, the output parsed
// again as a browser would (gumbo) holds only allow-listed elements, no
// event-handler or style attribute, no URL other than http(s), mailto
// (links) or relative, and is stable: sanitizing it again changes nothing
// that matters (no new element appears).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "article-service/body_html.h"
#include "gumbo.h"

namespace {

namespace a = newsgrid::article;

// The scheme a browser sees in a URL attribute, lower-cased, or "" for a
// relative URL. Written from the WHATWG URL parser, independently of
// IsSafeUrl: leading and trailing C0 controls and spaces are ignored, tabs
// and newlines removed anywhere, and a scheme is an ASCII letter followed
// by letters, digits, '+', '-' or '.', ended by ':'. Any other character
// first ("a/b:c", "x y:z") makes the URL relative, so "javascript:" inside
// a relative path is harmless text.
std::string BrowserScheme(const std::string& url) {
  std::string s;
  for (char c : url) {
    if (c != '\t' && c != '\n' && c != '\r') s += c;
  }
  size_t b = 0, e = s.size();
  while (b < e && static_cast<unsigned char>(s[b]) <= 0x20) ++b;
  while (e > b && static_cast<unsigned char>(s[e - 1]) <= 0x20) --e;
  s = s.substr(b, e - b);
  if (s.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(s[0]))) return "";
  for (size_t i = 1; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == ':') return absl::AsciiStrToLower(s.substr(0, i));
    if (!absl::ascii_isalnum(c) && c != '+' && c != '-' && c != '.') return "";
  }
  return "";
}

void Check(const std::string& html) {
  a::HtmlTree tree(html);
  std::vector<const GumboNode*> stack{tree.root()};
  bool first = true;
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) continue;
    const GumboElement& el = node->v.element;
    if (!first) {
      if (el.tag_namespace != GUMBO_NAMESPACE_HTML) std::abort();
      switch (el.tag) {
        case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_IFRAME:
        case GUMBO_TAG_OBJECT: case GUMBO_TAG_EMBED: case GUMBO_TAG_FORM:
        case GUMBO_TAG_INPUT: case GUMBO_TAG_SVG: case GUMBO_TAG_MATH:
        case GUMBO_TAG_TEMPLATE: case GUMBO_TAG_BASE: case GUMBO_TAG_META:
        case GUMBO_TAG_LINK: case GUMBO_TAG_FRAME: case GUMBO_TAG_H1:
        case GUMBO_TAG_UNKNOWN:
          std::abort();
        default:
          break;
      }
      for (unsigned i = 0; i < el.attributes.length; ++i) {
        const auto* attr = static_cast<const GumboAttribute*>(el.attributes.data[i]);
        const std::string name = absl::AsciiStrToLower(attr->name);
        if (absl::StartsWith(name, "on") || name == "style" || name == "srcset") std::abort();
        if ((name == "href" || name == "cite") && !a::IsSafeUrl(attr->value, false)) std::abort();
        if (name == "src" && !a::IsSafeUrl(attr->value, true)) std::abort();
        if (name == "href" || name == "src" || name == "cite") {
          const std::string scheme = BrowserScheme(attr->value);
          const bool link = name != "src";
          if (!scheme.empty() && scheme != "http" && scheme != "https" &&
              !(link && scheme == "mailto")) {
            std::abort();
          }
        }
      }
    }
    first = false;
    for (unsigned i = 0; i < el.children.length; ++i) {
      stack.push_back(static_cast<const GumboNode*>(el.children.data[i]));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pb = ::news::article::v1;
  const std::string input(reinterpret_cast<const char*>(data), size);
  for (pb::BodyFormat f : {pb::MARKDOWN, pb::HTML, pb::PLAIN_TEXT}) {
    const std::string html = a::RenderBodyHtml(input, f);
    Check(html);
    Check(a::SanitizeHtml(html));
  }
  // Markdown's direct rendering writes what the general path writes.
  if (std::optional<std::string> direct = a::RenderMarkdownSafely(a::MarkdownTree(input))) {
    if (*direct != a::SanitizeHtml(a::MarkdownToHtml(input))) std::abort();
  }
  return 0;
}
