// The text work of every CreateArticle / UpdateArticle: markup to plain
// text, word count and reading time, the body's safe HTML, the excerpt, the
// slug from a title.
// Bodies are article-sized (about 500 words of markdown), like the load
// generator's.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "article-service/body_html.h"
#include "article-service/plain_text.h"
#include "article-service/slug.h"
#include "article-service/text_stats.h"
#include "benchmark/benchmark.h"

namespace newsgrid::article {
namespace {

std::string MarkdownBody(int words) {
  static constexpr const char* kWords[] = {"government", "said", "the",     "market", "on",
                                           "Tuesday",    "über", "économie", "report", "city",
                                           "council",    "vote", "résumé",  "data",   "a"};
  std::mt19937 rng(42);
  std::string body = "# Headline\n\n";
  for (int i = 0; i < words; ++i) {
    absl::StrAppend(&body, i % 40 == 7 ? "**" : "", kWords[rng() % std::size(kWords)],
                    i % 40 == 7 ? "**" : "", i % 60 == 59 ? ".\n\n" : " ");
    if (i % 150 == 149) absl::StrAppend(&body, "![photo](https://img.example/p.jpg)\n\n");
  }
  return body;
}

// ToPlainText + CountWords + ReadingTime: what "5 min read" costs.
void BM_ReadingTime(benchmark::State& state) {
  const std::string body = MarkdownBody(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    PlainText plain = ToPlainText(body, BodyFormat::kMarkdown);
    benchmark::DoNotOptimize(ReadingTime(CountWords(plain.text), plain.images));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ReadingTime)->ArgName("words")->Arg(500)->Arg(5000);

// The body's HTML as stored: range(0) 0 is cmark's HTML through the
// sanitizer (an HTML5 parse by gumbo), the way every Markdown body went
// before; 1 is RenderBodyHtml, one walk of cmark's tree writing the same
// bytes (body_html_test checks they are equal).
void BM_BodyHtml(benchmark::State& state) {
  const std::string body = MarkdownBody(500);
  for (auto _ : state) {
    if (state.range(0) == 0) {
      benchmark::DoNotOptimize(SanitizeHtml(MarkdownToHtml(body)));
    } else {
      benchmark::DoNotOptimize(RenderBodyHtml(body, news::article::v1::MARKDOWN));
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_BodyHtml)->ArgName("direct")->Arg(0)->Arg(1);

void BM_Excerpt(benchmark::State& state) {
  const std::string plain = ToPlainText(MarkdownBody(500), BodyFormat::kMarkdown).text;
  for (auto _ : state) benchmark::DoNotOptimize(DeriveExcerpt(plain));
}
BENCHMARK(BM_Excerpt);

// range(0): 0 ASCII title, 1 accented and non-Latin (transliteration; the
// same title each time, so its words are in slug.cc's memo after the first).
void BM_SlugFromTitle(benchmark::State& state) {
  const std::string title = state.range(0) == 0
                                ? "City Council Votes to Expand the Night Bus Network by 2027"
                                : "Économie: l'über-Plan für Zürich — Ελλάδα, Москва и 東京";
  for (auto _ : state) benchmark::DoNotOptimize(SlugFromTitle(title));
}
BENCHMARK(BM_SlugFromTitle)->ArgName("non_ascii")->Arg(0)->Arg(1);

// Titles whose Greek, Russian and Chinese words are new each time (10,000
// titles in turn, more than the memo keeps): what ICU's transliteration
// costs when nothing is remembered.
void BM_SlugFromTitleUnseen(benchmark::State& state) {
  auto letters = [](char32_t first, int base, int n) {
    std::string word;
    for (int k = 0; k < 4; ++k, n /= base) {
      const char32_t c = first + n % base;
      word += static_cast<char>(0xC0 | (c >> 6));
      word += static_cast<char>(0x80 | (c & 0x3F));
    }
    return word;
  };
  std::vector<std::string> titles;
  for (int i = 0; i < 10000; ++i) {
    const char32_t han = 0x4E00 + i;
    const std::string han_utf8 = {static_cast<char>(0xE0 | (han >> 12)),
                                  static_cast<char>(0x80 | ((han >> 6) & 0x3F)),
                                  static_cast<char>(0x80 | (han & 0x3F))};
    titles.push_back(absl::StrCat("Économie: l'über-Plan für Zürich — ", letters(0x3B1, 24, i),
                                  ", ", letters(0x430, 32, i), " и ", han_utf8));
  }
  size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(SlugFromTitle(titles[next]));
    next = (next + 1) % titles.size();
  }
}
BENCHMARK(BM_SlugFromTitleUnseen);

}  // namespace
}  // namespace newsgrid::article
