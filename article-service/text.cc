#include "article-service/text.h"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"

namespace newsgrid::article {
namespace {

constexpr char32_t kInvalid = 0xFFFD;

// Decodes the codepoint at `s[*i]` and advances; invalid bytes give U+FFFD
// and advance by one.
char32_t NextCodepoint(absl::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++*i;
    return kInvalid;
  }
  if (*i + len > s.size()) {
    ++*i;
    return kInvalid;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return kInvalid;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and out-of-range values are invalid.
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return kInvalid;
  }
  *i += len;
  return cp;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool IsCjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2FFFF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) ||
         (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF) ||
         (c >= 0x3130 && c <= 0x318F);
}

bool IsSpace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
         c == 0xA0 || (c >= 0x2000 && c <= 0x200B) || c == 0x3000 || c == 0x202F ||
         c == 0x205F;
}

// Non-ASCII punctuation, symbols and emoji: separators, not word letters.
bool IsNonAsciiSeparator(char32_t c) {
  return (c >= 0xA0 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x2BFF) ||
         (c >= 0x2E00 && c <= 0x2E7F) || (c >= 0x3000 && c <= 0x303F) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF01 && c <= 0xFF0F) ||
         (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
         (c >= 0xFF5B && c <= 0xFF65) || (c >= 0x1F000 && c <= 0x1FAFF) || c == kInvalid ||
         c == 0xE000 || c == 0xE001;
}

bool IsWordChar(char32_t c) {
  if (c < 0x80) return absl::ascii_isalnum(static_cast<unsigned char>(c));
  return !IsCjk(c) && !IsSpace(c) && !IsNonAsciiSeparator(c);
}

char32_t ToLowerCodepoint(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c >= 0x100 && c <= 0x137 && c % 2 == 0 && c != 0x130) return c + 1;
  if (c >= 0x139 && c <= 0x148 && c % 2 == 1) return c + 1;
  if (c >= 0x14A && c <= 0x177 && c % 2 == 0) return c + 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x179 && c <= 0x17E && c % 2 == 1) return c + 1;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  return c;
}

std::string LowerUtf8(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) AppendUtf8(out, ToLowerCodepoint(NextCodepoint(s, &i)));
  return out;
}

