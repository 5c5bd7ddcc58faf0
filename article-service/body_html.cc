#include "article-service/body_html.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "cmark.h"
#include "unicode/utf8.h"
#include "gumbo.h"
#include "runtime/html.h"

namespace newsgrid::article {
namespace {

// Elements nested deeper than this are unwrapped (their text stays): the
// output never nests without bound, whatever the input does.
constexpr int kMaxDepth = 100;

enum class Attr {
  kText,      // any text (title, alt, datetime)
  kUrl,       // a link target: IsSafeUrl(image = false), else dropped
  kImageUrl,  // an image source: IsSafeUrl(image = true), else the element goes
  kNumber,    // 1 to 6 digits
  kFlag,      // boolean attribute, written without a value
  kScope,     // th scope
  kLanguageClass,  // "language-xyz" on code (cmark's fenced code info)
};

struct AttrRule {
  const char* name;
  Attr kind;
};

struct ElementRule {
  const char* name;  // written name (h1 is written as h2)
  std::vector<AttrRule> attrs;
};

enum class Action { kKeep, kUnwrap, kDrop };

// Dropped with everything inside: active content, embedded documents,
// forms, and elements whose content is not meant to be shown.
bool IsDropped(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_IFRAME: case GUMBO_TAG_FRAME: case GUMBO_TAG_FRAMESET:
    case GUMBO_TAG_OBJECT: case GUMBO_TAG_EMBED: case GUMBO_TAG_APPLET:
    case GUMBO_TAG_PARAM: case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_NOEMBED:
    case GUMBO_TAG_NOFRAMES: case GUMBO_TAG_FORM: case GUMBO_TAG_INPUT:
    case GUMBO_TAG_BUTTON: case GUMBO_TAG_SELECT: case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_OPTION: case GUMBO_TAG_OPTGROUP: case GUMBO_TAG_DATALIST:
    case GUMBO_TAG_KEYGEN: case GUMBO_TAG_OUTPUT: case GUMBO_TAG_TITLE:
    case GUMBO_TAG_HEAD: case GUMBO_TAG_META: case GUMBO_TAG_LINK:
    case GUMBO_TAG_BASE: case GUMBO_TAG_AUDIO: case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_SOURCE: case GUMBO_TAG_TRACK: case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_MAP: case GUMBO_TAG_AREA: case GUMBO_TAG_SVG: case GUMBO_TAG_MATH:
    case GUMBO_TAG_MENUITEM:
      return true;
    default:
      return false;
  }
}

const ElementRule* KeptElement(GumboTag tag) {
  struct Table {
    std::vector<std::pair<GumboTag, ElementRule>> rules;
    std::vector<const ElementRule*> by_tag;
  };
  static const Table* table = [] {
    auto* t = new Table;
    t->rules = {
        {GUMBO_TAG_P, {"p", {}}},
        {GUMBO_TAG_BR, {"br", {}}},
        {GUMBO_TAG_HR, {"hr", {}}},
        {GUMBO_TAG_H1, {"h2", {}}},
        {GUMBO_TAG_H2, {"h2", {}}},
        {GUMBO_TAG_H3, {"h3", {}}},
        {GUMBO_TAG_H4, {"h4", {}}},
        {GUMBO_TAG_H5, {"h5", {}}},
        {GUMBO_TAG_H6, {"h6", {}}},
        {GUMBO_TAG_STRONG, {"strong", {}}},
        {GUMBO_TAG_B, {"b", {}}},
        {GUMBO_TAG_EM, {"em", {}}},
        {GUMBO_TAG_I, {"i", {}}},
        {GUMBO_TAG_U, {"u", {}}},
        {GUMBO_TAG_S, {"s", {}}},
        {GUMBO_TAG_DEL, {"del", {{"cite", Attr::kUrl}, {"datetime", Attr::kText}}}},
        {GUMBO_TAG_INS, {"ins", {{"cite", Attr::kUrl}, {"datetime", Attr::kText}}}},
        {GUMBO_TAG_SUB, {"sub", {}}},
        {GUMBO_TAG_SUP, {"sup", {}}},
        {GUMBO_TAG_SMALL, {"small", {}}},
        {GUMBO_TAG_MARK, {"mark", {}}},
        {GUMBO_TAG_CODE, {"code", {{"class", Attr::kLanguageClass}}}},
        {GUMBO_TAG_PRE, {"pre", {}}},
        {GUMBO_TAG_KBD, {"kbd", {}}},
        {GUMBO_TAG_SAMP, {"samp", {}}},
        {GUMBO_TAG_VAR, {"var", {}}},
        {GUMBO_TAG_BLOCKQUOTE, {"blockquote", {{"cite", Attr::kUrl}}}},
        {GUMBO_TAG_Q, {"q", {{"cite", Attr::kUrl}}}},
        {GUMBO_TAG_CITE, {"cite", {}}},
        {GUMBO_TAG_ABBR, {"abbr", {{"title", Attr::kText}}}},
        {GUMBO_TAG_UL, {"ul", {}}},
        {GUMBO_TAG_OL, {"ol", {{"start", Attr::kNumber}, {"reversed", Attr::kFlag}}}},
        {GUMBO_TAG_LI, {"li", {{"value", Attr::kNumber}}}},
        {GUMBO_TAG_DL, {"dl", {}}},
        {GUMBO_TAG_DT, {"dt", {}}},
        {GUMBO_TAG_DD, {"dd", {}}},
        {GUMBO_TAG_FIGURE, {"figure", {}}},
        {GUMBO_TAG_FIGCAPTION, {"figcaption", {}}},
        {GUMBO_TAG_TABLE, {"table", {}}},
        {GUMBO_TAG_CAPTION, {"caption", {}}},
        {GUMBO_TAG_THEAD, {"thead", {}}},
        {GUMBO_TAG_TBODY, {"tbody", {}}},
        {GUMBO_TAG_TFOOT, {"tfoot", {}}},
        {GUMBO_TAG_TR, {"tr", {}}},
        {GUMBO_TAG_TH,
         {"th", {{"colspan", Attr::kNumber}, {"rowspan", Attr::kNumber}, {"scope", Attr::kScope}}}},
        {GUMBO_TAG_TD, {"td", {{"colspan", Attr::kNumber}, {"rowspan", Attr::kNumber}}}},
        {GUMBO_TAG_SPAN, {"span", {}}},
        {GUMBO_TAG_DIV, {"div", {}}},
        {GUMBO_TAG_TIME, {"time", {{"datetime", Attr::kText}}}},
        {GUMBO_TAG_WBR, {"wbr", {}}},
        {GUMBO_TAG_A, {"a", {{"href", Attr::kUrl}, {"title", Attr::kText}}}},
        {GUMBO_TAG_IMG,
         {"img",
          {{"src", Attr::kImageUrl},
           {"alt", Attr::kText},
           {"title", Attr::kText},
           {"width", Attr::kNumber},
           {"height", Attr::kNumber}}}},
    };
    t->by_tag.assign(GUMBO_TAG_LAST + 1, nullptr);
    for (const auto& [tag, rule] : t->rules) t->by_tag[tag] = &rule;
    return t;
  }();
  return tag <= GUMBO_TAG_LAST ? table->by_tag[tag] : nullptr;
}

bool IsVoid(GumboTag tag) {
  return tag == GUMBO_TAG_BR || tag == GUMBO_TAG_HR || tag == GUMBO_TAG_IMG || tag == GUMBO_TAG_WBR;
}

// "language-xyz", as cmark writes a fenced block's info string.
bool IsLanguageClass(absl::string_view v) {
  if (!absl::StartsWith(v, "language-") || v.size() > 41 || v.size() == 9) return false;
  for (char c : v.substr(9)) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_isalnum(u) && c != '-' && c != '_' && c != '+' && c != '#' && c != '.') {
      return false;
    }
  }
  return true;
}

