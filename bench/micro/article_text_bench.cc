// The text work of every CreateArticle / UpdateArticle: markup to plain
// text, word count and reading time, the excerpt, the slug from a title.
// Bodies are article-sized (about 500 words of markdown), like the load
// generator's.
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "article-service/text.h"
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

void BM_Excerpt(benchmark::State& state) {
  const std::string plain = ToPlainText(MarkdownBody(500), BodyFormat::kMarkdown).text;
  for (auto _ : state) benchmark::DoNotOptimize(DeriveExcerpt(plain));
}
BENCHMARK(BM_Excerpt);

// range(0): 0 ASCII title, 1 accented and non-Latin (transliteration, hex).
void BM_SlugFromTitle(benchmark::State& state) {
  const std::string title = state.range(0) == 0
                                ? "City Council Votes to Expand the Night Bus Network by 2027"
                                : "Économie: l'über-Plan für Zürich — Ελλάδα, Москва и 東京";
  for (auto _ : state) benchmark::DoNotOptimize(SlugFromTitle(title));
}
BENCHMARK(BM_SlugFromTitle)->ArgName("non_ascii")->Arg(0)->Arg(1);

}  // namespace
}  // namespace newsgrid::article
