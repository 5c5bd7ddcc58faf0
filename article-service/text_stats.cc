#include "article-service/text_stats.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "article-service/plain_text.h"
#include "article-service/utf8.h"
#include "unicode/uchar.h"
#include "unicode/uscript.h"
#include "unicode/utf8.h"

namespace newsgrid::article {
namespace {

// A letter of a CJK script (script extensions count: the prolonged sound
// mark "ー" is Hiragana and Katakana). CJK punctuation such as "。" is not.
bool IsCjk(UChar32 c) {
  if (c < 0x1100 || (U_GET_GC_MASK(c) & U_GC_L_MASK) == 0) return false;
  return uscript_hasScript(c, USCRIPT_HAN) || uscript_hasScript(c, USCRIPT_HIRAGANA) ||
         uscript_hasScript(c, USCRIPT_KATAKANA) || uscript_hasScript(c, USCRIPT_HANGUL);
}

// Letters, combining marks and digits of any script but the CJK ones.
bool IsWordChar(UChar32 c) {
  if (c < 0x80) return absl::ascii_isalnum(static_cast<unsigned char>(c));
  return (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_M_MASK | U_GC_N_MASK)) != 0 && !IsCjk(c);
}

// Decodes the character at p[*i] and advances; invalid UTF-8 is U+FFFD.
UChar32 Next(const uint8_t* p, int64_t* i, int64_t n) {
  if (p[*i] < 0x80) return p[(*i)++];
  UChar32 c;
  U8_NEXT(p, *i, n, c);
  return c < 0 ? 0xFFFD : c;
}

}  // namespace

TextStats CountWords(absl::string_view text) {
  TextStats stats;
  bool in_word = false;
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const int64_t n = static_cast<int64_t>(text.size());
  for (int64_t i = 0; i < n;) {
    // ASCII (most text) without a call: never CJK.
    const UChar32 c = p[i] < 0x80 ? p[i++] : Next(p, &i, n);
    if (c >= 0x80 && IsCjk(c)) {
      ++stats.cjk_chars;
      in_word = false;
    } else if (IsWordChar(c)) {
      if (!in_word) ++stats.words;
      in_word = true;
    } else if (in_word && (c == '\'' || c == '-' || c == 0x2019) && i < n) {
      // "don't" and "well-known" are one word: stay in the word when a
      // letter follows.
      int64_t j = i;
      in_word = IsWordChar(Next(p, &j, n));
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
  std::string flat;
  const size_t prefix_bytes = 4 * (static_cast<size_t>(std::max(0, max_chars)) + 2);
  if (plain_text.size() > prefix_bytes) {
    int64_t end = static_cast<int64_t>(prefix_bytes);
    U8_SET_CP_START(reinterpret_cast<const uint8_t*>(plain_text.data()), 0, end);
    flat = CollapseWhitespace(plain_text.substr(0, end));
    if (static_cast<int>(CodepointCount(flat)) <= max_chars + 1) flat.clear();
  }
  if (flat.empty()) flat = CollapseWhitespace(plain_text);
  if (static_cast<int>(CodepointCount(flat)) <= max_chars) return flat;
  // Byte offsets of cut candidates within the first max_chars characters.
  const auto* p = reinterpret_cast<const uint8_t*>(flat.data());
  const int64_t n = static_cast<int64_t>(flat.size());
  int64_t hard_cut = 0;
  int64_t best = 0;
  int64_t half = 0;
  int count = 0;
  for (int64_t i = 0; i < n && count < max_chars;) {
    const int64_t start = i;
    const UChar32 c = Next(p, &i, n);
    ++count;
    if (count == max_chars / 2) half = i;
    if (c == ' ') best = start;          // cut before a space
    else if (IsCjk(c)) best = i;         // a CJK character ends a word
    hard_cut = i;
  }
  // The next character after the hard cut may itself be a boundary.
  if (hard_cut < n && flat[hard_cut] == ' ') best = hard_cut;
  const int64_t cut = best >= half && best > 0 ? best : hard_cut;
  std::string out = flat.substr(0, cut);
  while (!out.empty() && (out.back() == ' ' || out.back() == ',' || out.back() == ';' ||
                          out.back() == ':' || out.back() == '-')) {
    out.pop_back();
  }
  out += "\u2026";
  return out;
}

}  // namespace newsgrid::article