bool ValidAttr(Attr kind, absl::string_view v) {
  switch (kind) {
    case Attr::kText:
    case Attr::kFlag:
      return true;
    case Attr::kUrl:
      return !v.empty() && IsSafeUrl(v, /*image=*/false);
    case Attr::kImageUrl:
      return IsSafeUrl(v, /*image=*/true);
    case Attr::kNumber:
      if (v.empty() || v.size() > 6) return false;
      for (char c : v) {
        if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
      }
      return true;
    case Attr::kScope:
      return v == "row" || v == "col" || v == "rowgroup" || v == "colgroup";
    case Attr::kLanguageClass:
      return IsLanguageClass(v);
  }
  return false;
}

// Writes the start tag of a kept element; false when the element must go
// (an image without a safe source).
bool WriteStartTag(const GumboElement& el, const ElementRule& rule, std::string& out) {
  std::string tag = absl::StrCat("<", rule.name);
  for (const AttrRule& ar : rule.attrs) {
    const GumboAttribute* attr = gumbo_get_attribute(&el.attributes, ar.name);
    if (attr == nullptr) {
      if (ar.kind == Attr::kImageUrl) return false;
      continue;
    }
    const absl::string_view value(attr->value);
    if (!ValidAttr(ar.kind, value)) {
      if (ar.kind == Attr::kImageUrl) return false;
      continue;
    }
    if (ar.kind == Attr::kFlag) {
      absl::StrAppend(&tag, " ", ar.name);
    } else {
      absl::StrAppend(&tag, " ", ar.name, "=\"", EscapeHtmlText(value), "\"");
    }
  }
  out += tag;
  out += '>';
  return true;
}