// Collects text into paragraphs, collapsing whitespace.
class ParagraphBuilder {
 public:
  void Add(absl::string_view text) {
    for (size_t i = 0; i < text.size();) {
      // ASCII runs (most text) are copied whole, not decoded and re-encoded
      // codepoint by codepoint: that was a fifth of CreateArticle's CPU in
      // the service.
      if (static_cast<unsigned char>(text[i]) < 0x80) {
        if (absl::ascii_isspace(static_cast<unsigned char>(text[i]))) {
          pending_space_ = true;
          ++i;
          continue;
        }
        size_t j = i + 1;
        while (j < text.size() && static_cast<unsigned char>(text[j]) < 0x80 &&
               !absl::ascii_isspace(static_cast<unsigned char>(text[j]))) {
          ++j;
        }
        if (pending_space_ && !current_.empty()) current_ += ' ';
        pending_space_ = false;
        current_.append(text.data() + i, j - i);
        i = j;
        continue;
      }
      const char32_t c = NextCodepoint(text, &i);
      if (c == 0xE000 || c == 0xE001) continue;  // reserved for highlight markers
      if (IsSpace(c)) {
        pending_space_ = true;
        continue;
      }
      if (pending_space_ && !current_.empty()) current_ += ' ';
      pending_space_ = false;
      AppendUtf8(current_, c);
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
  std::string out_;
  std::string current_;
  bool pending_space_ = false;
};

struct Entity {
  const char* name;
  char32_t cp;
};
constexpr Entity kEntities[] = {
    {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},     {"nbsp", ' '},      {"mdash", 0x2014},  {"ndash", 0x2013},
    {"hellip", 0x2026}, {"rsquo", 0x2019},  {"lsquo", 0x2018},  {"ldquo", 0x201C},
    {"rdquo", 0x201D},  {"copy", 0xA9},     {"reg", 0xAE},      {"eacute", 0xE9},
    {"euro", 0x20AC},   {"laquo", 0xAB},    {"raquo", 0xBB},    {"middot", 0xB7},
};

// Decodes the entity starting at text[i] == '&'; returns the length consumed
// (0 when it is not an entity we know).
size_t DecodeEntity(absl::string_view text, size_t i, std::string& out) {
  const size_t semi = text.find(';', i);
  if (semi == absl::string_view::npos || semi - i > 10) return 0;
  absl::string_view name = text.substr(i + 1, semi - i - 1);
  if (name.empty()) return 0;
  if (name[0] == '#') {
    uint32_t cp = 0;
    bool ok = name.size() > 2 && (name[1] == 'x' || name[1] == 'X')
                  ? absl::SimpleHexAtoi(name.substr(2), &cp)
                  : absl::SimpleAtoi(name.substr(1), &cp);
    if (!ok || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    AppendUtf8(out, cp);
    return semi - i + 1;
  }
  for (const Entity& e : kEntities) {
    if (name == e.name) {
      AppendUtf8(out, e.cp);
      return semi - i + 1;
    }
  }
  return 0;
}

std::string DecodeEntities(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '&') {
      const size_t n = DecodeEntity(text, i, out);
      if (n > 0) {
        i += n;
        continue;
      }
      out += '&';
      ++i;
      continue;
    }
    // Up to the next entity, copied whole.
    const size_t next = std::min(text.find('&', i), text.size());
    out.append(text.data() + i, next - i);
    i = next;
  }
  return out;
}

bool IsBlockTag(absl::string_view tag) {
  static const std::unordered_set<std::string>* kBlock = new std::unordered_set<std::string>{
      "p",      "div",     "h1",     "h2",  "h3",     "h4",         "h5",    "h6",
      "li",     "ul",      "ol",     "pre", "table",  "tr",         "td",    "th",
      "section", "article", "header", "footer", "figure", "figcaption", "hr",  "blockquote",
      "aside",  "main",    "nav",    "dl",  "dt",     "dd"};
  return kBlock->count(std::string(tag)) > 0;
}

// Parses the tag at text[i] == '<'. Returns the index after it (or i when it
// is not a tag) and its lowercase name ("/p" for closing tags, "!" for
// comments/doctypes).
size_t ParseTag(absl::string_view text, size_t i, std::string* name) {
  if (absl::StartsWith(text.substr(i), "<!--")) {
    const size_t end = text.find("-->", i + 4);
    name->assign(1, '!');
    return end == absl::string_view::npos ? text.size() : end + 3;
  }
  size_t j = i + 1;
  std::string n;
  if (j < text.size() && (text[j] == '/' || text[j] == '!')) n += text[j++];
  const size_t start = j;
  while (j < text.size() && absl::ascii_isalnum(static_cast<unsigned char>(text[j]))) {
    n += absl::ascii_tolower(static_cast<unsigned char>(text[j++]));
  }
  if (j == start && n != "!") return i;
  const size_t end = text.find('>', j);
  if (end == absl::string_view::npos) return i;
  *name = n;
  return end + 1;
}

// Handles one HTML tag; returns the index after it, or i when `text[i]` does
// not start a tag.
size_t HandleHtmlTag(absl::string_view text, size_t i, ParagraphBuilder& pb, int& images) {
  std::string name;
  const size_t next = ParseTag(text, i, &name);
  if (next == i) return i;
  if (name == "img") {
    ++images;
  } else if (name == "script" || name == "style") {
    const size_t close = text.find(absl::StrCat("</", name), next);
    if (close == absl::string_view::npos) return text.size();
    std::string ignored;
    const size_t after = ParseTag(text, close, &ignored);
    return after == close ? close + 1 : after;
  } else if (name == "br") {
    pb.Space();
  } else {
    absl::string_view bare = name;
    if (!bare.empty() && bare[0] == '/') bare.remove_prefix(1);
    if (IsBlockTag(bare)) {
      pb.Break();
    } else {
      // Inline tags (a, em, span...) join their text without a gap.
    }
  }
  return next;
}

PlainText HtmlToPlain(absl::string_view html) {
  PlainText result;
  ParagraphBuilder pb;
  std::string run;
  for (size_t i = 0; i < html.size();) {
    if (html[i] == '<') {
      pb.Add(DecodeEntities(run));
      run.clear();
      const size_t next = HandleHtmlTag(html, i, pb, result.images);
      if (next != i) {
        i = next;
        continue;
      }
    }
    run += html[i++];
  }
  pb.Add(DecodeEntities(run));
  result.text = pb.Finish();
  return result;
}

struct LinkSpan {
  size_t text_end = 0;  // index of the ']' closing the text
  size_t end = 0;       // index after the target; 0 when not a link
};

// A link `[text](url)` or `[text][ref]` whose '[' is at `open`.
LinkSpan FindLink(absl::string_view line, size_t open) {
  LinkSpan span;
  const size_t close = line.find(']', open + 1);
  if (close == absl::string_view::npos || close + 1 >= line.size() ||
      (line[close + 1] != '(' && line[close + 1] != '[')) {
    return span;
  }
  const size_t end = line.find(line[close + 1] == '(' ? ')' : ']', close + 2);
  if (end == absl::string_view::npos) return span;
  span.text_end = close;
  span.end = end + 1;
  return span;
}

// Inline markdown of one line: images dropped (counted), links to their
// text, inline HTML tags removed, emphasis and code markers removed,
// backslash escapes and entities resolved.
void MarkdownInline(absl::string_view line, ParagraphBuilder& pb, int& images) {
  std::string out;
  auto alnum_at = [&](size_t k) {
    return k < line.size() && absl::ascii_isalnum(static_cast<unsigned char>(line[k]));
  };
  for (size_t i = 0; i < line.size();) {
    // Text up to the next character that may start markup, copied whole.
    const size_t special = std::min(line.find_first_of("\\![<*`~_", i), line.size());
    if (special > i) {
      out.append(line.data() + i, special - i);
      i = special;
      continue;
    }
    const char c = line[i];
    if (c == '\\' && i + 1 < line.size() && absl::ascii_ispunct(static_cast<unsigned char>(line[i + 1]))) {
      out += line[i + 1];
      i += 2;
      continue;
    }
    if (c == '!' && i + 1 < line.size() && line[i + 1] == '[') {
      if (const LinkSpan span = FindLink(line, i + 1); span.end != 0) {
        ++images;
        out += ' ';
        i = span.end;
        continue;
      }
    }
    if (c == '[') {
      if (const LinkSpan span = FindLink(line, i); span.end != 0) {
        // The link text may hold emphasis: process it recursively.
        ParagraphBuilder inner;
        MarkdownInline(line.substr(i + 1, span.text_end - i - 1), inner, images);
        out += inner.Finish();
        i = span.end;
        continue;
      }
    }
    if (c == '<') {
      const size_t end = line.find('>', i + 1);
      if (end != absl::string_view::npos) {
        absl::string_view inside = line.substr(i + 1, end - i - 1);
        if (absl::StartsWith(inside, "http://") || absl::StartsWith(inside, "https://")) {
          out += std::string(inside);  // autolink
          i = end + 1;
          continue;
        }
        pb.Add(DecodeEntities(out));
        out.clear();
        const size_t next = HandleHtmlTag(line, i, pb, images);
        if (next != i) {
          i = next;
          continue;
        }
      }
    }
    if (c == '*' || c == '`' || (c == '~' && i + 1 < line.size() && line[i + 1] == '~')) {
      i += c == '~' ? 2 : 1;
      continue;
    }
    // Underscores are emphasis only at word edges (snake_case stays).
    if (c == '_' && !(alnum_at(i + 1) && i > 0 && alnum_at(i - 1))) {
      ++i;
      continue;
    }
    out += c;
    ++i;
  }
  pb.Add(DecodeEntities(out));
  pb.Space();
}

bool IsFence(absl::string_view line) {
  absl::string_view t = absl::StripLeadingAsciiWhitespace(line);
  return absl::StartsWith(t, "```") || absl::StartsWith(t, "~~~");
}

// A thematic break or setext underline: only one of -*_= and spaces, 3+.
bool IsRuleLine(absl::string_view line) {
  absl::string_view t = absl::StripAsciiWhitespace(line);
  if (t.size() < 3) return false;
  char mark = 0;
  for (char c : t) {
    if (c == ' ') continue;
    if (c != '-' && c != '*' && c != '_' && c != '=') return false;
    if (mark != 0 && c != mark) return false;
    mark = c;
  }
  return true;
}

// A table delimiter row such as |---|:---:|.
bool IsTableRule(absl::string_view line) {
  absl::string_view t = absl::StripAsciiWhitespace(line);
  if (t.empty() || t.find('-') == absl::string_view::npos) return false;
  for (char c : t) {
    if (c != '|' && c != '-' && c != ':' && c != ' ') return false;
  }
  return t.find('|') != absl::string_view::npos;
}

// [id]: url reference definitions.
bool IsReferenceDefinition(absl::string_view line) {
  absl::string_view t = absl::StripLeadingAsciiWhitespace(line);
  if (t.empty() || t[0] != '[') return false;
  const size_t close = t.find("]:");
  return close != absl::string_view::npos && close > 1;
}

absl::string_view StripBlockMarkers(absl::string_view line) {
  absl::string_view t = absl::StripLeadingAsciiWhitespace(line);
  while (!t.empty() && t[0] == '>') t = absl::StripLeadingAsciiWhitespace(t.substr(1));
  size_t hashes = 0;
  while (hashes < t.size() && hashes < 6 && t[hashes] == '#') ++hashes;
  if (hashes > 0 && (hashes == t.size() || t[hashes] == ' ')) {
    t = absl::StripAsciiWhitespace(t.substr(hashes));
    while (!t.empty() && t.back() == '#') t.remove_suffix(1);  // closing hashes
    return t;
  }
  if (t.size() >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ') {
    return t.substr(2);
  }
  size_t digits = 0;
  while (digits < t.size() && digits < 9 && absl::ascii_isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  if (digits > 0 && digits + 1 < t.size() && (t[digits] == '.' || t[digits] == ')') &&
      t[digits + 1] == ' ') {
    return t.substr(digits + 2);
  }
  return t;
}

PlainText MarkdownToPlain(absl::string_view md) {
  PlainText result;
  ParagraphBuilder pb;
  bool in_code = false;
  for (absl::string_view line : absl::StrSplit(md, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (IsFence(line)) {
      in_code = !in_code;
      pb.Break();
      continue;
    }
    if (in_code) {
      pb.Add(line);
      pb.Space();
      continue;
    }
    if (absl::StripAsciiWhitespace(line).empty() || IsRuleLine(line)) {
      pb.Break();
      continue;
    }
    if (IsTableRule(line) || IsReferenceDefinition(line)) continue;
    absl::string_view content = StripBlockMarkers(line);
    const bool heading = absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "#");
    if (heading) pb.Break();
    std::string cells(content);
    std::replace(cells.begin(), cells.end(), '|', ' ');
    MarkdownInline(cells, pb, result.images);
    if (heading) pb.Break();
  }
  result.text = pb.Finish();
  return result;
}

// Latin-1 Supplement 0xC0..0xFF and Latin Extended-A 0x100..0x17F to ASCII.
constexpr const char* kLatin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y"};
constexpr const char* kLatinExtA[128] = {
    "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
    "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
    "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
    "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
    "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
    "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
    "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
    "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s"};
// Greek lowercase 0x3B1..0x3C9.
constexpr const char* kGreek[25] = {"a", "b", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n",
                                    "x", "o", "p", "r", "s", "s", "t", "y", "f", "ch", "ps", "o"};
// Cyrillic lowercase 0x430..0x44F.
constexpr const char* kCyrillic[32] = {"a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k",
                                       "l", "m", "n", "o", "p", "r", "s", "t", "u", "f", "kh",
                                       "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"};

// ASCII for a lowercase codepoint; nullptr when there is no transliteration.
const char* Transliterate(char32_t c) {
  if (c >= 0xC0 && c <= 0xFF) return kLatin1[c - 0xC0];
  if (c >= 0x100 && c <= 0x17F) return kLatinExtA[c - 0x100];
  if (c >= 0x3B1 && c <= 0x3C9) return kGreek[c - 0x3B1];
  switch (c) {
    case 0x3AC: return "a";
    case 0x3AD: return "e";
    case 0x3AE: return "i";
    case 0x3AF: return "i";
    case 0x3CC: return "o";
    case 0x3CD: return "y";
    case 0x3CE: return "o";
    case 0x451: return "e";
    case 0x454: return "ye";
    case 0x456: return "i";
    case 0x457: return "yi";
    case 0x491: return "g";
    default: break;
  }
  if (c >= 0x430 && c <= 0x44F) return kCyrillic[c - 0x430];
  return nullptr;
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t before = i;
    const char32_t c = NextCodepoint(s, &i);
    // A literal U+FFFD takes three bytes; a decoding failure advances one.
    if (c == kInvalid && i - before == 1) return false;
  }
  return true;
}

size_t CodepointCount(absl::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    NextCodepoint(s, &i);
    ++n;
  }
  return n;
}

