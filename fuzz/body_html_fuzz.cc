// libFuzzer target: the body renderer and HTML sanitizer (body_html.h) on
// arbitrary bytes in each body format. Whatever the input, the output parsed
// again as a browser would (gumbo) holds only allow-listed elements, no
// event-handler or style attribute, no URL other than http(s), mailto
// (links) or relative, and is stable: sanitizing it again changes nothing
// that matters (no new element appears).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "article-service/body_html.h"
#include "gumbo.h"

namespace {

namespace a = newsgrid::article;

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
        const std::string value = absl::AsciiStrToLower(attr->value);
        if ((name == "href" || name == "src" || name == "cite") &&
            (absl::StrContains(value, "javascript:") || absl::StartsWith(value, "data:"))) {
          std::abort();
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
  return 0;
}