// Elements that never nest or close themselves in practice (void ones,
// and those a sibling closes: <p>, <li>, table cells): not counted by
// LimitNesting.
bool NestsFreely(absl::string_view name) {
  static const auto* names = new absl::flat_hash_set<std::string>{
      "br", "hr", "img", "wbr", "input", "meta", "link", "base", "col", "area", "embed",
      "source", "track", "param", "keygen", "p", "li", "dt", "dd", "tr", "td", "th",
      "thead", "tbody", "tfoot", "option", "optgroup", "colgroup", "rb", "rt", "rp"};
  return !names->contains(name);
}

// gumbo's time grows with the square of the nesting depth (a 1 MiB body of
// "<div>" would take hours), so before parsing, start and end tags that
// would open elements deeper than kMaxParseDepth are removed, text kept.
// The scan is a rough tokenizer (quotes in tags, comments); it only ever
// removes tags, and whatever it leaves is still parsed and allow-listed, so
// its approximations cost formatting of absurd input, never safety.
constexpr int kMaxParseDepth = 256;

std::optional<std::string> LimitNesting(absl::string_view html) {
  std::string out;
  bool cutting = false;
  for (int pass = 0; pass < 2; ++pass) {
    int depth = 0;
    size_t copied = 0;  // html[0, copied) is in `out` (second pass)
    size_t i = 0;
    while ((i = html.find('<', i)) != absl::string_view::npos) {
      const size_t start = i;
      if (html.substr(i, 4) == "<!--") {
        const size_t end = html.find("-->", i + 4);
        i = end == absl::string_view::npos ? html.size() : end + 3;
        continue;
      }
      const bool closing = i + 1 < html.size() && html[i + 1] == '/';
      size_t n = i + (closing ? 2 : 1);
      if (n >= html.size() || !absl::ascii_isalpha(static_cast<unsigned char>(html[n]))) {
        ++i;
        continue;
      }
      const size_t name_start = n;
      while (n < html.size() && (absl::ascii_isalnum(static_cast<unsigned char>(html[n])) ||
                                 html[n] == '-')) {
        ++n;
      }
      const std::string name = absl::AsciiStrToLower(html.substr(name_start, n - name_start));
      char quote = 0;
      while (n < html.size() && (quote != 0 || html[n] != '>')) {
        if (quote != 0) {
          if (html[n] == quote) quote = 0;
        } else if (html[n] == '"' || html[n] == '\'') {
          quote = html[n];
        }
        ++n;
      }
      const size_t end = n < html.size() ? n + 1 : n;
      const bool self_closing = n > 0 && n < html.size() && html[n - 1] == '/';
      bool drop = false;
      if (NestsFreely(name) && !self_closing) {
        if (closing) {
          drop = depth > kMaxParseDepth;
          if (depth > 0) --depth;
        } else {
          ++depth;
          drop = depth > kMaxParseDepth;
        }
      }
      if (drop) {
        if (pass == 0) {
          cutting = true;
          break;
        }
        absl::StrAppend(&out, html.substr(copied, start - copied));
        copied = end;
      }
      i = end;
    }
    if (!cutting) return std::nullopt;
    if (pass == 1) absl::StrAppend(&out, html.substr(copied));
  }
  return out;
}

