// Partial responses for reader pages (AIP-157): which top-level fields of
// an Article a ListArticles or SearchArticles answer carries, and the
// filter that cuts a serialized article down to them without parsing it.
//
// A section page shows cards (title, excerpt, image, time): a few hundred
// bytes of each article, not its body three times over (Markdown, HTML,
// plain text: 9 KB each in the benchmark corpus). The filter works on the
// wire form that the read cache keeps (article_version.h), skipping the
// fields left out, so a masked page costs a scan of field tags, not a parse.
//
//   absl::StatusOr<ReadMask> mask = ReadMask::FromProto(req.read_mask());
//   if (!mask->all()) bytes = mask->Filter(serialized);  // name, title, excerpt
#ifndef NEWSGRID_ARTICLE_SERVICE_READ_MASK_H_
#define NEWSGRID_ARTICLE_SERVICE_READ_MASK_H_

#include <bitset>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"

namespace newsgrid::article {

class ReadMask {
 public:
  // Every field.
  ReadMask() = default;

  // Empty or {"*"}: every field. Otherwise top-level field names of
  // news.article.v1.Article; `name` is always kept. An unknown name, a
  // nested path or "*" beside others is INVALID_ARGUMENT naming
  // `read_mask.paths[i]`.
  static absl::StatusOr<ReadMask> FromProto(const google::protobuf::FieldMask& mask);

  bool all() const { return all_; }
  // Whether the field with this number is kept.
  bool Keeps(int field_number) const;

  // `article`, a serialized news.article.v1.Article, with only the kept
  // fields, in their order. Bytes that do not parse as fields end the
  // filter (the article service wrote them; that does not happen).
  std::string Filter(absl::string_view article) const;

 private:
  static constexpr int kMaxField = 63;
  bool all_ = true;
  std::bitset<kMaxField + 1> fields_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_READ_MASK_H_
