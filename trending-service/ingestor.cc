#include "trending-service/ingestor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace newsgrid::trending {
namespace {

constexpr uint64_t kEventIdKey0 = 0x6576656e742d6964ULL;
constexpr uint64_t kEventIdKey1 = 0x64656475702d6b31ULL;
constexpr uint64_t kArticleKey0 = 0x61727469636c652dULL;
constexpr uint64_t kArticleKey1 = 0x64656475702d6b32ULL;
constexpr uint64_t kSourceKey0 = 0x736f757263652d6bULL;
constexpr uint64_t kSourceKey1 = 0x726174652d6c696dULL;

void CheckLength(absl::string_view value, size_t max, std::string field,
                 std::vector<FieldProblem>& out) {
  if (value.size() > max) {
    out.push_back({std::move(field), absl::StrCat("is longer than ", max, " characters")});
  }
}

}  // namespace

std::vector<FieldProblem> CheckViewFields(const RawView& view) {
  std::vector<FieldProblem> out;
  if (!ParseArticleName(view.article_name)) {
    out.push_back({"article", absl::StrCat("must be \"articles/{article}\" with 1 to ",
                                           kMaxArticleIdLength, " of [A-Za-z0-9_-]")});
  }
  CheckLength(view.visitor_id, kMaxVisitorIdLength, "visitor_id", out);
  CheckLength(view.referrer, kMaxReferrerLength, "referrer", out);
  CheckLength(view.user_agent, kMaxUserAgentLength, "user_agent", out);
  CheckLength(view.event_id, kMaxEventIdLength, "event_id", out);
  if (view.metadata != nullptr) {
    const ArticleMetadata& m = *view.metadata;
    CheckLength(m.section, kMaxSectionLength, "metadata.section", out);
    for (auto [name, list] : {std::pair{"tags", &m.tags}, std::pair{"authors", &m.authors}}) {
      if (list->size() > kMaxMetadataValues) {
        out.push_back({absl::StrCat("metadata.", name),
                       absl::StrCat("has more than ", kMaxMetadataValues, " values")});
        continue;
      }
      for (size_t i = 0; i < list->size(); ++i) {
        CheckLength((*list)[i], kMaxMetadataValueLength,
                    absl::StrCat("metadata.", name, "[", i, "]"), out);
      }
    }
  }
  return out;
}

Ingestor::Ingestor(ViewStore& store, const Clock& clock, const VisitorHasher& hasher,
                   IngestOptions options)
    : store_(store),
      clock_(clock),
      hasher_(hasher),
      options_(std::move(options)),
      visitor_dedup_(options_.dedup_window, options_.dedup_max_entries),
      event_id_dedup_(options_.dedup_window, options_.dedup_max_entries / 4),
      visitor_limit_(options_.max_views_per_visitor_per_minute, options_.rate_limit_max_keys),
      source_limit_(options_.max_views_per_source_per_minute, options_.rate_limit_max_keys) {}

Verdict Ingestor::Record(const RawView& view, uint64_t* ticket) {
  const std::optional<absl::string_view> article = ParseArticleName(view.article_name);
  if (!article) return {Outcome::kRejected, RejectReason::kInvalidArticle};
  if (!CheckViewFields(view).empty()) return {Outcome::kRejected, RejectReason::kInvalidField};
  if (options_.bots.IsBot(view.user_agent)) return {Outcome::kRejected, RejectReason::kBot};
  const absl::Time now = clock_.Now();
  const TimeCheck t = CheckViewTime(view.view_time, now, options_.time);
  if (t.reason != RejectReason::kNone) return {Outcome::kRejected, t.reason};
  DedupKeys keys;
  if (!view.event_id.empty()) {
    keys.event = SipHash24(kEventIdKey0, kEventIdKey1, view.event_id);
    if (event_id_dedup_.SeenWithin(keys.event, t.time, now)) {
      return {Outcome::kDeduplicated, RejectReason::kNone};
    }
  }
  const bool has_visitor = !view.visitor_id.empty();
  uint64_t visitor_hash = 0;
  const uint64_t article_hash = SipHash24(kArticleKey0, kArticleKey1, *article);
  if (has_visitor) {
    visitor_hash = hasher_.Hash(view.visitor_id, t.time);
    keys.visitor = MixHash(visitor_hash, article_hash);
    if (visitor_dedup_.SeenWithin(keys.visitor, t.time, now)) {
      return {Outcome::kDeduplicated, RejectReason::kNone};
    }
  }
  // Repeats were answered above, so only views that would count use up a
  // budget. Processing time, not event time: a backlog of old events sent
  // at once is still a burst.
  if (has_visitor && visitor_limit_.enabled() && !visitor_limit_.Allow(visitor_hash, now)) {
    return {Outcome::kRejected, RejectReason::kRateLimited};
  }
  if (!view.source.empty() && source_limit_.enabled() &&
      !source_limit_.Allow(MixHash(SipHash24(kSourceKey0, kSourceKey1, view.source), article_hash),
                           now)) {
    return {Outcome::kRejected, RejectReason::kRateLimited};
  }
  // Only counted views leave marks: they are what other replicas must not
  // count again.
  const uint64_t tk =
      store_.Add(*article, t.time, visitor_hash, has_visitor, view.metadata, keys);
  *ticket = std::max(*ticket, tk);
  return {Outcome::kAccepted, RejectReason::kNone};
}

bool Ingestor::BatchSeen(const std::string& batch_id) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&batches_mu_);
  auto [it, inserted] = batches_.try_emplace(batch_id, now);
  if (inserted) return false;
  if (now - it->second < options_.dedup_window) return true;
  it->second = now;
  return false;
}

uint64_t Ingestor::CommitBatch(const std::string& batch_id) { return store_.AddBatchId(batch_id); }

void Ingestor::RememberBatches(const std::vector<std::string>& batch_ids) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&batches_mu_);
  for (const std::string& id : batch_ids) batches_.insert_or_assign(id, now);
}

void Ingestor::RememberSeen(const SeenMarks& marks) {
  const absl::Time now = clock_.Now();
  visitor_dedup_.Remember(marks.visitors, now);
  event_id_dedup_.Remember(marks.events, now);
}

void Ingestor::Maintain() {
  const absl::Time cutoff = clock_.Now() - options_.dedup_window;
  absl::MutexLock lock(&batches_mu_);
  absl::erase_if(batches_, [&](const auto& e) { return e.second < cutoff; });
}

}  // namespace newsgrid::trending