Action Classify(const GumboNode* node) {
  if (IsDroppedElement(node)) return Action::kDrop;
  return KeptElement(node->v.element.tag) != nullptr ? Action::kKeep : Action::kUnwrap;
}

// Plain text: paragraphs at blank lines, line breaks within them.
std::string PlainTextToHtml(absl::string_view text) {
  std::string out;
  std::string normalized = absl::StrReplaceAll(text, {{"\r\n", "\n"}, {"\r", "\n"}});
  for (absl::string_view para : absl::StrSplit(normalized, "\n\n", absl::SkipWhitespace())) {
    para = absl::StripAsciiWhitespace(para);
    out += "<p>";
    bool first = true;
    for (absl::string_view line : absl::StrSplit(para, '\n')) {
      if (!first) out += "<br>\n";
      first = false;
      out += EscapeHtmlText(absl::StripAsciiWhitespace(line));
    }
    out += "</p>\n";
  }
  return out;
}

}  // namespace

std::string EscapeHtmlText(absl::string_view text) { return EscapeHtml(text); }

bool IsSafeUrl(absl::string_view url, bool image) {
  // Browsers ignore leading and trailing C0 controls and spaces, and tabs
  // and newlines anywhere ("java\tscript:" is "javascript:").
  std::string cleaned;
  cleaned.reserve(url.size());
  for (char c : url) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (u < 0x20 || u == 0x7f) {
      if (cleaned.empty()) continue;  // leading control: ignored by browsers
      return false;                   // anywhere else: refuse, do not guess
    }
    cleaned += c;
  }
  absl::string_view u = absl::StripAsciiWhitespace(cleaned);
  if (u.empty()) return false;
  const size_t end = u.find_first_of(":/?#");
  // No ':' before the first '/', '?' or '#': a relative URL (or //host).
  if (end == absl::string_view::npos || u[end] != ':') return true;
  const std::string scheme = absl::AsciiStrToLower(u.substr(0, end));
  if (scheme == "http" || scheme == "https") return true;
  return !image && scheme == "mailto";
}

bool IsDroppedElement(const GumboNode* element) {
  const GumboElement& el = element->v.element;
  return el.tag_namespace != GUMBO_NAMESPACE_HTML || IsDropped(el.tag);
}

