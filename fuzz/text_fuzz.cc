// libFuzzer target: the text derivations (plain text from Markdown/HTML,
// word counts, reading time, excerpt, slug, tags) on arbitrary bytes. Their
// outputs keep their documented shapes: valid UTF-8 for valid input, slugs
// that pass IsValidSlug (or are empty), excerpts within their length.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "article-service/plain_text.h"
#include "article-service/slug.h"
#include "article-service/text_stats.h"
#include "article-service/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace a = newsgrid::article;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const bool utf8 = a::IsValidUtf8(input);
  for (a::BodyFormat f : {a::BodyFormat::kMarkdown, a::BodyFormat::kHtml, a::BodyFormat::kPlainText}) {
    const a::PlainText p = a::ToPlainText(input, f);
    if (p.images < 0) std::abort();
    if (utf8 && !a::IsValidUtf8(p.text)) std::abort();
    const a::TextStats stats = a::CountWords(p.text);
    const absl::Duration t = a::ReadingTime(stats, p.images);
    if (t < absl::ZeroDuration()) std::abort();
    (void)a::ReadingTimeText(t);
    const std::string excerpt = a::DeriveExcerpt(p.text, 300);
    if (utf8 && (!a::IsValidUtf8(excerpt) || a::CodepointCount(excerpt) > 301)) std::abort();
  }
  if (utf8) {
    const std::string slug = a::SlugFromTitle(input);
    if (!slug.empty() && !a::IsValidSlug(slug)) std::abort();
    if (slug.size() > 200) std::abort();
    const std::string tag = a::NormalizeTag(input);
    if (!a::IsValidUtf8(tag)) std::abort();
    (void)a::NormalizeLower(input);
  }
  return 0;
}
