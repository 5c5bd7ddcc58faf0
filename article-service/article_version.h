// One version of an article as it goes out to readers, serialized once and
// shared read-only from then on: by the read cache, by every response that
// carries it (the gRPC message is built from the same bytes, see
// response_wire.h) and by the view forwarder (which needs its name, section
// and tags). A hot article is therefore never copied or serialized per read:
// a read costs a reference count.
//
//   ArticleRef v = ArticleVersion::Make(article);  // serializes once
//   grpc::Slice bytes = v->serialized();           // shares the bytes
//   Article copy = v->Parse();                     // tests and rare callers
#ifndef NEWSGRID_ARTICLE_SERVICE_ARTICLE_VERSION_H_
#define NEWSGRID_ARTICLE_SERVICE_ARTICLE_VERSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/support/slice.h"
#include "news/article/v1/article_service.pb.h"

namespace newsgrid::article {

class ArticleVersion {
 public:
  // `a.name()` must be "articles/{id}".
  static std::shared_ptr<const ArticleVersion> Make(const news::article::v1::Article& a);

  int64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& etag() const { return etag_; }
  const std::string& section() const { return section_; }
  const std::vector<std::string>& tags() const { return tags_; }
  // The serialized news.article.v1.Article; copying the slice shares it.
  const grpc::Slice& serialized() const { return serialized_; }
  // What keeping this version costs in memory (the read cache's unit).
  size_t memory_bytes() const { return memory_bytes_; }

  news::article::v1::Article Parse() const;

 private:
  ArticleVersion() = default;

  int64_t id_ = 0;
  std::string name_;
  std::string etag_;
  std::string section_;
  std::vector<std::string> tags_;
  grpc::Slice serialized_;
  size_t memory_bytes_ = 0;
};

using ArticleRef = std::shared_ptr<const ArticleVersion>;

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_VERSION_H_
