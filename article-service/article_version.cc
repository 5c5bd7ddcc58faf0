#include "article-service/article_version.h"

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace newsgrid::article {

std::shared_ptr<const ArticleVersion> ArticleVersion::Make(const news::article::v1::Article& a) {
  auto v = std::shared_ptr<ArticleVersion>(new ArticleVersion());
  absl::string_view name = a.name();
  if (name.size() > 9 && name.substr(0, 9) == "articles/") {
    (void)absl::SimpleAtoi(name.substr(9), &v->id_);
  }
  v->name_ = a.name();
  v->etag_ = a.etag();
  v->section_ = a.section();
  v->tags_.assign(a.tags().begin(), a.tags().end());
  // Serialized straight into the slice every response from now on shares.
  const size_t size = a.ByteSizeLong();
  grpc::Slice bytes(size);
  a.SerializeWithCachedSizesToArray(const_cast<uint8_t*>(bytes.begin()));
  v->serialized_ = std::move(bytes);
  size_t strings = v->name_.size() + v->etag_.size() + v->section_.size();
  for (const std::string& t : v->tags_) strings += t.size() + sizeof(std::string);
  // Bytes, the strings above and the fixed parts (object, control block,
  // slice refcount, cache entry), so the cache's byte bound is honest for
  // small articles too.
  v->memory_bytes_ = size + strings + sizeof(ArticleVersion) + 160;
  return v;
}

news::article::v1::Article ArticleVersion::Parse() const {
  news::article::v1::Article a;
  a.ParseFromArray(serialized_.begin(), static_cast<int>(serialized_.size()));
  return a;
}

}  // namespace newsgrid::article
