// Names derived from free text: URL slugs from titles (ICU transliteration),
// and the lowercase forms tags and sections are stored and matched in (ICU
// case mapping).
//
// A slug is lowercase ASCII letters, digits and single hyphens. Titles in
// any script are transliterated by ICU's "Greek-Latin/UNGEGN;
// Russian-Latin/BGN; Any-Latin; Latin-ASCII": the UN romanization for
// Greek and BGN/PCGN for Russian (the ones English-language newsrooms use),
// then every other script to Latin, then Latin to ASCII.
//
//   std::string slug = SlugFromTitle("Crème brûlée in 5 steps");  // "creme-brulee-in-5-steps"
//   SlugFromTitle("Москва сегодня");  // "moskva-segodnya"
//   SlugFromTitle("东京 news");         // "dong-jing-news"
//   bool ok = IsValidSlug(slug);
//   std::vector<std::string> tags = NormalizeTags({" Climate  Change", "climate change"});
//   // {"climate-change"}
#ifndef NEWSGRID_ARTICLE_SERVICE_SLUG_H_
#define NEWSGRID_ARTICLE_SERVICE_SLUG_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace newsgrid::article {

// A slug from a title (valid UTF-8): transliterated to ASCII, lowercased,
// apostrophes removed ("don't" -> "dont"), every other run of non-letters
// and non-digits one hyphen. A letter ICU cannot transliterate becomes the
// hex of its UTF-8 bytes (what percent-encoding would show, without the
// '%'); symbols and emoji are separators. At most `max_len` characters (cut
// at a hyphen when there is one), "article" when nothing is left.
std::string SlugFromTitle(absl::string_view title, size_t max_len = 200);

// Loads ICU's transliteration rules now (about 0.2 s, once per process), so
// that the first non-Latin title a server sees does not pay for it. Servers
// call it at start; SlugFromTitle works without it.
void PrepareTransliteration();

// True for 1-200 characters of [a-z0-9] in groups joined by single hyphens.
bool IsValidSlug(absl::string_view slug);

// Trimmed, inner whitespace runs to one space, lowercased by Unicode's
// rules (ICU, root locale): how sections are stored and matched.
std::string NormalizeLower(absl::string_view s);
// NormalizeLower with the spaces as hyphens: how a tag is stored and matched.
std::string NormalizeTag(absl::string_view tag);
// NormalizeTag on each, empty ones and duplicates removed, order kept.
std::vector<std::string> NormalizeTags(const std::vector<std::string>& tags);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_SLUG_H_
