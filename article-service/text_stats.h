// Figures derived from an article's plain text (plain_text.h): the word
// count, the reading time with its display text, and the excerpt. Character
// classes come from ICU's Unicode properties: a word is letters, marks and
// digits; a CJK character is a letter of the Han, Hiragana, Katakana or
// Hangul scripts.
//
//   PlainText p = ToPlainText(body, BodyFormat::kMarkdown);
//   TextStats s = CountWords(p.text);
//   absl::Duration t = ReadingTime(s, p.images + (has_feature_image ? 1 : 0));
//   std::string label = ReadingTimeText(t);  // "5 min read"
//   std::string excerpt = DeriveExcerpt(p.text);
#ifndef NEWSGRID_ARTICLE_SERVICE_TEXT_STATS_H_
#define NEWSGRID_ARTICLE_SERVICE_TEXT_STATS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace newsgrid::article {

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

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_TEXT_STATS_H_
