// libFuzzer target: the article service's request validation. The input is
// a serialized request (first byte picks which); whatever parses goes
// through the same validation and domain rules as a real call, with no
// database: create (PrepareNewArticle), update (ResolveUpdateMask +
// ApplyUpdate against a stored article), publish (ApplyPublish), names.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "article-service/article_domain.h"
#include "news/article/v1/article_service.pb.h"

namespace {

namespace a = newsgrid::article;
namespace pb = ::news::article::v1;

const absl::Time kNow = absl::FromUnixSeconds(1714565250);

const pb::Article& Stored() {
  static const pb::Article* stored = [] {
    pb::Article input;
    input.set_title("A stored story");
    input.set_body("Some *markdown* body with [a link](https://example.com).");
    input.set_section("world");
    input.add_tags("news");
    auto n = a::PrepareNewArticle(input, kNow);
    if (!n.ok()) std::abort();
    auto* out = new pb::Article(n->article);
    out->set_name(a::ArticleName(7));
    return out;
  }();
  return *stored;
}

bool Expected(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % 4;
  const char* body = reinterpret_cast<const char*>(data + 1);
  const int len = static_cast<int>(size - 1);
  switch (which) {
    case 0: {
      pb::CreateArticleRequest req;
      if (!req.ParseFromArray(body, len)) return 0;
      auto n = a::PrepareNewArticle(req.article(), kNow);
      if (!Expected(n.status())) std::abort();
      // A valid new article re-validates cleanly and is a DRAFT.
      if (n.ok() && n->article.state() != pb::Article::DRAFT) std::abort();
      break;
    }
    case 1: {
      pb::UpdateArticleRequest req;
      if (!req.ParseFromArray(body, len)) return 0;
      auto paths = a::ResolveUpdateMask(req.article(), req.update_mask());
      if (!Expected(paths.status())) std::abort();
      if (paths.ok()) {
        auto change = a::ApplyUpdate(Stored(), req.article(), *paths, kNow);
        if (!Expected(change.status())) std::abort();
      }
      break;
    }
    case 2: {
      pb::PublishArticleRequest req;
      if (!req.ParseFromArray(body, len)) return 0;
      std::optional<absl::Time> at;
      if (req.has_publish_time()) {
        const auto& t = req.publish_time();
        if (t.seconds() < -62135596800 || t.seconds() > 253402300799 || t.nanos() < 0 ||
            t.nanos() > 999999999) {
          return 0;  // refused by the handler before the domain
        }
        at = a::FromProtoTime(t);
      }
      auto change = a::ApplyPublish(Stored(), at, kNow);
      if (!Expected(change.status())) std::abort();
      (void)a::CheckEtag(Stored(), req.etag());
      break;
    }
    case 3: {
      pb::BatchGetArticlesRequest req;
      if (!req.ParseFromArray(body, len)) return 0;
      for (const std::string& name : req.names()) {
        auto id = a::ParseArticleName(name, "names");
        if (!Expected(id.status())) std::abort();
        if (id.ok() && (*id <= 0 || a::ParseArticleName(a::ArticleName(*id), "n").value_or(0) != *id)) {
          std::abort();
        }
      }
      break;
    }
  }
  return 0;
}
