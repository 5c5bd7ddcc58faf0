#include "article-service/text_stats.h"

#include <string>

#include "absl/strings/match.h"
#include "article-service/plain_text.h"
#include "article-service/utf8.h"
#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

std::string Repeat(absl::string_view word, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    out.append(word.data(), word.size());
  }
  return out;
}

TEST(WordCountTest, EnglishCountsWordsJoiningApostrophesAndHyphens) {
  TextStats s = CountWords("Don't stop: a well-known fact, 42 times -- really!");
  EXPECT_EQ(s.words, 8);  // don't stop a well-known fact 42 times really
  EXPECT_EQ(s.cjk_chars, 0);
}

TEST(WordCountTest, CjkCountsEachCharacter) {
  TextStats s = CountWords("东京は晴れ。Hello 세계");
  EXPECT_EQ(s.cjk_chars, 7);  // 东 京 は 晴 れ 세 계
  EXPECT_EQ(s.words, 1);
  EXPECT_EQ(s.total(), 8);
}

TEST(ReadingTimeTest, EnglishAt265WordsPerMinute) {
  EXPECT_EQ(ReadingTime({.words = 265}, 0), absl::Minutes(1));
  EXPECT_EQ(ReadingTime({.words = 266}, 0), absl::Minutes(2));
  EXPECT_EQ(ReadingTime({.words = 1325}, 0), absl::Minutes(5));
  EXPECT_EQ(ReadingTime({.words = 0}, 0), absl::Minutes(1));
  EXPECT_EQ(ReadingTimeText(absl::Minutes(5)), "5 min read");
}

TEST(ReadingTimeTest, CjkAt500CharactersPerMinute) {
  EXPECT_EQ(ReadingTime({.cjk_chars = 1500}, 0), absl::Minutes(3));
  EXPECT_EQ(ReadingTime({.cjk_chars = 1501}, 0), absl::Minutes(4));
  // Mixed: 265 words (1 min) + 500 chars (1 min) = exactly 2 minutes.
  EXPECT_EQ(ReadingTime({.words = 265, .cjk_chars = 500}, 0), absl::Minutes(2));
}

TEST(ReadingTimeTest, ImageHeavyBodies) {
  // 12+11+...+4 = 72 s for nine images, then 3 s each.
  EXPECT_EQ(ReadingTime({.words = 0}, 5), absl::Minutes(1));   // 50 s
  EXPECT_EQ(ReadingTime({.words = 0}, 6), absl::Minutes(1));   // 57 s
  EXPECT_EQ(ReadingTime({.words = 0}, 7), absl::Minutes(2));   // 63 s
  EXPECT_EQ(ReadingTime({.words = 0}, 9), absl::Minutes(2));   // 72 s
  EXPECT_EQ(ReadingTime({.words = 0}, 25), absl::Minutes(2));  // 72 + 48 = 120 s
  EXPECT_EQ(ReadingTime({.words = 0}, 26), absl::Minutes(3));  // 123 s
  // 530 words (120 s) + 9 images (72 s) = 192 s -> 4 min.
  const std::string md = Repeat("word", 530) + "\n\n" + Repeat("![x](https://e.com/i.png)", 9);
  PlainText p = ToPlainText(md, BodyFormat::kMarkdown);
  EXPECT_EQ(p.images, 9);
  EXPECT_EQ(CountWords(p.text).words, 530);
  EXPECT_EQ(ReadingTime(CountWords(p.text), p.images), absl::Minutes(4));
}

TEST(ExcerptTest, ShortTextIsKeptWhole) {
  EXPECT_EQ(DeriveExcerpt("Short text.\n\nSecond paragraph."), "Short text. Second paragraph.");
}

TEST(ExcerptTest, EnglishCutsOnWordBoundaryWithEllipsis) {
  const std::string text = Repeat("abcdefghi", 40);  // 399 characters
  const std::string e = DeriveExcerpt(text);
  EXPECT_EQ(e, Repeat("abcdefghi", 30) + "\u2026");  // 299 chars + ellipsis
  EXPECT_EQ(DeriveExcerpt("one two three four", 9), "one two\u2026");
  EXPECT_EQ(DeriveExcerpt("one two, three four", 9), "one two\u2026");
}

TEST(ExcerptTest, CjkCutsBetweenCharacters) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "字";
  const std::string e = DeriveExcerpt(text);
  EXPECT_EQ(CodepointCount(e), 301u);
  EXPECT_TRUE(absl::EndsWith(e, "字\u2026"));
}

TEST(ExcerptTest, LongWordIsCutHard) {
  const std::string text = "a " + std::string(500, 'x');
  const std::string e = DeriveExcerpt(text);
  EXPECT_EQ(CodepointCount(e), 301u);
}

// Long bodies are flattened from a prefix only: the excerpt must not
// depend on anything past it, whatever the characters and spacing there.
TEST(ExcerptTest, LongBodiesGiveTheExcerptOfTheirBeginning) {
  std::string head;
  for (int i = 0; i < 40; ++i) head += "Ééé çà 東京 word,\n\n";  // multibyte, paragraphs
  ASSERT_LT(head.size(), 4u * 302);                              // short: flattened whole
  const std::string expected = DeriveExcerpt(head);
  ASSERT_TRUE(IsValidUtf8(expected));
  EXPECT_EQ(DeriveExcerpt(head + std::string(20000, 'x')), expected);
  EXPECT_EQ(DeriveExcerpt(head + std::string(20000, ' ') + "tail"), expected);
  for (int max_chars : {1, 10, 50, 299}) {
    std::string text;
    while (text.size() < 4u * (max_chars + 2) + 40) text += "Ünïcödé 字 ";
    EXPECT_EQ(DeriveExcerpt(text + std::string(5000, 'y'), max_chars),
              DeriveExcerpt(text, max_chars))
        << max_chars;
  }
  // Mostly blank space up front: the prefix holds too few characters, so
  // the whole text is used.
  const std::string blank = std::string(4000, ' ') + "late start of the text";
  EXPECT_EQ(DeriveExcerpt(blank), "late start of the text");
}

}  // namespace
}  // namespace newsgrid::article
