// Text derivations of an article: plain text from markdown or HTML, the
// excerpt, word count and reading time, slugs from titles and tag
// normalization. Pure functions, no I/O.
//
//   PlainText p = ToPlainText(body, BodyFormat::kMarkdown);
//   TextStats s = CountWords(p.text);
//   absl::Duration t = ReadingTime(s, p.images + (has_feature_image ? 1 : 0));
//   std::string excerpt = DeriveExcerpt(p.text);
//   std::string slug = SlugFromTitle("Crème brûlée in 5 steps");  // "creme-brulee-in-5-steps"
#ifndef NEWSGRID_ARTICLE_SERVICE_TEXT_H_
#define NEWSGRID_ARTICLE_SERVICE_TEXT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace newsgrid::article {

enum class BodyFormat { kMarkdown, kHtml, kPlainText };

struct PlainText {
  std::string text;  // paragraphs separated by "\n\n", inner whitespace collapsed
  int images = 0;    // images in the body (markdown ![..](..) and <img>)
};

// Removes markup. Characters U+E000 and U+E001 (used internally as search
// highlight markers) are dropped from the output.
PlainText ToPlainText(absl::string_view body, BodyFormat format);

struct TextStats {
  int words = 0;      // non-CJK words
  int cjk_chars = 0;  // Han, Hiragana, Katakana, Hangul characters
  int total() const { return words + cjk_chars; }
};

// Words: runs of letters/digits (inner apostrophes and hyphens join); every
// CJK character counts as one word on its own.
TextStats CountWords(absl::string_view plain_text);

// The rule documented on Article.reading_time: 265 words/min, 500 CJK
// chars/min, images 12 s, 11 s, ... down to 3 s from the tenth; rounded up
// to whole minutes, at least one.
absl::Duration ReadingTime(const TextStats& stats, int images);
std::string ReadingTimeText(absl::Duration reading_time);  // "5 min read"

// The first ~`max_chars` characters of `plain_text` cut on a word boundary
// (a CJK character is a boundary of its own), "…" appended when cut.
std::string DeriveExcerpt(absl::string_view plain_text, int max_chars = 300);

// A slug from a title: lowercase ASCII letters, digits and single hyphens.
// Latin accents, Greek and Cyrillic are transliterated; any other character
// becomes the hex of its UTF-8 bytes (what percent-encoding would show, without
// the '%'), so every title gives a URL-safe slug. At most `max_len` characters,
// "article" when nothing is left.
std::string SlugFromTitle(absl::string_view title, size_t max_len = 200);

// True for 1-200 characters of [a-z0-9] in groups joined by single hyphens.
bool IsValidSlug(absl::string_view slug);

// Trimmed, lowercased, inner whitespace runs to one hyphen.
std::string NormalizeTag(absl::string_view tag);
// NormalizeTag on each, empty ones and duplicates removed, order kept.
std::vector<std::string> NormalizeTags(const std::vector<std::string>& tags);
// Trimmed and lowercased (sections).
std::string NormalizeLower(absl::string_view s);

// UTF-8 helpers.
bool IsValidUtf8(absl::string_view s);
size_t CodepointCount(absl::string_view s);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_TEXT_H_