// A bump allocator for one cmark tree. Each block carries its size in front
// so that realloc (cmark's growing buffers) can copy it, or grow the newest
// block in place; free does nothing, the tree's memory goes at once.
class MarkdownTree::Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  // Standard blocks stay with the thread for its next tree (up to 1 MiB):
  // fresh memory per tree cost more in page faults than malloc saved.
  ~Arena() {
    for (auto& [block, size] : blocks_) {
      if (size == kBlock && SpareBlocks().size() < kSpareBlocks) {
        SpareBlocks().push_back(std::move(block));
      }
    }
  }

  void* Calloc(size_t n, size_t size) {
    if (size != 0 && n > SIZE_MAX / size) std::abort();  // as cmark's own allocator
    void* p = Allocate(n * size);
    std::memset(p, 0, n * size);
    return p;
  }
  void* Realloc(void* p, size_t size) {
    if (p == nullptr) return Allocate(size);
    char* data = static_cast<char*>(p);
    size_t& old = SizeOf(data);
    if (size <= old) return p;
    if (data == last_ && static_cast<size_t>(end_ - data) >= Rounded(size)) {
      old = size;
      next_ = data + Rounded(size);
      return p;
    }
    void* q = Allocate(size);
    std::memcpy(q, p, old);
    return q;
  }

 private:
  static constexpr size_t kHeader = 16;  // keeps the 16-byte alignment malloc gives
  static constexpr size_t kBlock = size_t{64} << 10;
  static constexpr size_t kSpareBlocks = 16;
  static std::vector<std::unique_ptr<char[]>>& SpareBlocks() {
    thread_local std::vector<std::unique_ptr<char[]>> spare;
    return spare;
  }
  static size_t Rounded(size_t n) { return (n + 15) & ~size_t{15}; }
  static size_t& SizeOf(char* data) { return *reinterpret_cast<size_t*>(data - kHeader); }

  char* Allocate(size_t size) {
    if (size > SIZE_MAX / 2) std::abort();
    const size_t total = kHeader + Rounded(size);
    if (static_cast<size_t>(end_ - next_) < total) {
      const size_t n = std::max(kBlock, total);
      std::unique_ptr<char[]> block;
      if (n == kBlock && !SpareBlocks().empty()) {
        block = std::move(SpareBlocks().back());
        SpareBlocks().pop_back();
      } else {
        block.reset(new char[n]);  // not zeroed: Calloc zeroes what it hands out
      }
      next_ = block.get();
      end_ = next_ + n;
      blocks_.emplace_back(std::move(block), n);
    }
    char* data = next_ + kHeader;
    SizeOf(data) = size;
    next_ += total;
    last_ = data;
    return data;
  }

  std::vector<std::pair<std::unique_ptr<char[]>, size_t>> blocks_;
  char* next_ = nullptr;
  char* end_ = nullptr;
  char* last_ = nullptr;  // the newest allocation
};

namespace {

// cmark's allocator hooks take no context: the thread's live arena tree.
thread_local MarkdownTree::Arena* current_arena = nullptr;

void* ArenaCalloc(size_t n, size_t size) { return current_arena->Calloc(n, size); }
void* ArenaRealloc(void* p, size_t size) { return current_arena->Realloc(p, size); }
void ArenaFree(void*) {}
cmark_mem kArenaMem = {ArenaCalloc, ArenaRealloc, ArenaFree};

}  // namespace

MarkdownTree::MarkdownTree(absl::string_view markdown) {
  constexpr int kOptions = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
  if (current_arena != nullptr) {
    root_ = cmark_parse_document(markdown.data(), markdown.size(), kOptions);
    return;
  }
  arena_ = std::make_unique<Arena>();
  current_arena = arena_.get();
  cmark_parser* parser = cmark_parser_new_with_mem(kOptions, &kArenaMem);
  cmark_parser_feed(parser, markdown.data(), markdown.size());
  root_ = cmark_parser_finish(parser);
  cmark_parser_free(parser);
}

MarkdownTree::~MarkdownTree() {
  if (arena_ == nullptr) {
    cmark_node_free(root_);
    return;
  }
  current_arena = nullptr;  // the nodes go with the arena
}

std::string MarkdownTree::RenderHtml() const {
  // Allocated the way the tree is: from the arena, or by malloc.
  char* html = cmark_render_html(root_, CMARK_OPT_DEFAULT);
  std::string out(html);
  if (arena_ == nullptr) std::free(html);
  return out;
}

std::string MarkdownToHtml(absl::string_view markdown) {
  // cmark's default is safe: raw HTML becomes "<!-- raw HTML omitted -->"
  // and dangerous link targets become empty.
  return MarkdownTree(markdown).RenderHtml();
}

HtmlTree::HtmlTree(absl::string_view html) {
  std::optional<std::string> limited = LimitNesting(html);
  source_ = limited ? std::move(*limited) : std::string(html);
  GumboOptions options = kGumboDefaultOptions;
  options.fragment_context = GUMBO_TAG_BODY;
  options.fragment_namespace = GUMBO_NAMESPACE_HTML;
  options.max_errors = 0;  // parse errors are not collected (they cost memory)
  output_ = gumbo_parse_with_options(&options, source_.data(), source_.size());
}

HtmlTree::~HtmlTree() { gumbo_destroy_output(&kGumboDefaultOptions, output_); }

const GumboNode* HtmlTree::root() const { return output_->root; }