PlainText ToPlainText(absl::string_view body, BodyFormat format) {
  switch (format) {
    case BodyFormat::kHtml:
      return HtmlToPlain(body);
    case BodyFormat::kPlainText: {
      PlainText result;
      ParagraphBuilder pb;
      for (absl::string_view line : absl::StrSplit(body, '\n')) {
        if (absl::StripAsciiWhitespace(line).empty()) {
          pb.Break();
        } else {
          pb.Add(line);
          pb.Space();
        }
      }
      result.text = pb.Finish();
      return result;
    }
    case BodyFormat::kMarkdown:
      break;
  }
  return MarkdownToPlain(body);
}

TextStats CountWords(absl::string_view text) {
  TextStats stats;
  bool in_word = false;
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    // ASCII (most text) first: never CJK, a word character when alphanumeric.
    const char32_t c = b < 0x80 ? (++i, b) : NextCodepoint(text, &i);
    if (c >= 0x80 && IsCjk(c)) {
      ++stats.cjk_chars;
      in_word = false;
    } else if (IsWordChar(c)) {
      if (!in_word) ++stats.words;
      in_word = true;
    } else if (in_word && (c == '\'' || c == '-' || c == 0x2019) && i < text.size()) {
      // "don't" and "well-known" are one word: stay in the word when a
      // letter follows.
      size_t j = i;
      in_word = IsWordChar(NextCodepoint(text, &j));
    } else {
      in_word = false;
    }
  }
  return stats;
}

