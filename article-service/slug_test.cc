#include "article-service/slug.h"

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

using ::testing::ElementsAre;

TEST(SlugTest, FromTitles) {
  const std::pair<const char*, const char*> kTitleSlugs[] = {
      {"Hello, World!", "hello-world"},
      {"Crème brûlée in 5 steps", "creme-brulee-in-5-steps"},
      {"Straße über Łódź", "strasse-uber-lodz"},
      {"Москва сегодня", "moskva-segodnya"},
      {"Αθήνα", "athina"},
      {"东京 news", "dong-jing-news"},
      {"  --- ", "article"},
      {"Don't panic", "dont-panic"},
  };
  for (const auto& [title, slug] : kTitleSlugs) EXPECT_EQ(SlugFromTitle(title), slug) << title;
  std::string long_title;
  for (int i = 0; i < 100; ++i) long_title += "word ";
  const std::string long_slug = SlugFromTitle(long_title, 200);
  EXPECT_LE(long_slug.size(), 200u);
  EXPECT_TRUE(IsValidSlug(long_slug));
  EXPECT_TRUE(IsValidSlug(SlugFromTitle("东京")));
}

// What ICU's transliteration gives for each script (written down here:
// these are the slugs new articles get).
TEST(SlugTest, EveryScriptGetsASlug) {
  const std::pair<const char*, const char*> kTitleSlugs[] = {
      {"Ærø, Œuvre, Ñandú, Ørsted, Þór, ĳs", "aero-oeuvre-nandu-orsted-thor-ijs"},
      {"Über die Straße", "uber-die-strasse"},
      {"Ελλάδα: η οικονομία", "ellada-i-oikonomia"},
      {"Київ і Москва: объект", "kiiv-i-moskva-obyekt"},
      {"東京の天気", "dong-jingno-tian-qi"},
      {"서울 뉴스", "seoul-nyuseu"},
      {"مرحبا بالعالم", "mrhba-balalm"},
      {"שלום עולם", "slwm-wlm"},
      {"नमस्ते दुनिया", "namaste-duniya"},
      {"🎉🔥", "article"},
      {"2026 🎉 party", "2026-party"},
  };
  for (const auto& [title, slug] : kTitleSlugs) EXPECT_EQ(SlugFromTitle(title), slug) << title;
  // Decomposed accents (e + U+0301) as precomposed ones; the same word
  // twice gives the same slug (the second from the memo).
  EXPECT_EQ(SlugFromTitle("Cafe\u0301 café"), "cafe-cafe");
  EXPECT_EQ(SlugFromTitle("Ελλάδα Ελλάδα"), "ellada-ellada");
  // Slugs are the same from every thread (each has its own transliterator).
  std::vector<std::string> from_threads(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&from_threads, t] { from_threads[t] = SlugFromTitle("Αθήνα и Москва 東京"); });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& s : from_threads) EXPECT_EQ(s, SlugFromTitle("Αθήνα и Москва 東京"));
}

TEST(SlugTest, Validation) {
  EXPECT_TRUE(IsValidSlug("a-b-1"));
  EXPECT_FALSE(IsValidSlug(""));
  EXPECT_FALSE(IsValidSlug("A"));
  EXPECT_FALSE(IsValidSlug("a--b"));
  EXPECT_FALSE(IsValidSlug("-a"));
  EXPECT_FALSE(IsValidSlug("a_b"));
  EXPECT_FALSE(IsValidSlug(std::string(201, 'a')));
}

TEST(TagsTest, NormalizedDedupedOrderKept) {
  EXPECT_THAT(NormalizeTags({"  China ", "Climate  Change", "china", "", "ÉLECTIONS"}),
              ElementsAre("china", "climate-change", "élections"));
  EXPECT_EQ(NormalizeLower("  World "), "world");
  // Unicode's lowercase mapping, every script; ß stays ß (lowercase, not
  // case folding: stored tags and sections keep matching).
  EXPECT_EQ(NormalizeLower(" ÇA  VA "), "ça va");
  EXPECT_EQ(NormalizeLower("Straße"), "straße");
  EXPECT_EQ(NormalizeTag("ΟΔΟΣ Αθηνών"), "οδος-αθηνών");
  EXPECT_EQ(NormalizeTag("Новости Дня"), "новости-дня");
}

}  // namespace
}  // namespace newsgrid::article
