#include "article-service/read_mask.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "news/article/v1/article_service.pb.h"
#include "runtime/status.h"

namespace newsgrid::article {

using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

absl::StatusOr<ReadMask> ReadMask::FromProto(const google::protobuf::FieldMask& mask) {
  ReadMask out;
  if (mask.paths_size() == 0 || (mask.paths_size() == 1 && mask.paths(0) == "*")) return out;
  out.all_ = false;
  out.fields_.set(news::article::v1::Article::kNameFieldNumber);
  FieldViolations violations;
  const google::protobuf::Descriptor* article = news::article::v1::Article::descriptor();
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& p = mask.paths(i);
    const std::string field = absl::StrCat("read_mask.paths[", i, "]");
    const FieldDescriptor* f = article->FindFieldByName(p);
    if (p == "*") {
      violations.Add(field, "\"*\" must be the only path");
    } else if (f == nullptr || f->number() > kMaxField) {
      violations.Add(field, absl::StrCat(
                                "unknown field \"", p,
                                "\": top-level Article field names only (no nested paths)"));
    } else {
      out.fields_.set(f->number());
    }
  }
  if (!violations.empty()) return violations.ToStatus();
  return out;
}

bool ReadMask::Keeps(int field_number) const {
  if (all_) return true;
  return field_number >= 0 && field_number <= kMaxField && fields_.test(field_number);
}

std::string ReadMask::Filter(absl::string_view article) const {
  if (all_) return std::string(article);
  std::string out;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(article.data()),
                                            static_cast<int>(article.size()));
  while (true) {
    const int start = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    if (!WireFormatLite::SkipField(&in, tag)) break;
    if (Keeps(static_cast<int>(WireFormatLite::GetTagFieldNumber(tag)))) {
      out.append(article.data() + start, static_cast<size_t>(in.CurrentPosition() - start));
    }
  }
  return out;
}

}  // namespace newsgrid::article
