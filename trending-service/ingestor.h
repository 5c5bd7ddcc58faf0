// The ingest pipeline: one view event through validation, the bot and time
// rules, event-id and visitor dedup, into the ViewStore. Pure memory work
// under striped locks, so it runs inline on gRPC callback threads.
//
// Order of the rules: malformed fields (INVALID_ARTICLE / INVALID_FIELD),
// then bots, then time (FROM_FUTURE / TOO_OLD), then a repeated event id,
// then a repeat view of the same article by the same visitor within the
// dedup window (counted once: measured from the counted view, not sliding).
// Events without a visitor id count but never dedup and add no unique
// visitor. Last, the rate limits: a visitor (all articles) and a source
// (the caller's address, per article) may have at most so many counted
// views a minute; the excess is RATE_LIMITED (reported, never ranked), so
// one client cannot inflate an article by rotating visitor ids or sending
// none.
//
// Engagement pings (kind kEngagement) follow the same path with their own
// rules (the proto's EventKind.ENGAGEMENT): the page view must be known (a
// VIEW with that page_view_id of the same article, registered by any
// replica, kept alive by its pings), at most one ping per page view per
// `min_ping_interval`, a ping time at most `max_ping_age` old, engaged
// seconds capped at `max_engaged_per_ping`. Visitor dedup does not apply;
// event ids, bots and rate limits do. Page views and pings leave marks
// flushed like the dedup marks, so every replica applies the same rules.
//
// Batch ids (RecordViews retries) are remembered for the dedup window, made
// durable with the flush that holds the batch's events, and learnt from
// other replicas through PostgreSQL. Visitor and event-id dedup work the
// same way: every counted view leaves its dedup keys with its count in the
// store (ViewStore::Add), they are flushed with it, and the other replicas
// (and this service after a restart) apply them through RememberSeen; the
// guarantee and its bound are in synchronizer.h.
//
//   Ingestor ingest(store, clock, hasher, options);
//   uint64_t ticket = 0;
//   Verdict v = ingest.Record(raw_view, &ticket);
#ifndef NEWSGRID_TRENDING_SERVICE_INGESTOR_H_
#define NEWSGRID_TRENDING_SERVICE_INGESTOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "runtime/clock.h"
#include "trending-service/article_metadata.h"
#include "trending-service/ingest_rules.h"
#include "trending-service/view_source.h"
#include "trending-service/view_store.h"
#include "trending-service/visitor_hash.h"

namespace newsgrid::trending {

struct IngestOptions {
  TimeRules time;
  absl::Duration dedup_window = absl::Minutes(30);
  size_t dedup_max_entries = size_t{1} << 22;
  BotRules bots = BotRules::Parse(BotRules::kDefaultPatterns);
  // Counted views per visitor id per minute, all articles together; 0: off.
  int64_t max_views_per_visitor_per_minute = 0;
  // Counted views per source and article per minute; 0: off.
  int64_t max_views_per_source_per_minute = 0;
  // Keys each rate limiter tracks per minute (memory bound).
  size_t rate_limit_max_keys = size_t{1} << 20;
  // Engagement pings: at most one per page view this often; engaged time
  // per ping capped (the page's ping interval plus slack); pings older
  // than max_ping_age are TOO_OLD.
  absl::Duration min_ping_interval = absl::Seconds(10);
  absl::Duration max_engaged_per_ping = absl::Seconds(20);
  absl::Duration max_ping_age = absl::Minutes(5);
  // Page views (and ping intervals) remembered, memory bound of each filter.
  size_t max_page_views = size_t{1} << 21;
};

// What an event reports (mirrors news.trending.v1.EventKind).
enum class EventKind { kView, kEngagement };

// One event as received (views into the request; nothing is copied).
struct RawView {
  absl::string_view article_name;  // "articles/{article}"
  absl::Time view_time = absl::InfinitePast();  // unset: now
  absl::string_view visitor_id;
  absl::string_view referrer;
  absl::string_view user_agent;
  absl::string_view event_id;
  const ArticleMetadata* metadata = nullptr;
  // Who sent it (the caller's address); empty: no per-source limit.
  absl::string_view source;
  EventKind kind = EventKind::kView;
  bool kind_known = true;  // false: a kind this version does not know
  absl::string_view page_view_id;
  // Engagement only; unset: -InfiniteDuration.
  absl::Duration engaged = -absl::InfiniteDuration();
};

// A field of a view that breaks the proto's limits: its path in the
// ViewEvent ("article", "metadata.tags[3]") and what is wrong.
struct FieldProblem {
  std::string field;
  std::string description;
  bool operator==(const FieldProblem&) const = default;
};

// Every malformed field of `view` (empty: well-formed). The unary
// RecordView answers these as INVALID_ARGUMENT naming the fields; in
// RecordViews batches they are per-event rejections (INVALID_ARTICLE when
// the article name is among them, else INVALID_FIELD).
std::vector<FieldProblem> CheckViewFields(const RawView& view);

enum class Outcome { kAccepted, kDeduplicated, kRejected };

struct Verdict {
  Outcome outcome = Outcome::kAccepted;
  RejectReason reason = RejectReason::kNone;
};

class Ingestor final : public ViewSink {
 public:
  Ingestor(ViewStore& store, const Clock& clock, const VisitorHasher& hasher,
           IngestOptions options);

  // Applies the rules and counts the view when accepted; raises *ticket to
  // the flush ticket of a counted view.
  Verdict Record(const RawView& view, uint64_t* ticket) override;

  // Record for a batch (a RecordViews message): the same rules per view, in
  // order, with each lock of the dedup filters, rate limiters and store
  // taken once per shard for the whole batch rather than once per view.
  void RecordBatch(absl::Span<const RawView> views, Verdict* verdicts, uint64_t* ticket);

  // True when `batch_id` was seen within the dedup window (its events must
  // not be counted again). Otherwise reserves it.
  bool BatchSeen(const std::string& batch_id);
  // After a new batch's events are counted: makes the id durable with them.
  uint64_t CommitBatch(const std::string& batch_id);
  // Ids learnt from PostgreSQL (restore, other replicas).
  void RememberBatches(const std::vector<std::string>& batch_ids);
  // Dedup marks of views counted elsewhere (other replicas, or before a
  // restart): repeats of them within the dedup window are deduplicated.
  void RememberSeen(const SeenMarks& marks);
  // Forgets batch ids older than the dedup window.
  void Maintain();

  const IngestOptions& options() const { return options_; }
  // Entries held by the visitor and the event-id dedup filters.
  size_t visitor_dedup_entries() const { return visitor_dedup_.size(); }
  size_t event_dedup_entries() const { return event_id_dedup_.size(); }
  size_t page_view_entries() const { return page_views_.size(); }

 private:
  // Counts the pings that passed the rules (index: their place in the
  // batch) and refreshes their page views.
  void CountPings(absl::Span<const PingToCount> pings, absl::Span<const uint32_t> index,
                  Verdict* verdicts, uint64_t* ticket);

  ViewStore& store_;
  const Clock& clock_;
  const VisitorHasher& hasher_;
  const IngestOptions options_;
  DedupFilter visitor_dedup_;
  DedupFilter event_id_dedup_;
  // Page views known (key -> latest view or ping time) and the last
  // counted ping of each (the interval rule).
  DedupFilter page_views_;
  DedupFilter pings_;
  RateLimiter visitor_limit_;
  RateLimiter source_limit_;
  absl::Mutex batches_mu_;
  absl::flat_hash_map<std::string, absl::Time> batches_ ABSL_GUARDED_BY(batches_mu_);
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_INGESTOR_H_
