// The article body as HTML that is safe to embed in a page: Markdown through
// cmark (raw HTML and unsafe links removed), HTML through an allow-list
// sanitizer walking the tree of a real HTML5 parser (gumbo), plain text as
// escaped paragraphs. Computed on write and stored with the article.
//
// What survives: text, a fixed set of formatting, list, table, quote, code
// and figure elements, links (http, https, mailto, relative) and images
// (http, https, relative). Never: <script>, <style>, frames, objects, forms,
// SVG/MathML, event-handler or style attributes, javascript:, data: or any
// other URL scheme. Unknown elements are unwrapped (their text stays);
// dangerous ones are dropped with their content. A body <h1> becomes <h2>:
// the page's one <h1> is the headline.
//
//   std::string html = RenderBodyHtml("Hello *world*", news::article::v1::MARKDOWN);
//   // "<p>Hello <em>world</em></p>\n"
//   std::string safe = SanitizeHtml("<p onclick=x()>Hi<script>alert(1)</script></p>");
//   // "<p>Hi</p>"
//
// The parsing pieces (MarkdownTree, HtmlTree, IsDroppedElement) are public so
// that other derivations of the body (plain_text.h) walk the same trees with
// the same rules.
#ifndef NEWSGRID_ARTICLE_SERVICE_BODY_HTML_H_
#define NEWSGRID_ARTICLE_SERVICE_BODY_HTML_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "news/article/v1/article_service.pb.h"

struct GumboInternalOutput;
struct GumboInternalNode;
struct cmark_node;

namespace newsgrid::article {

// Version of the rendering rules. Stored next to each rendered body; rows
// rendered under an older version are rendered again (on read, and by the
// backfill at start), so a rule change reaches every stored article.
inline constexpr int kBodyHtmlVersion = 1;

// `body` in `format` as sanitized HTML (UNSPECIFIED is Markdown).
std::string RenderBodyHtml(absl::string_view body, news::article::v1::BodyFormat format);

// CommonMark to HTML with cmark's safe defaults: raw HTML is replaced by a
// comment and links/images with javascript:, vbscript:, file: and most
// data: URLs lose their URL. Not yet allow-listed: RenderBodyHtml passes
// this through SanitizeHtml.
std::string MarkdownToHtml(absl::string_view markdown);

// CommonMark parsed by cmark (with its UTF-8 validation: invalid bytes
// become U+FFFD), the tree MarkdownToHtml renders.
//
// cmark allocates per node and per text chunk; malloc and free were a sixth
// of the plain-text pass. So the tree lives in an arena of its own, released
// at once with it: use a tree on the thread that made it. (One arena tree
// per thread at a time; a second tree made while one lives uses malloc.)
class MarkdownTree {
 public:
  explicit MarkdownTree(absl::string_view markdown);
  ~MarkdownTree();
  MarkdownTree(const MarkdownTree&) = delete;
  MarkdownTree& operator=(const MarkdownTree&) = delete;

  // The CMARK_NODE_DOCUMENT node; walk it with cmark_iter.
  cmark_node* root() const { return root_; }
  // The tree as HTML with cmark's safe defaults (MarkdownToHtml).
  std::string RenderHtml() const;

  class Arena;  // body_html.cc

 private:
  std::unique_ptr<Arena> arena_;  // null: this tree is on malloc
  cmark_node* root_;
};

// The tree as SanitizeHtml(tree.RenderHtml()) would write it, byte for
// byte, in one walk of the tree without an HTML parse (which was a third of
// the service's CPU in a create): what cmark's safe renderer writes, less
// what the sanitizer would take out (the "raw HTML omitted" comments, links
// and images with an unsafe URL, the "/" of void elements), h1 as h2, text
// escaped and normalized as the HTML parser hands it on. nullopt for a tree
// nested deeper than 64 (the general path has the depth limits) and for a
// link inside a link (which the HTML parser restructures).
// RenderBodyHtml uses it for Markdown.
std::optional<std::string> RenderMarkdownSafely(const MarkdownTree& tree);

// An HTML fragment parsed as the content of a <body> by gumbo (the HTML5
// parsing algorithm, as browsers do: misnested and unclosed tags are fixed
// up the same way). gumbo's time grows with the square of the nesting depth,
// so tags nested deeper than 256 are removed before parsing (their text
// stays).
class HtmlTree {
 public:
  explicit HtmlTree(absl::string_view html);
  ~HtmlTree();
  HtmlTree(const HtmlTree&) = delete;
  HtmlTree& operator=(const HtmlTree&) = delete;

  // The element whose children are the fragment's top-level nodes.
  const GumboInternalNode* root() const;

 private:
  std::string source_;  // gumbo points into it
  GumboInternalOutput* output_;
};

// Visits the nodes below the root of `tree` in document order, without
// recursion: `text` on each text node, `enter` on each element, and for an
// element for which it returns true its children next, then `leave` on
// that element. Comments are skipped.
void WalkHtmlTree(const HtmlTree& tree, absl::FunctionRef<void(absl::string_view)> text,
                  absl::FunctionRef<bool(const GumboInternalNode*)> enter,
                  absl::FunctionRef<void(const GumboInternalNode*)> leave);

// Whether `element` (an element node of an HtmlTree) is dropped with all it
// holds by SanitizeHtml: active content, embedded documents, forms, SVG and
// MathML, and elements whose content is not shown.
bool IsDroppedElement(const GumboInternalNode* element);

// Keeps only allow-listed elements and attributes of `html`; the result is
// well-formed, with every text and attribute value escaped.
std::string SanitizeHtml(absl::string_view html);

// `text` escaped for element text and attribute values (runtime/html.h).
std::string EscapeHtmlText(absl::string_view text);

// Whether `url` may be a link target (`image` false) or an image source:
// after removing what browsers ignore (surrounding spaces, tabs, newlines),
// a relative URL or one with scheme http or https (links also mailto).
bool IsSafeUrl(absl::string_view url, bool image);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_BODY_HTML_H_