void WalkHtmlTree(const HtmlTree& tree, absl::FunctionRef<void(absl::string_view)> text,
                  absl::FunctionRef<bool(const GumboNode*)> enter,
                  absl::FunctionRef<void(const GumboNode*)> leave) {
  // An explicit stack instead of recursion: the tree is as deep as
  // HtmlTree's nesting limit allows.
  struct Frame {
    const GumboNode* node;
    unsigned next;
  };
  std::vector<Frame> stack{{tree.root(), 0}};
  while (!stack.empty()) {
    Frame& f = stack.back();
    const GumboVector& children = f.node->v.element.children;
    if (f.next >= children.length) {
      if (stack.size() > 1) leave(f.node);
      stack.pop_back();
      continue;
    }
    const auto* child = static_cast<const GumboNode*>(children.data[f.next++]);
    switch (child->type) {
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_WHITESPACE:
      case GUMBO_NODE_CDATA:
        text(child->v.text.text);
        break;
      case GUMBO_NODE_ELEMENT:
      case GUMBO_NODE_TEMPLATE:
        if (enter(child)) stack.push_back({child, 0});
        break;
      default:  // comments
        break;
    }
  }
}

std::string SanitizeHtml(absl::string_view html) {
  const HtmlTree tree(html);
  std::string out;
  out.reserve(html.size());
  // For each element entered: the end tag to write when it is left, null
  // when it is unwrapped.
  std::vector<const char*> closes;
  int depth = 0;  // kept elements open
  WalkHtmlTree(
      tree, [&](absl::string_view text) { out += EscapeHtmlText(text); },
      [&](const GumboNode* element) {
        const Action action = Classify(element);
        if (action == Action::kDrop) return false;
        const ElementRule* rule = KeptElement(element->v.element.tag);
        if (action == Action::kUnwrap || depth >= kMaxDepth) {
          closes.push_back(nullptr);
          return true;
        }
        if (!WriteStartTag(element->v.element, *rule, out)) return false;
        if (IsVoid(element->v.element.tag)) return false;
        ++depth;
        closes.push_back(rule->name);
        return true;
      },
      [&](const GumboNode*) {
        if (closes.back() != nullptr) {
          absl::StrAppend(&out, "</", closes.back(), ">");
          --depth;
        }
        closes.pop_back();
      });
  return out;
}

namespace {

// A link or image target as cmark writes it into an attribute: characters
// outside its safe set percent-encoded, '&' and '\'' kept (cmark writes
// them as entities, which the parser then decodes).
std::string EncodeHref(absl::string_view url) {
  static constexpr char kSafe[] = "-_.+!*(),%#@?=;:/$~&'";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(url.size());
  for (char c : url) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || (u != 0 && std::strchr(kSafe, c) != nullptr)) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

// Text as an HTML5 parser hands it on (gumbo, like browsers): CR LF and
// lone CR become LF; C0 and C1 controls other than whitespace, DEL and the
// noncharacters become U+FFFD. `text` is valid UTF-8 (cmark validates).
std::string AsParsed(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  const uint8_t* p = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c == '\r') {
      out += '\n';
      if (i < n && p[i] == '\n') ++i;
    } else if (c < 0 || (c >= 0x01 && c <= 0x08) || c == 0x0b || (c >= 0x0e && c <= 0x1f) ||
               (c >= 0x7f && c <= 0x9f) || (c >= 0xfdd0 && c <= 0xfdef) ||
               (c & 0xfffe) == 0xfffe) {
      out += "\xef\xbf\xbd";
    } else {
      out.append(text.data() + start, static_cast<size_t>(i - start));
    }
  }
  return out;
}

absl::string_view Literal(cmark_node* node) {
  const char* s = cmark_node_get_literal(node);
  return s == nullptr ? absl::string_view() : absl::string_view(s);
}

// Nodes cmark's iterator enters without exiting.
bool IsLeaf(cmark_node_type type) {
  switch (type) {
    case CMARK_NODE_HTML_BLOCK: case CMARK_NODE_THEMATIC_BREAK: case CMARK_NODE_CODE_BLOCK:
    case CMARK_NODE_TEXT: case CMARK_NODE_SOFTBREAK: case CMARK_NODE_LINEBREAK:
    case CMARK_NODE_CODE: case CMARK_NODE_HTML_INLINE:
      return true;
    default:
      return false;
  }
}

