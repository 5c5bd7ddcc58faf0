#include "trending-service/ingestor.h"

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace newsgrid::trending {
namespace {

constexpr uint64_t kEventIdKey0 = 0x6576656e742d6964ULL;
constexpr uint64_t kEventIdKey1 = 0x64656475702d6b31ULL;
constexpr uint64_t kArticleKey0 = 0x61727469636c652dULL;
constexpr uint64_t kArticleKey1 = 0x64656475702d6b32ULL;
constexpr uint64_t kSourceKey0 = 0x736f757263652d6bULL;
constexpr uint64_t kSourceKey1 = 0x726174652d6c696dULL;
constexpr uint64_t kPageViewKey0 = 0x706167652d766965ULL;
constexpr uint64_t kPageViewKey1 = 0x772d696420686173ULL;

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
  CheckLength(view.page_view_id, kMaxPageViewIdLength, "page_view_id", out);
  if (!view.kind_known) out.push_back({"kind", "is not a known event kind"});
  if (view.kind == EventKind::kEngagement) {
    if (view.page_view_id.empty()) {
      out.push_back({"page_view_id", "is required for an ENGAGEMENT event"});
    }
    if (view.engaged == -absl::InfiniteDuration()) {
      out.push_back({"engaged_duration", "is required for an ENGAGEMENT event"});
    } else if (view.engaged < absl::ZeroDuration()) {
      out.push_back({"engaged_duration", "must not be negative"});
    }
  } else if (view.engaged != -absl::InfiniteDuration()) {
    out.push_back({"engaged_duration", "is only for ENGAGEMENT events"});
  }
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
      page_views_(options_.dedup_window, options_.max_page_views),
      pings_(options_.min_ping_interval, options_.max_page_views),
      visitor_limit_(options_.max_views_per_visitor_per_minute, options_.rate_limit_max_keys),
      source_limit_(options_.max_views_per_source_per_minute, options_.rate_limit_max_keys) {}

Verdict Ingestor::Record(const RawView& view, uint64_t* ticket) {
  Verdict v;
  RecordBatch(absl::MakeConstSpan(&view, 1), &v, ticket);
  return v;
}

void Ingestor::RecordBatch(absl::Span<const RawView> views, Verdict* verdicts,
                           uint64_t* ticket) {
  const size_t n = views.size();
  if (n == 0) return;
  const absl::Time now = clock_.Now();
  // Per view: the rules that need no lock, then each filter over the
  // survivors. A zero key means "not concerned" to the batch calls. The
  // arrays are the thread's, reused from batch to batch.
  struct Scratch {
    std::vector<uint64_t> event_keys, visitor_keys, visitor_hashes, limit_keys, source_keys,
        article_hashes, page_view_keys;
    std::vector<int64_t> times_ns;
    std::vector<absl::Time> times;
    std::vector<absl::string_view> articles;
    std::vector<char> flags;
    std::vector<ViewToCount> to_count;
    std::vector<PingToCount> pings;
    std::vector<uint32_t> index, ping_index;
    std::vector<char> counted;
  };
  thread_local Scratch scratch;
  Scratch& w = scratch;
  for (auto* v : {&w.event_keys, &w.visitor_keys, &w.visitor_hashes, &w.limit_keys,
                  &w.source_keys, &w.article_hashes, &w.page_view_keys}) {
    v->assign(n, 0);
  }
  w.times_ns.assign(n, 0);
  w.times.assign(n, absl::Time());
  w.articles.assign(n, absl::string_view());
  w.flags.assign(n, 0);
  std::vector<uint64_t>& event_keys = w.event_keys;
  std::vector<uint64_t>& visitor_keys = w.visitor_keys;
  std::vector<uint64_t>& visitor_hashes = w.visitor_hashes;
  std::vector<uint64_t>& limit_keys = w.limit_keys;
  std::vector<uint64_t>& source_keys = w.source_keys;
  std::vector<uint64_t>& article_hashes = w.article_hashes;
  std::vector<uint64_t>& page_view_keys = w.page_view_keys;
  const TimeRules ping_time{options_.time.max_clock_skew, options_.max_ping_age};
  std::vector<int64_t>& times_ns = w.times_ns;
  std::vector<absl::Time>& times = w.times;
  std::vector<absl::string_view>& articles = w.articles;
  bool* flags = reinterpret_cast<bool*>(w.flags.data());
  for (size_t i = 0; i < n; ++i) {
    const RawView& view = views[i];
    Verdict& v = verdicts[i];
    v = {Outcome::kAccepted, RejectReason::kNone};
    const std::optional<absl::string_view> article = ParseArticleName(view.article_name);
    if (!article) {
      v = {Outcome::kRejected, RejectReason::kInvalidArticle};
      continue;
    }
    if (!CheckViewFields(view).empty()) {
      v = {Outcome::kRejected, RejectReason::kInvalidField};
      continue;
    }
    if (options_.bots.IsBot(view.user_agent)) {
      v = {Outcome::kRejected, RejectReason::kBot};
      continue;
    }
    const bool ping = view.kind == EventKind::kEngagement;
    const TimeCheck t = CheckViewTime(view.view_time, now, ping ? ping_time : options_.time);
    if (t.reason != RejectReason::kNone) {
      v = {Outcome::kRejected, t.reason};
      continue;
    }
    articles[i] = *article;
    times[i] = t.time;
    times_ns[i] = absl::ToUnixNanos(t.time);
    if (!view.event_id.empty()) event_keys[i] = SipHash24(kEventIdKey0, kEventIdKey1, view.event_id);
  }
  // A repeated event id, then a repeat view of an article by its visitor.
  event_id_dedup_.SeenWithinBatch(event_keys, times_ns, now, flags);
  for (size_t i = 0; i < n; ++i) {
    if (verdicts[i].outcome != Outcome::kAccepted) continue;
    if (event_keys[i] != 0 && flags[i]) {
      verdicts[i] = {Outcome::kDeduplicated, RejectReason::kNone};
      continue;
    }
    article_hashes[i] = SipHash24(kArticleKey0, kArticleKey1, articles[i]);
    if (!views[i].page_view_id.empty()) {
      page_view_keys[i] = MixHash(SipHash24(kPageViewKey0, kPageViewKey1, views[i].page_view_id),
                                  article_hashes[i]);
    }
    if (!views[i].visitor_id.empty()) {
      visitor_hashes[i] = hasher_.Hash(views[i].visitor_id, times[i]);
      // Every ping of a page view counts: no visitor dedup for pings.
      if (views[i].kind == EventKind::kView) {
        visitor_keys[i] = MixHash(visitor_hashes[i], article_hashes[i]);
      }
    }
  }
  visitor_dedup_.SeenWithinBatch(visitor_keys, times_ns, now, flags);
  // Repeats were answered above, so only views that would count use up a
  // budget. Processing time, not event time: a backlog of old events sent
  // at once is still a burst.
  for (size_t i = 0; i < n; ++i) {
    if (verdicts[i].outcome != Outcome::kAccepted) continue;
    if (visitor_keys[i] != 0 && flags[i]) {
      verdicts[i] = {Outcome::kDeduplicated, RejectReason::kNone};
      continue;
    }
    if (!views[i].visitor_id.empty() && visitor_limit_.enabled()) limit_keys[i] = visitor_hashes[i];
  }
  visitor_limit_.AllowBatch(limit_keys, now, flags);
  for (size_t i = 0; i < n; ++i) {
    if (verdicts[i].outcome != Outcome::kAccepted) continue;
    if (limit_keys[i] != 0 && !flags[i]) {
      verdicts[i] = {Outcome::kRejected, RejectReason::kRateLimited};
      continue;
    }
    if (!views[i].source.empty() && source_limit_.enabled()) {
      source_keys[i] = MixHash(SipHash24(kSourceKey0, kSourceKey1, views[i].source), article_hashes[i]);
    }
  }
  source_limit_.AllowBatch(source_keys, now, flags);
  // Only counted views leave marks: they are what other replicas must not
  // count again.
  std::vector<ViewToCount>& to_count = w.to_count;
  std::vector<PingToCount>& pings = w.pings;
  std::vector<uint32_t>& index = w.index;
  std::vector<uint32_t>& ping_index = w.ping_index;
  to_count.clear();
  pings.clear();
  index.clear();
  ping_index.clear();
  // Page views register with their VIEW, counted or deduplicated (a reload
  // is a new page view of a view counted before); a ping may follow its
  // view in the same batch.
  std::vector<SeenMark> page_view_marks;
  absl::flat_hash_set<uint64_t> batch_page_views;
  auto register_page_view = [&](size_t i) {
    if (page_view_keys[i] == 0) return;
    page_view_marks.push_back({page_view_keys[i], times_ns[i]});
    batch_page_views.insert(page_view_keys[i]);
  };
  for (size_t i = 0; i < n; ++i) {
    if (verdicts[i].outcome == Outcome::kDeduplicated && views[i].kind == EventKind::kView) {
      register_page_view(i);
    }
    if (verdicts[i].outcome != Outcome::kAccepted) continue;
    if (source_keys[i] != 0 && !flags[i]) {
      verdicts[i] = {Outcome::kRejected, RejectReason::kRateLimited};
      continue;
    }
    if (views[i].kind == EventKind::kEngagement) {
      // The page view must be known; then the interval rule (which records
      // the ping's time when it passes).
      if (!batch_page_views.contains(page_view_keys[i]) &&
          !page_views_.Holds(page_view_keys[i], times[i])) {
        verdicts[i] = {Outcome::kRejected, RejectReason::kUnknownPageView};
        continue;
      }
      if (pings_.SeenWithin(page_view_keys[i], times[i], now)) {
        verdicts[i] = {Outcome::kRejected, RejectReason::kTooFrequent};
        continue;
      }
      const absl::Duration engaged = std::min(views[i].engaged, options_.max_engaged_per_ping);
      // Without a visitor id the page view stands for its reader.
      const uint64_t reader = views[i].visitor_id.empty() ? page_view_keys[i] : visitor_hashes[i];
      pings.push_back({articles[i], times[i], reader,
                       absl::ToInt64Seconds(engaged + absl::Milliseconds(500)), views[i].metadata,
                       {0, event_keys[i], page_view_keys[i]}});
      ping_index.push_back(static_cast<uint32_t>(i));
      continue;
    }
    register_page_view(i);
    to_count.push_back({articles[i], times[i], visitor_hashes[i], !views[i].visitor_id.empty(),
                        views[i].metadata, {visitor_keys[i], event_keys[i]}});
    index.push_back(static_cast<uint32_t>(i));
  }
  if (!pings.empty()) CountPings(pings, ping_index, verdicts, ticket);
  if (!page_view_marks.empty()) {
    page_views_.Remember(page_view_marks, now);
    *ticket = std::max(*ticket, store_.AddPageViews(page_view_marks));
  }
  if (to_count.empty()) return;
  w.counted.assign(to_count.size(), 0);
  bool* counted = reinterpret_cast<bool*>(w.counted.data());
  const uint64_t tk = store_.AddBatch(to_count, counted);
  std::vector<uint64_t> forget_visitors, forget_events;  // rare: empty, no allocation
  for (size_t j = 0; j < to_count.size(); ++j) {
    if (counted[j]) continue;
    // Not counted (the store is full): its repeat must not be taken for one.
    verdicts[index[j]] = {Outcome::kRejected, RejectReason::kStoreFull};
    forget_visitors.push_back(to_count[j].keys.visitor);
    forget_events.push_back(to_count[j].keys.event);
  }
  visitor_dedup_.Forget(forget_visitors);
  event_id_dedup_.Forget(forget_events);
  if (forget_visitors.size() < to_count.size()) *ticket = std::max(*ticket, tk);
}

void Ingestor::CountPings(absl::Span<const PingToCount> pings, absl::Span<const uint32_t> index,
                          Verdict* verdicts, uint64_t* ticket) {
  std::vector<char> counted_flags(pings.size(), 0);
  bool* counted = reinterpret_cast<bool*>(counted_flags.data());
  const uint64_t tk = store_.AddPings(pings, counted);
  std::vector<SeenMark> alive;
  std::vector<uint64_t> forget_pings, forget_events;
  for (size_t j = 0; j < pings.size(); ++j) {
    if (counted[j]) {
      alive.push_back({pings[j].keys.ping, absl::ToUnixNanos(pings[j].time)});
      continue;
    }
    verdicts[index[j]] = {Outcome::kRejected, RejectReason::kStoreFull};
    forget_pings.push_back(pings[j].keys.ping);
    forget_events.push_back(pings[j].keys.event);
  }
  // A counted ping keeps its page view known.
  page_views_.Remember(alive, clock_.Now());
  pings_.Forget(forget_pings);
  event_id_dedup_.Forget(forget_events);
  if (!alive.empty()) *ticket = std::max(*ticket, tk);
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
  page_views_.Remember(marks.page_views, now);
  page_views_.Remember(marks.pings, now);
  pings_.Remember(marks.pings, now);
}

void Ingestor::Maintain() {
  const absl::Time cutoff = clock_.Now() - options_.dedup_window;
  absl::MutexLock lock(&batches_mu_);
  absl::erase_if(batches_, [&](const auto& e) { return e.second < cutoff; });
}

}  // namespace newsgrid::trending