absl::Duration ReadingTime(const TextStats& stats, int images) {
  int64_t image_seconds = 0;
  for (int k = 0; k < images; ++k) image_seconds += k < 9 ? 12 - k : 3;
  // Exact arithmetic in units of 1/(265*500) second avoids rounding surprises.
  const int64_t units = int64_t{stats.words} * 60 * 500 + int64_t{stats.cjk_chars} * 60 * 265 +
                        image_seconds * 265 * 500;
  const int64_t per_minute = int64_t{60} * 265 * 500;
  const int64_t minutes = std::max<int64_t>(1, (units + per_minute - 1) / per_minute);
  return absl::Minutes(minutes);
}

std::string ReadingTimeText(absl::Duration reading_time) {
  return absl::StrCat(absl::ToInt64Minutes(reading_time), " min read");
}

std::string DeriveExcerpt(absl::string_view plain_text, int max_chars) {
  // One line: paragraphs joined by a space. Only a prefix can matter, so a
  // long body is flattened from its first bytes (whole characters) when
  // those already hold more than max_chars characters; else from all of it.
  auto flatten = [](absl::string_view text) {
    ParagraphBuilder pb;
    pb.Add(text);
    return pb.Finish();
  };
  std::string flat;
  const size_t prefix_bytes = 4 * (static_cast<size_t>(std::max(0, max_chars)) + 2);
  if (plain_text.size() > prefix_bytes) {
    size_t end = prefix_bytes;
    while (end > 0 && (static_cast<unsigned char>(plain_text[end]) & 0xC0) == 0x80) --end;
    flat = flatten(plain_text.substr(0, end));
    if (static_cast<int>(CodepointCount(flat)) <= max_chars + 1) flat.clear();
  }
  if (flat.empty()) flat = flatten(plain_text);
  if (static_cast<int>(CodepointCount(flat)) <= max_chars) return flat;
  // Byte offsets of cut candidates within the first max_chars codepoints.
  size_t hard_cut = 0;
  size_t best = 0;
  size_t half = 0;
  int count = 0;
  for (size_t i = 0; i < flat.size() && count < max_chars;) {
    const size_t start = i;
    const char32_t c = NextCodepoint(flat, &i);
    ++count;
    if (count == max_chars / 2) half = i;
    if (c == ' ') best = start;          // cut before a space
    else if (IsCjk(c)) best = i;         // a CJK character ends a word
    hard_cut = i;
  }
  // The next character after the hard cut may itself be a boundary.
  if (hard_cut < flat.size() && flat[hard_cut] == ' ') best = hard_cut;
  size_t cut = best >= half && best > 0 ? best : hard_cut;
  std::string out = flat.substr(0, cut);
  while (!out.empty() && (out.back() == ' ' || out.back() == ',' || out.back() == ';' ||
                          out.back() == ':' || out.back() == '-')) {
    out.pop_back();
  }
  out += "\u2026";
  return out;
}

