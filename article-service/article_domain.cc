#include "article-service/article_domain.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "article-service/body_html.h"
#include "absl/strings/str_replace.h"
#include "article-service/plain_text.h"
#include "article-service/slug.h"
#include "article-service/text_stats.h"
#include "article-service/utf8.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "runtime/article_name.h"

namespace newsgrid::article {
namespace {


using google::protobuf::FieldDescriptor;
using google::protobuf::FieldMask;
using google::protobuf::util::FieldMaskUtil;
using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

// Editable fields in canonical order; every other field of Article is
// output only.
const std::vector<std::string>& EditablePaths() {
  static const auto* paths = new std::vector<std::string>{
      "slug",    "title",   "subtitle", "body", "body_format", "custom_excerpt",
      "authors", "section", "tags",     "feature_image"};
  return *paths;
}

const FieldMask& EditableMask() {
  static const FieldMask* mask = [] {
    auto* m = new FieldMask;
    for (const std::string& p : EditablePaths()) m->add_paths(p);
    return m;
  }();
  return *mask;
}

const FieldDescriptor* EditableField(absl::string_view path) {
  return Article::descriptor()->FindFieldByName(std::string(path));
}

// Copies the `paths` of `from` into `to`: scalars and lists replaced, a
// message field replaced whole (cleared when `from` has none) unless only
// some of its fields are named.
void CopyPaths(const Article& from, const std::vector<std::string>& paths, Article* to) {
  FieldMask mask;
  for (const std::string& p : paths) mask.add_paths(p);
  FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(from, mask, options, to);
}

bool IsHttpUrl(absl::string_view url) {
  absl::string_view rest;
  if (absl::StartsWith(url, "https://")) {
    rest = url.substr(8);
  } else if (absl::StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  const size_t host_end = rest.find_first_of("/?#");
  absl::string_view host = rest.substr(0, host_end);
  if (host.empty() || host.front() == '.' || host.front() == ':') return false;
  for (char c : url) {
    // No whitespace or control characters anywhere in a URL.
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

void CheckText(absl::string_view value, size_t max_chars, const std::string& field,
               FieldViolations& out) {
  if (!IsValidUtf8(value)) {
    out.Add(field, "is not valid UTF-8");
  } else if (CodepointCount(value) > max_chars) {
    out.Add(field, absl::StrCat("is longer than ", max_chars, " characters"));
  }
}

Change Changed(Article after, std::string action, std::vector<std::string> fields,
               absl::Time now) {
  after.set_revision(after.revision() + 1);
  *after.mutable_update_time() = ToProtoTime(now);
  after.clear_etag();  // the store sets it from the id and the new revision
  Change c;
  c.article = std::move(after);
  c.action = std::move(action);
  c.changed_fields = std::move(fields);
  return c;
}

// Whether the editable top-level field `path` has the same value in both.
bool SameValue(const Article& a, const Article& b, absl::string_view path) {
  const std::vector<const FieldDescriptor*> field = {EditableField(path)};
  return MessageDifferencer().CompareWithFields(a, b, field, field);
}

}  // namespace

std::string ArticleName(int64_t id) { return ArticleServiceName(id); }

absl::StatusOr<int64_t> ParseArticleName(absl::string_view name, absl::string_view field) {
  if (name.empty()) return InvalidFieldError(std::string(field), "is required");
  const std::optional<int64_t> id = ParseArticleServiceId(name);
  if (!id) return InvalidFieldError(std::string(field), "must have the form \"articles/{id}\"");
  return *id;
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(t));
}

bool IsValidProtoTime(const google::protobuf::Timestamp& t) {
  return t.seconds() >= TimeUtil::kTimestampMinSeconds &&
         t.seconds() <= TimeUtil::kTimestampMaxSeconds && t.nanos() >= 0 &&
         t.nanos() <= 999999999;
}

bool IsLive(const Article& a, absl::Time now) {
  return !a.has_delete_time() && a.has_publish_time() &&
         (a.state() == Article::PUBLISHED || a.state() == Article::SCHEDULED) &&
         FromProtoTime(a.publish_time()) <= now;
}

void ApplyEffectiveState(Article* a, absl::Time now) {
  if (a->state() == Article::SCHEDULED && a->has_publish_time() &&
      FromProtoTime(a->publish_time()) <= now) {
    a->set_state(Article::PUBLISHED);
  }
}

std::string ComputeEtag(int64_t id, int64_t revision) {
  // A mixed, not a guessable sequence number; stable for (id, revision).
  uint64_t h = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ULL ^
               (static_cast<uint64_t>(revision) + 0x632BE59BD9B4E019ULL);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 29;
  return absl::StrFormat("\"%d-%012x\"", revision, h & 0xFFFFFFFFFFFFULL);
}

absl::Status CheckEtag(const Article& current, absl::string_view etag) {
  if (etag.empty() || etag == current.etag()) return absl::OkStatus();
  return absl::AbortedError(
      "the article was changed since it was read (etag mismatch); read it again and retry");
}

void SetComputedFields(int64_t id, Article* a) {
  a->set_name(ArticleName(id));
  a->set_etag(ComputeEtag(id, a->revision()));
  a->set_reading_time_text(ReadingTimeText(absl::Seconds(a->reading_time().seconds())));
}

std::string SnippetHtml(absl::string_view marked_text) {
  // The four characters reader-web's snippet reader undoes (page_text.cc).
  return absl::StrReplaceAll(marked_text, {{"&", "&amp;"},
                                           {"<", "&lt;"},
                                           {">", "&gt;"},
                                           {"\"", "&quot;"},
                                           {kSnippetMatchStart, "<mark>"},
                                           {kSnippetMatchEnd, "</mark>"}});
}

void ValidateShortText(absl::string_view value, size_t max_chars, absl::string_view field,
                       FieldViolations& out) {
  CheckText(value, max_chars, std::string(field), out);
}

void ValidateArticleFields(const Article& a, absl::string_view prefix, FieldViolations& out) {
  auto f = [&](absl::string_view name) { return absl::StrCat(prefix, ".", name); };
  if (a.title().empty() || absl::StripAsciiWhitespace(a.title()).empty()) {
    out.Add(f("title"), "is required");
  } else {
    CheckText(a.title(), kMaxTitle, f("title"), out);
  }
  if (!a.slug().empty() && !IsValidSlug(a.slug())) {
    out.Add(f("slug"),
            "must be 1 to 200 lowercase ASCII letters, digits and single hyphens, "
            "not starting or ending with a hyphen");
  }
  CheckText(a.subtitle(), kMaxSubtitle, f("subtitle"), out);
  if (!IsValidUtf8(a.body())) {
    out.Add(f("body"), "is not valid UTF-8");
  } else if (a.body().size() > kMaxBodyBytes) {
    out.Add(f("body"), "is larger than 1 MiB");
  }
  if (!news::article::v1::BodyFormat_IsValid(a.body_format())) {
    out.Add(f("body_format"), "is not a known format");
  }
  CheckText(a.custom_excerpt(), kMaxCustomExcerpt, f("custom_excerpt"), out);
  if (static_cast<size_t>(a.authors_size()) > kMaxAuthors) {
    out.Add(f("authors"), absl::StrCat("has more than ", kMaxAuthors, " entries"));
  }
  for (int i = 0; i < a.authors_size(); ++i) {
    const std::string field = absl::StrCat(f("authors"), "[", i, "]");
    if (absl::StripAsciiWhitespace(a.authors(i)).empty()) {
      out.Add(field, "must not be empty");
    } else {
      CheckText(a.authors(i), kMaxAuthor, field, out);
    }
  }
  CheckText(a.section(), kMaxSection, f("section"), out);
  if (static_cast<size_t>(a.tags_size()) > kMaxTags) {
    out.Add(f("tags"), absl::StrCat("has more than ", kMaxTags, " tags"));
  }
  for (int i = 0; i < a.tags_size(); ++i) {
    const std::string field = absl::StrCat(f("tags"), "[", i, "]");
    if (!IsValidUtf8(a.tags(i))) {
      out.Add(field, "is not valid UTF-8");
    } else if (CodepointCount(NormalizeTag(a.tags(i))) > kMaxTag) {
      out.Add(field, absl::StrCat("is longer than ", kMaxTag, " characters"));
    }
  }
  if (a.has_feature_image()) {
    const auto& img = a.feature_image();
    const std::string url = f("feature_image.url");
    if (img.url().empty()) {
      out.Add(url, "is required when a feature image is given");
    } else if (img.url().size() > kMaxUrl) {
      out.Add(url, absl::StrCat("is longer than ", kMaxUrl, " characters"));
    } else if (!IsValidUtf8(img.url()) || !IsHttpUrl(img.url())) {
      out.Add(url, "must be an absolute http or https URL");
    }
    CheckText(img.alt(), kMaxAlt, f("feature_image.alt"), out);
    CheckText(img.caption(), kMaxCaption, f("feature_image.caption"), out);
  }
}

void DeriveFields(Article* a) {
  a->set_section(NormalizeLower(a->section()));
  std::vector<std::string> tags(a->tags().begin(), a->tags().end());
  a->clear_tags();
  for (std::string& t : NormalizeTags(tags)) a->add_tags(std::move(t));
  if (a->has_feature_image() && a->feature_image().url().empty() &&
      a->feature_image().alt().empty() && a->feature_image().caption().empty()) {
    a->clear_feature_image();
  }
  BodyFormat format = BodyFormat::kMarkdown;
  if (a->body_format() == news::article::v1::HTML) format = BodyFormat::kHtml;
  if (a->body_format() == news::article::v1::PLAIN_TEXT) format = BodyFormat::kPlainText;
  PlainText plain = ToPlainText(a->body(), format);
  const TextStats stats = CountWords(plain.text);
  const int images = plain.images + (a->has_feature_image() ? 1 : 0);
  const absl::Duration reading = ReadingTime(stats, images);
  a->set_excerpt(a->custom_excerpt().empty() ? DeriveExcerpt(plain.text) : a->custom_excerpt());
  a->set_plain_text(std::move(plain.text));
  a->set_body_html(RenderBodyHtml(a->body(), a->body_format()));
  a->set_word_count(stats.total());
  a->mutable_reading_time()->set_seconds(absl::ToInt64Seconds(reading));
  a->mutable_reading_time()->set_nanos(0);
  a->set_reading_time_text(ReadingTimeText(reading));
}

absl::StatusOr<NewArticle> PrepareNewArticle(const Article& input, absl::Time now) {
  FieldViolations violations;
  ValidateArticleFields(input, "article", violations);
  if (!violations.empty()) return violations.ToStatus();
  NewArticle n;
  Article& a = n.article;
  CopyPaths(input, EditablePaths(), &a);
  if (a.body_format() == news::article::v1::BODY_FORMAT_UNSPECIFIED) {
    a.set_body_format(news::article::v1::MARKDOWN);
  }
  if (a.slug().empty()) {
    a.set_slug(SlugFromTitle(a.title()));
    n.slug_derived = true;
  }
  DeriveFields(&a);
  a.set_state(Article::DRAFT);
  *a.mutable_create_time() = ToProtoTime(now);
  *a.mutable_update_time() = ToProtoTime(now);
  a.set_revision(1);
  return n;
}

absl::StatusOr<std::vector<std::string>> ResolveUpdateMask(
    const Article& patch, const google::protobuf::FieldMask& mask) {
  std::vector<std::string> paths;
  if (mask.paths_size() == 0) {
    // AIP-134: an absent mask means every populated field.
    const google::protobuf::Reflection* r = patch.GetReflection();
    for (const std::string& p : EditablePaths()) {
      const FieldDescriptor* f = EditableField(p);
      if (f->is_repeated() ? r->FieldSize(patch, f) > 0 : r->HasField(patch, f)) {
        paths.push_back(p);
      }
    }
    if (paths.empty()) {
      return InvalidFieldError("update_mask", "names no field and the article sets none");
    }
    return paths;
  }
  FieldViolations violations;
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& p = mask.paths(i);
    const std::string field = absl::StrCat("update_mask.paths[", i, "]");
    if (p == "*") {
      for (const std::string& e : EditablePaths()) paths.push_back(e);
    } else if (!FieldMaskUtil::IsValidPath<Article>(p)) {
      violations.Add(field, absl::StrCat("unknown field \"", p, "\""));
    } else if (FieldMaskUtil::IsPathInFieldMask(p, EditableMask())) {
      paths.push_back(p);
    } else {
      violations.Add(field, absl::StrCat("\"", p,
                                         "\" cannot be updated: state and time fields change "
                                         "only through Publish, Unpublish, Delete and "
                                         "Undelete; the rest are output only"));
    }
  }
  if (!violations.empty()) return violations.ToStatus();
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

absl::StatusOr<Change> ApplyUpdate(const Article& current, const Article& patch,
                                   const std::vector<std::string>& paths, absl::Time now) {
  if (current.has_delete_time()) {
    return absl::FailedPreconditionError("the article is deleted; undelete it before editing");
  }
  Article next = current;
  CopyPaths(patch, paths, &next);
  if (next.body_format() == news::article::v1::BODY_FORMAT_UNSPECIFIED) {
    next.set_body_format(news::article::v1::MARKDOWN);
  }
  FieldViolations violations;
  ValidateArticleFields(next, "article", violations);
  if (!violations.empty()) return violations.ToStatus();
  bool slug_derived = false;
  if (next.slug().empty()) {
    next.set_slug(SlugFromTitle(next.title()));
    slug_derived = true;
  }
  DeriveFields(&next);
  std::vector<std::string> changed;
  for (const std::string& p : EditablePaths()) {
    if (!SameValue(current, next, p)) changed.push_back(p);
  }
  if (changed.empty()) {
    Change c;
    c.article = current;
    c.action = "update";
    c.noop = true;
    return c;
  }
  Change c = Changed(std::move(next), "update", std::move(changed), now);
  c.slug_derived = slug_derived && !SameValue(current, c.article, "slug");
  return c;
}

absl::StatusOr<Change> ApplyPublish(const Article& current, std::optional<absl::Time> at,
                                    absl::Time now) {
  if (current.has_delete_time()) {
    return absl::FailedPreconditionError("a deleted article cannot be published; undelete it first");
  }
  const bool live = IsLive(current, now);
  const bool schedule = at.has_value() && *at > now;
  if (!schedule) {
    if (live) {
      Change c;  // already published: publishing again changes nothing
      c.article = current;
      c.action = "publish";
      c.noop = true;
      return c;
    }
    Article next = current;
    next.set_state(Article::PUBLISHED);
    *next.mutable_publish_time() = ToProtoTime(now);
    return Changed(std::move(next), "publish", {"state", "publish_time"}, now);
  }
  if (live) {
    return absl::FailedPreconditionError(
        "the article is already published; unpublish it before scheduling it");
  }
  Article next = current;
  next.set_state(Article::SCHEDULED);
  *next.mutable_publish_time() = ToProtoTime(absl::FromUnixMicros(absl::ToUnixMicros(*at)));
  return Changed(std::move(next), "schedule", {"state", "publish_time"}, now);
}

absl::StatusOr<Change> ApplyUnpublish(const Article& current, absl::Time now) {
  if (current.has_delete_time()) {
    return absl::FailedPreconditionError("a deleted article cannot be unpublished");
  }
  if (current.state() == Article::DRAFT) {
    return absl::FailedPreconditionError("the article is a draft; there is nothing to unpublish");
  }
  Article next = current;
  next.set_state(Article::DRAFT);
  next.clear_publish_time();
  return Changed(std::move(next), "unpublish", {"state", "publish_time"}, now);
}

absl::StatusOr<Change> ApplyDelete(const Article& current, absl::Time now) {
  if (current.has_delete_time()) {
    return absl::FailedPreconditionError("the article is already deleted");
  }
  Article next = current;
  *next.mutable_delete_time() = ToProtoTime(now);
  return Changed(std::move(next), "delete", {"delete_time"}, now);
}

absl::StatusOr<Change> ApplyUndelete(const Article& current, absl::Time now) {
  if (!current.has_delete_time()) {
    return absl::FailedPreconditionError("the article is not deleted");
  }
  Article next = current;
  next.clear_delete_time();
  return Changed(std::move(next), "undelete", {"delete_time"}, now);
}

}  // namespace newsgrid::article