// Trees nested deeper than this go the general way (cmark's HTML through
// SanitizeHtml), whose depth limits then apply; this one has none.
constexpr int kMaxDirectDepth = 64;

}  // namespace

// Mirrors cmark's html.c (safe mode) node by node, writing what SanitizeHtml
// would keep of it.
std::optional<std::string> RenderMarkdownSafely(const MarkdownTree& tree) {
  std::string out;
  // cmark's cr() writes a newline unless its output ends with one; its
  // output includes the comments that are not in `out`.
  char cmark_last = 0;
  auto put = [&](absl::string_view s) {
    if (s.empty()) return;
    out.append(s.data(), s.size());
    cmark_last = s.back();
  };
  auto cr = [&] {
    if (cmark_last != 0 && cmark_last != '\n') put("\n");
  };
  auto omitted = [&] { cmark_last = '>'; };  // "<!-- raw HTML omitted -->"
  auto text = [&](absl::string_view s) { put(EscapeHtmlText(AsParsed(s))); };
  // A block element cmark starts on a line of its own and ends with a newline.
  auto block = [&](bool entering, absl::string_view open, absl::string_view close) {
    if (entering) {
      cr();
      put(open);
    } else {
      put(close);
    }
  };
  auto title_attr = [](cmark_node* node) {
    const absl::string_view title = cmark_node_get_title(node);
    return title.empty() ? std::string()
                         : absl::StrCat(" title=\"", EscapeHtmlText(AsParsed(title)), "\"");
  };
  cmark_node* plain = nullptr;  // an image whose children are its alt text
  std::string alt;
  int depth = 0;
  cmark_iter* it = cmark_iter_new(tree.root());
  cmark_event_type ev;
  bool general = false;  // the tree needs the general path
  int links = 0;          // links open around the node
  while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
    cmark_node* node = cmark_iter_get_node(it);
    const bool entering = ev == CMARK_EVENT_ENTER;
    const cmark_node_type type = cmark_node_get_type(node);
    if (!IsLeaf(type)) {  // entered and exited
      depth += entering ? 1 : -1;
      if (depth > kMaxDirectDepth) {
        general = true;
        break;
      }
    }
    if (plain != nullptr) {
      if (node == plain && !entering) {
        plain = nullptr;  // handled below as the image's exit
      } else {
        if (entering) {
          if (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE ||
              type == CMARK_NODE_HTML_INLINE) {
            absl::StrAppend(&alt, Literal(node));
          } else if (type == CMARK_NODE_LINEBREAK || type == CMARK_NODE_SOFTBREAK) {
            alt += ' ';
          }
        }
        continue;
      }
    }
    switch (type) {
      case CMARK_NODE_DOCUMENT:
        break;
      case CMARK_NODE_BLOCK_QUOTE:
        cr();
        put(entering ? "<blockquote>\n" : "</blockquote>\n");
        break;
      case CMARK_NODE_LIST: {
        cr();
        const bool bullet = cmark_node_get_list_type(node) == CMARK_BULLET_LIST;
        if (!entering) {
          put(bullet ? "</ul>\n" : "</ol>\n");
        } else if (bullet) {
          put("<ul>\n");
        } else {
          const int start = cmark_node_get_list_start(node);
          const std::string digits = absl::StrCat(start);
          if (start == 1) {
            put("<ol>\n");
          } else if (digits.size() <= 6) {  // SanitizeHtml's number rule
            put(absl::StrCat("<ol start=\"", digits, "\">\n"));
          } else {
            put("<ol>\n");
          }
        }
        break;
      }
      case CMARK_NODE_ITEM:
        block(entering, "<li>", "</li>\n");
        break;
      case CMARK_NODE_HEADING: {
        // The page's one <h1> is the headline.
        const int level = std::max(2, cmark_node_get_heading_level(node));
        block(entering, absl::StrCat("<h", level, ">"), absl::StrCat("</h", level, ">\n"));
        break;
      }
      case CMARK_NODE_CODE_BLOCK: {
        cr();
        const char* info_c = cmark_node_get_fence_info(node);
        absl::string_view info = info_c == nullptr ? absl::string_view() : info_c;
        if (info.empty()) {
          put("<pre><code>");
        } else {
          size_t word = 0;
          while (word < info.size() && !absl::ascii_isspace(static_cast<unsigned char>(info[word]))) {
            ++word;
          }
          const std::string cls = absl::StrCat("language-", info.substr(0, word));
          if (IsLanguageClass(cls)) {
            put(absl::StrCat("<pre><code class=\"", EscapeHtmlText(cls), "\">"));
          } else {
            put("<pre><code>");
          }
        }
        text(Literal(node));
        put("</code></pre>\n");
        break;
      }
      case CMARK_NODE_HTML_BLOCK:
        cr();
        omitted();
        cr();
        break;
      case CMARK_NODE_THEMATIC_BREAK:
        cr();
        put("<hr>\n");
        break;
      case CMARK_NODE_PARAGRAPH: {
        cmark_node* grandparent = cmark_node_parent(cmark_node_parent(node));
        const bool tight = grandparent != nullptr &&
                           cmark_node_get_type(grandparent) == CMARK_NODE_LIST &&
                           cmark_node_get_list_tight(grandparent);
        if (!tight) block(entering, "<p>", "</p>\n");
        break;
      }
      case CMARK_NODE_TEXT:
        text(Literal(node));
        break;
      case CMARK_NODE_LINEBREAK:
        put("<br>\n");
        break;
      case CMARK_NODE_SOFTBREAK:
        put("\n");
        break;
      case CMARK_NODE_CODE:
        put("<code>");
        text(Literal(node));
        put("</code>");
        break;
      case CMARK_NODE_HTML_INLINE:
        omitted();
        break;
      case CMARK_NODE_STRONG:
        put(entering ? "<strong>" : "</strong>");
        break;
      case CMARK_NODE_EMPH:
        put(entering ? "<em>" : "</em>");
        break;
      case CMARK_NODE_LINK: {
        if (!entering) {
          --links;
          put("</a>");
          break;
        }
        // A link in a link (an autolink in a link's text): an HTML parser
        // closes the outer one first; that fix-up is the parser's to make.
        if (links++ > 0) general = true;
        const std::string href = EncodeHref(cmark_node_get_url(node));
        std::string tag = "<a";
        if (!href.empty() && IsSafeUrl(href, /*image=*/false)) {
          absl::StrAppend(&tag, " href=\"", EscapeHtmlText(href), "\"");
        }
        put(absl::StrCat(tag, title_attr(node), ">"));
        break;
      }
      case CMARK_NODE_IMAGE:
        if (entering) {  // written at its exit, once its alt text is known
          alt.clear();
          plain = node;
          break;
        }
        {
          // An image without a safe source goes, as in SanitizeHtml.
          const std::string src = EncodeHref(cmark_node_get_url(node));
          if (IsSafeUrl(src, /*image=*/true)) {
            put(absl::StrCat("<img src=\"", EscapeHtmlText(src), "\" alt=\"",
                             EscapeHtmlText(AsParsed(alt)), "\"", title_attr(node), ">"));
          }
          cmark_last = '>';  // cmark: ... />
        }
        break;
      default:  // custom blocks and inlines: cmark's parser makes none
        break;
    }
    if (general) break;
  }
  cmark_iter_free(it);
  if (general) return std::nullopt;
  return out;
}

std::string RenderBodyHtml(absl::string_view body, news::article::v1::BodyFormat format) {
  switch (format) {
    case news::article::v1::HTML:
      return SanitizeHtml(body);
    case news::article::v1::PLAIN_TEXT:
      return PlainTextToHtml(body);
    default: {
      const MarkdownTree tree(body);
      if (std::optional<std::string> html = RenderMarkdownSafely(tree)) return *std::move(html);
      return SanitizeHtml(tree.RenderHtml());
    }
  }
}

}  // namespace newsgrid::article
