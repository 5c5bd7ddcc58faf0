// UTF-8 checks on ICU's decoder (unicode/utf8.h): whether bytes are valid
// UTF-8 and how many characters (code points) they hold. Validation rejects
// what ICU rejects: stray continuation bytes, truncated sequences, overlong
// forms, surrogates and values above U+10FFFF.
//
//   if (!IsValidUtf8(title)) return InvalidFieldError("article.title", "is not valid UTF-8");
//   if (CodepointCount(title) > 300) return InvalidFieldError("article.title", "is too long");
#ifndef NEWSGRID_ARTICLE_SERVICE_UTF8_H_
#define NEWSGRID_ARTICLE_SERVICE_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace newsgrid::article {

bool IsValidUtf8(absl::string_view s);

// Code points in `s`; in invalid UTF-8 each maximal ill-formed subsequence
// counts as one (the U+FFFD a decoder would put there).
size_t CodepointCount(absl::string_view s);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_UTF8_H_