std::string SlugFromTitle(absl::string_view title, size_t max_len) {
  std::string slug;
  bool pending_hyphen = false;
  auto emit = [&](absl::string_view part) {
    if (part.empty()) return;
    if (pending_hyphen && !slug.empty()) slug += '-';
    pending_hyphen = false;
    slug.append(part.data(), part.size());
  };
  bool last_hex = false;  // consecutive untransliterated characters join
  for (size_t i = 0; i < title.size();) {
    const char32_t c = ToLowerCodepoint(NextCodepoint(title, &i));
    if (c < 0x80) {
      last_hex = false;
      if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
        const char ch = static_cast<char>(c);
        emit(absl::string_view(&ch, 1));
      } else if (c == '\'' ) {
        // "don't" -> "dont"
      } else {
        pending_hyphen = true;
      }
      continue;
    }
    if (const char* t = Transliterate(c); t != nullptr) {
      last_hex = false;
      emit(t);
      continue;
    }
    if (IsSpace(c) || IsNonAsciiSeparator(c)) {
      last_hex = false;
      pending_hyphen = true;
      continue;
    }
    std::string bytes;
    AppendUtf8(bytes, c);
    std::string hex;
    for (unsigned char b : bytes) absl::StrAppend(&hex, absl::Hex(b, absl::kZeroPad2));
    if (!last_hex) pending_hyphen = pending_hyphen || !slug.empty();
    emit(hex);
    last_hex = true;
  }
  if (slug.size() > max_len) {
    const size_t hyphen = slug.rfind('-', max_len);
    slug.resize(hyphen != std::string::npos && hyphen > 0 ? hyphen : max_len);
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "article" : slug;
}

bool IsValidSlug(absl::string_view slug) {
  if (slug.empty() || slug.size() > 200) return false;
  if (slug.front() == '-' || slug.back() == '-') return false;
  char prev = 0;
  for (char c : slug) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && prev == '-')) return false;
    prev = c;
  }
  return true;
}

std::string NormalizeLower(absl::string_view s) {
  ParagraphBuilder pb;  // trims and collapses whitespace
  pb.Add(s);
  return LowerUtf8(pb.Finish());
}

std::string NormalizeTag(absl::string_view tag) {
  std::string lower = NormalizeLower(tag);
  std::replace(lower.begin(), lower.end(), ' ', '-');
  return lower;
}

std::vector<std::string> NormalizeTags(const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const std::string& t : tags) {
    std::string n = NormalizeTag(t);
    if (n.empty() || !seen.insert(n).second) continue;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace newsgrid::article
