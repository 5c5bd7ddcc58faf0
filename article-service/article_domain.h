// The article's rules, free of storage and transport: input validation
// (AIP-193 field violations), derived fields, update masks (protobuf's
// FieldMaskUtil), etags, what a reader is shown of a stored article (name,
// etag, reading-time text, search snippets as HTML) and the publication state
// machine. The proto message is the value type; every function here is pure
// and takes the current time as an argument.
//
//   absl::StatusOr<NewArticle> n = PrepareNewArticle(req.article(), clock.Now());
//   absl::StatusOr<std::vector<std::string>> paths =
//       ResolveUpdateMask(req.article(), req.update_mask());
//   absl::StatusOr<Change> c = ApplyUpdate(current, req.article(), *paths, now);
//   absl::StatusOr<Change> p = ApplyPublish(current, std::nullopt, now);
//   SetComputedFields(42, &stored);  // name, etag, reading_time_text
//   std::string html = SnippetHtml(marked);  // "... <mark>vote</mark> ..."
#ifndef NEWSGRID_ARTICLE_SERVICE_ARTICLE_DOMAIN_H_
#define NEWSGRID_ARTICLE_SERVICE_ARTICLE_DOMAIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "news/article/v1/article_service.pb.h"
#include "runtime/status.h"

namespace newsgrid::article {

using news::article::v1::Article;

// Limits from the API contract.
inline constexpr size_t kMaxTitle = 300;
inline constexpr size_t kMaxSubtitle = 500;
inline constexpr size_t kMaxBodyBytes = 1 << 20;
inline constexpr size_t kMaxCustomExcerpt = 500;
inline constexpr size_t kMaxAuthors = 20;
inline constexpr size_t kMaxAuthor = 200;
inline constexpr size_t kMaxSection = 100;
inline constexpr size_t kMaxTags = 32;
inline constexpr size_t kMaxTag = 64;
inline constexpr size_t kMaxUrl = 2048;
inline constexpr size_t kMaxAlt = 500;
inline constexpr size_t kMaxCaption = 1000;
inline constexpr size_t kMaxRequestId = 100;
inline constexpr size_t kMaxActor = 200;

// "articles/{id}" <-> id. Errors name `field`.
std::string ArticleName(int64_t id);
absl::StatusOr<int64_t> ParseArticleName(absl::string_view name, absl::string_view field);

// Article times have microsecond precision (as PostgreSQL stores them).
google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);
// Whether `t` is within Timestamp's range (0001-01-01 to 9999-12-31) with
// nanos in 0..999,999,999.
bool IsValidProtoTime(const google::protobuf::Timestamp& t);

// Readers see an article when it is PUBLISHED (or SCHEDULED with its time
// come) and not deleted.
bool IsLive(const Article& a, absl::Time now);
// A SCHEDULED article whose publish_time has come is reported PUBLISHED.
void ApplyEffectiveState(Article* a, absl::Time now);

// Opaque etag for a stored version (changes with every revision).
std::string ComputeEtag(int64_t id, int64_t revision);
// ABORTED when `etag` is non-empty and differs from the article's.
absl::Status CheckEtag(const Article& current, absl::string_view etag);

// The output fields not stored but computed from stored ones: name and etag
// from the id and revision, reading_time_text from reading_time.
void SetComputedFields(int64_t id, Article* a);

// Search snippets arrive as plain text with each match between these two
// private-use characters; SnippetHtml escapes the text and makes each match
// <mark>...</mark>.
inline constexpr char kSnippetMatchStart[] = "\uE000";
inline constexpr char kSnippetMatchEnd[] = "\uE001";
std::string SnippetHtml(absl::string_view marked_text);

// Validates the editable fields of `a` (field paths under `prefix`, e.g.
// "article.title"). The slug may be empty (it is derived).
void ValidateArticleFields(const Article& a, absl::string_view prefix,
                           FieldViolations& out);

// Checks a free-text request field (actor, request_id): valid UTF-8, max length.
void ValidateShortText(absl::string_view value, size_t max_chars, absl::string_view field,
                       FieldViolations& out);

// Recomputes the output-only text fields: normalized section and tags,
// plain_text, excerpt, word_count, reading_time(_text).
void DeriveFields(Article* a);

struct NewArticle {
  Article article;            // DRAFT, revision 1, times set, no name yet
  bool slug_derived = false;  // slug came from the title: the store may suffix it
};
absl::StatusOr<NewArticle> PrepareNewArticle(const Article& input, absl::Time now);

// The canonical update paths: the mask's paths, or for an empty mask the
// fields populated in `patch`; "*" gives every editable field. Unknown or
// output-only paths are INVALID_ARGUMENT naming them.
absl::StatusOr<std::vector<std::string>> ResolveUpdateMask(
    const Article& patch, const google::protobuf::FieldMask& mask);

// The result of a state change or update.
struct Change {
  Article article;                          // the article after the change
  std::string action;                       // "update", "publish", ...
  std::vector<std::string> changed_fields;  // fields whose value changed
  bool slug_derived = false;
  // Nothing changed (e.g. an update to the same values, or publishing an
  // already published article): no write, no revision.
  bool noop = false;
};

// Applies `paths` of `patch` to `current`; validates the result. Deleted
// articles are FAILED_PRECONDITION (undelete first).
absl::StatusOr<Change> ApplyUpdate(const Article& current, const Article& patch,
                                   const std::vector<std::string>& paths, absl::Time now);

// Publishes now (`at` unset or not after `now`) or schedules for `at`.
absl::StatusOr<Change> ApplyPublish(const Article& current, std::optional<absl::Time> at,
                                    absl::Time now);
absl::StatusOr<Change> ApplyUnpublish(const Article& current, absl::Time now);
absl::StatusOr<Change> ApplyDelete(const Article& current, absl::Time now);
absl::StatusOr<Change> ApplyUndelete(const Article& current, absl::Time now);

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_ARTICLE_DOMAIN_H_
