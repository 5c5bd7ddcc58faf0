// Reader responses built around shared serialized articles: the protobuf
// wire form of news.article.v1.Article, ListArticlesResponse and
// SearchArticlesResponse written as a few small header bytes plus each
// article's serialized bytes (ArticleVersion::serialized), referenced, not
// copied, into the gRPC byte buffer. The handlers of these methods are raw
// (grpc::ByteBuffer), so no article is parsed, copied or serialized again
// per response. The bytes are exactly what the generated classes would
// write for the same messages (response_wire_test checks it). A page with a
// read mask (read_mask.h) writes each article's kept fields instead.
//
//   grpc::ByteBuffer reply = ArticleResponse(version);
//   grpc::ByteBuffer page = ListResponse({.articles = refs, .next_page_token = token});
#ifndef NEWSGRID_ARTICLE_SERVICE_RESPONSE_WIRE_H_
#define NEWSGRID_ARTICLE_SERVICE_RESPONSE_WIRE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "article-service/article_version.h"
#include "article-service/read_mask.h"
#include "grpcpp/support/byte_buffer.h"

namespace newsgrid::article {

// A ListArticles page.
struct ArticlePage {
  std::vector<ArticleRef> articles;
  ReadMask mask;  // the fields of each article written (all: shared, not copied)
  std::string next_page_token;
  std::optional<int32_t> total_size;  // when asked
};

struct SearchResultRef {
  ArticleRef article;
  double score = 0;
  std::string snippet;
};

// A SearchArticles page.
struct SearchResultsPage {
  std::vector<SearchResultRef> results;
  ReadMask mask;
  std::string next_page_token;
  std::optional<int32_t> total_size;  // when asked
};

grpc::ByteBuffer ArticleResponse(const ArticleRef& article);
grpc::ByteBuffer ListResponse(const ArticlePage& page);
grpc::ByteBuffer SearchResponse(const SearchResultsPage& page);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_RESPONSE_WIRE_H_
