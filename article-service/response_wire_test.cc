#include "article-service/response_wire.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

namespace pb = ::news::article::v1;

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

pb::Article Sample(int64_t id, size_t body) {
  pb::Article a;
  a.set_name(absl::StrCat("articles/", id));
  a.set_title(absl::StrCat("Title ", id));
  a.set_body(std::string(body, 'b'));
  a.add_tags("t");
  a.set_revision(id);
  return a;
}

TEST(ResponseWireTest, ArticleIsTheSharedBytes) {
  ArticleRef v = ArticleVersion::Make(Sample(7, 100));
  grpc::ByteBuffer b = ArticleResponse(v);
  EXPECT_EQ(Flatten(b), Sample(7, 100).SerializeAsString());
  grpc::Slice only;
  ASSERT_TRUE(b.TrySingleSlice(&only).ok());
  EXPECT_EQ(only.begin(), v->serialized().begin());  // not copied
}

TEST(ResponseWireTest, ListResponseIsWhatTheGeneratedClassWrites) {
  // Articles whose sizes need 1-, 2- and 3-byte length varints.
  std::vector<pb::Article> articles = {Sample(1, 10), Sample(2, 300), Sample(3, 20000)};
  ArticlePage page;
  pb::ListArticlesResponse want;
  for (const pb::Article& a : articles) {
    page.articles.push_back(ArticleVersion::Make(a));
    *want.add_articles() = a;
  }
  page.next_page_token = "tok";
  want.set_next_page_token("tok");
  EXPECT_EQ(Flatten(ListResponse(page)), want.SerializeAsString());
  page.total_size = 12345;
  want.set_total_size(12345);
  EXPECT_EQ(Flatten(ListResponse(page)), want.SerializeAsString());
  pb::ListArticlesResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(Flatten(ListResponse(page))));
  EXPECT_EQ(parsed.articles(2).body().size(), 20000u);
  // Empty page, zero total: proto3 writes nothing.
  EXPECT_EQ(Flatten(ListResponse(ArticlePage{.total_size = 0})), "");
}

TEST(ResponseWireTest, SearchResponseIsWhatTheGeneratedClassWrites) {
  SearchResultsPage page;
  pb::SearchArticlesResponse want;
  const double scores[] = {0.5, 0, 1e-9};
  const std::string snippets[] = {"a <mark>b</mark>", "", std::string(200, 's')};
  for (int i = 0; i < 3; ++i) {
    pb::Article a = Sample(i + 1, i == 2 ? 5000 : 40);
    page.results.push_back(
        {.article = ArticleVersion::Make(a), .score = scores[i], .snippet = snippets[i]});
    pb::SearchResult* r = want.add_results();
    *r->mutable_article() = a;
    r->set_score(scores[i]);
    r->set_snippet(snippets[i]);
  }
  page.next_page_token = "next";
  page.total_size = 3;
  want.set_next_page_token("next");
  want.set_total_size(3);
  EXPECT_EQ(Flatten(SearchResponse(page)), want.SerializeAsString());
}

// With a read mask, each article carries only the kept fields (and its
// name); the page's own fields are unchanged.
TEST(ResponseWireTest, MaskedPagesCarryTheKeptFields) {
  google::protobuf::FieldMask fm;
  fm.add_paths("title");
  fm.add_paths("tags");
  absl::StatusOr<ReadMask> mask = ReadMask::FromProto(fm);
  ASSERT_TRUE(mask.ok());
  auto trimmed = [](pb::Article a) {
    a.clear_body();
    a.clear_revision();
    return a;
  };
  ArticlePage list{.mask = *mask, .next_page_token = "tok"};
  pb::ListArticlesResponse want_list;
  SearchResultsPage search{.mask = *mask};
  pb::SearchArticlesResponse want_search;
  for (int i = 1; i <= 3; ++i) {
    const pb::Article a = Sample(i, i * 4000);
    list.articles.push_back(ArticleVersion::Make(a));
    *want_list.add_articles() = trimmed(a);
    search.results.push_back({.article = ArticleVersion::Make(a), .score = 0.25 * i,
                              .snippet = "s"});
    pb::SearchResult* r = want_search.add_results();
    *r->mutable_article() = trimmed(a);
    r->set_score(0.25 * i);
    r->set_snippet("s");
  }
  want_list.set_next_page_token("tok");
  EXPECT_EQ(Flatten(ListResponse(list)), want_list.SerializeAsString());
  EXPECT_EQ(Flatten(SearchResponse(search)), want_search.SerializeAsString());
}

}  // namespace
}  // namespace newsgrid::article
