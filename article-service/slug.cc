#include "article-service/slug.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <unordered_set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "article-service/plain_text.h"
#include "unicode/bytestream.h"
#include "unicode/casemap.h"
#include "unicode/translit.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/uscript.h"
#include "unicode/utf8.h"

namespace newsgrid::article {
namespace {

constexpr char kTransliteration[] =
    "Greek-Latin/UNGEGN; Russian-Latin/BGN; Any-Latin; Latin-ASCII";

// This thread's transliterator. An icu::Transliterator may not be used by
// two threads at once, and building one from its ID parses the rules of
// every script (milliseconds), so each thread clones a prototype built once.
icu::Transliterator& ThreadTransliterator() {
  static const icu::Transliterator* const prototype = [] {
    UErrorCode status = U_ZERO_ERROR;
    UParseError parse_error;
    icu::Transliterator* t = icu::Transliterator::createInstance(
        icu::UnicodeString(kTransliteration, -1, US_INV), UTRANS_FORWARD, parse_error, status);
    // The rules ship with libicu's data: failing is a broken installation.
    if (U_FAILURE(status) || t == nullptr) std::abort();
    return t;
  }();
  thread_local const std::unique_ptr<icu::Transliterator> mine(prototype->clone());
  return *mine;
}

std::string Transliterate(absl::string_view run) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(run.data(), run.size()));
  ThreadTransliterator().transliterate(u);
  std::string out;
  u.toUTF8String(out);
  return out;
}

// Whether `run` holds only Latin letters, punctuation/symbols and marks:
// characters whose transliteration does not depend on their neighbours
// (Latin-ASCII maps each on its own; case, which some of its rules look at,
// is lowered afterwards anyway).
bool IsLatinRun(absl::string_view run) {
  const auto* p = reinterpret_cast<const uint8_t*>(run.data());
  const int64_t n = static_cast<int64_t>(run.size());
  for (int64_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0) return false;
    UErrorCode status = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(c, &status);
    if (script != USCRIPT_LATIN && script != USCRIPT_COMMON && script != USCRIPT_INHERITED) {
      return false;
    }
  }
  return true;
}

// `text` through the transliterator, remembered: a call into ICU costs
// about 0.3 µs per character (a title of Greek, Russian and Chinese words
// 13 µs), a hit a hash lookup. Per thread, so without locks; at most 4096
// entries (a few hundred KiB), forgotten all at once when full. Titles
// repeat their words (names, places), so most lookups hit.
const std::string& Memoized(absl::string_view text, bool latin) {
  thread_local absl::flat_hash_map<std::string, std::string> memo;
  if (auto it = memo.find(text); it != memo.end()) return it->second;
  if (memo.size() >= 4096) memo.clear();
  std::string ascii = Transliterate(text);
  if (!latin) {
    // Romanizations write some letters as quote marks (BGN's hard sign "ъ"
    // is '"'); inside a word they are not separators.
    ascii.erase(std::remove(ascii.begin(), ascii.end(), '"'), ascii.end());
  }
  return memo.emplace(text, std::move(ascii)).first->second;
}

// `run` (non-ASCII characters between ASCII ones) in ASCII where ICU can.
// Latin runs (accents in European titles, the common case) go character by
// character, so that every word made of known accented letters hits the
// memo. Other scripts, whose romanization looks at neighbouring letters
// (Greek "αυ", Russian "е" after a vowel, Japanese "ッ"), go whole.
void AppendTransliterated(absl::string_view run, std::string& out) {
  if (!IsLatinRun(run)) {
    out += Memoized(run, /*latin=*/false);
    return;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(run.data());
  const int64_t n = static_cast<int64_t>(run.size());
  for (int64_t i = 0; i < n;) {
    const int64_t start = i;
    U8_FWD_1(p, i, n);
    out += Memoized(run.substr(start, i - start), /*latin=*/true);
  }
}

// Non-ASCII runs of `title` transliterated; ASCII kept as is.
std::string ToAscii(absl::string_view title) {
  std::string out;
  out.reserve(title.size());
  for (size_t i = 0; i < title.size();) {
    if (static_cast<unsigned char>(title[i]) < 0x80) {
      out += title[i++];
      continue;
    }
    size_t j = i + 1;
    while (j < title.size() && static_cast<unsigned char>(title[j]) >= 0x80) ++j;
    AppendTransliterated(title.substr(i, j - i), out);
    i = j;
  }
  return out;
}

bool IsAscii(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

void PrepareTransliteration() { ThreadTransliterator(); }

std::string SlugFromTitle(absl::string_view title, size_t max_len) {
  std::string transliterated;
  if (!IsAscii(title)) {
    transliterated = ToAscii(title);
    title = transliterated;
  }
  std::string slug;
  bool pending_hyphen = false;
  auto emit = [&](absl::string_view part) {
    if (pending_hyphen && !slug.empty()) slug += '-';
    pending_hyphen = false;
    slug.append(part.data(), part.size());
  };
  bool last_hex = false;  // consecutive untransliterated letters join
  const auto* p = reinterpret_cast<const uint8_t*>(title.data());
  const int64_t n = static_cast<int64_t>(title.size());
  for (int64_t i = 0; i < n;) {
    if (p[i] < 0x80) {
      const char c = absl::ascii_tolower(p[i++]);
      last_hex = false;
      if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
        emit(absl::string_view(&c, 1));
      } else if (c != '\'') {  // "don't" -> "dont"
        pending_hyphen = true;
      }
      continue;
    }
    UChar32 c;
    U8_NEXT(p, i, n, c);
    const uint32_t category = c < 0 ? U_GC_CN_MASK : U_GET_GC_MASK(c);
    if ((category & (U_GC_M_MASK | U_GC_LM_MASK)) != 0) {
      continue;  // marks and modifiers left over ("ʿ" of Arabic): part of their letter
    }
    if ((category & (U_GC_L_MASK | U_GC_N_MASK)) == 0) {
      last_hex = false;  // spaces, punctuation, symbols, emoji
      pending_hyphen = true;
      continue;
    }
    char bytes[U8_MAX_LENGTH];
    int32_t len = 0;
    U8_APPEND_UNSAFE(bytes, len, u_tolower(c));
    std::string hex;
    for (int32_t k = 0; k < len; ++k) {
      absl::StrAppend(&hex, absl::Hex(static_cast<unsigned char>(bytes[k]), absl::kZeroPad2));
    }
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
  std::string collapsed = CollapseWhitespace(s);
  if (IsAscii(collapsed)) {
    absl::AsciiStrToLower(&collapsed);
    return collapsed;
  }
  std::string out;
  icu::StringByteSink<std::string> sink(&out);
  UErrorCode status = U_ZERO_ERROR;
  icu::CaseMap::utf8ToLower("", 0, icu::StringPiece(collapsed.data(), collapsed.size()), sink,
                            nullptr, status);
  return U_SUCCESS(status) ? out : collapsed;
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
