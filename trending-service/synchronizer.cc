#include "trending-service/synchronizer.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "runtime/hold_timer.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/pg_pool.h"
#include "runtime/status_macros.h"
#include "runtime/worker_pool.h"

namespace newsgrid::trending {
namespace {

// The store's sizes and the flush backlog, as gauges (set by the
// synchronizer every few seconds), and the dedup marks dropped.
struct StoreGauges {
  prometheus::Gauge& articles;
  prometheus::Gauge& minute_rings;
  prometheus::Gauge& buckets;
  prometheus::Gauge& sketches;
  prometheus::Gauge& sketch_bytes;
  prometheus::Gauge& store_bytes;
  prometheus::Gauge& pending_marks;
  prometheus::Gauge& visitor_dedup;
  prometheus::Gauge& event_dedup;
  prometheus::Gauge& page_views;
  prometheus::Gauge& engaged_articles;
  prometheus::Gauge& readers;
  prometheus::Gauge& unflushed_views;
  prometheus::Gauge& backlog_deltas;
  prometheus::Gauge& backlog_marks;
  prometheus::Gauge& last_flush;
  prometheus::Gauge& horizon_full;
  prometheus::Gauge& horizon_mid;
  prometheus::Gauge& horizon_keep;
  prometheus::Gauge& rejected_full;
  prometheus::Gauge& unmerged;
  prometheus::Counter& dropped_marks;
  static StoreGauges& Get() {
    static StoreGauges* g = [] {
      auto& r = Metrics::Global().registry();
      auto gauge = [&r](const char* name, const char* help) -> prometheus::Gauge& {
        return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
      };
      auto& dedup = prometheus::BuildGauge()
                        .Name("trending_dedup_entries")
                        .Help("Keys held by the dedup filters (bounded by --dedup_max_entries).")
                        .Register(r);
      auto& horizons = prometheus::BuildGauge()
                           .Name("trending_sketch_precision_horizon_seconds")
                           .Help("Sketches of periods younger than this keep the precision "
                                 "(14, 11, 8; beyond the last they are dropped): the sketch "
                                 "memory bound at work.")
                           .Register(r);
      return new StoreGauges{
          gauge("trending_store_articles", "Articles held in memory (bounded by --max_articles)."),
          gauge("trending_store_minute_rings", "Articles with a ring of 1-minute buckets (views in the last 2 h)."),
          gauge("trending_store_buckets", "10-minute and hour buckets held in memory."),
          gauge("trending_store_sketches", "Unique-visitor sketches held in memory."),
          gauge("trending_store_sketch_bytes",
                "Bytes of the unique-visitor sketches (bounded by --sketch_memory_limit_mb)."),
          gauge("trending_store_bytes", "Estimated heap bytes of the store's articles, sketches included."),
          gauge("trending_store_pending_marks", "Dedup marks waiting for the next flush."),
          dedup.Add({{"filter", "visitor"}}),
          dedup.Add({{"filter", "event_id"}}),
          dedup.Add({{"filter", "page_view"}}),
          gauge("trending_store_engaged_articles", "Articles with engagement pings held in memory."),
          gauge("trending_store_readers",
                "Reader entries held for the concurrent-readers count (readers of up to about two "
                "--concurrent_window, as of the last maintenance)."),
          gauge("trending_unflushed_views",
                "Views accepted but not yet in PostgreSQL (ingest pushes back at --max_unflushed_views)."),
          gauge("trending_flush_backlog_deltas", "Bucket deltas taken by a flush but not yet in PostgreSQL."),
          gauge("trending_flush_backlog_marks", "Dedup marks taken by a flush but not yet in PostgreSQL."),
          gauge("trending_last_flush_timestamp_seconds", "When a flush last committed (Unix time)."),
          horizons.Add({{"precision", "14"}}),
          horizons.Add({{"precision", "11"}}),
          horizons.Add({{"precision", "8"}}),
          gauge("trending_store_full_rejections", "Views not counted because --max_articles was reached."),
          gauge("trending_log_packs_unmerged",
                "Flushed packs not yet merged into bucket_counts (as of the last compaction)."),
          prometheus::BuildCounter()
              .Name("trending_dedup_marks_dropped_total")
              .Help("Dedup marks not written to PostgreSQL because --dedup_max_entries marks "
                    "were already waiting for a flush: those views are deduplicated only by "
                    "the replica that counted them.")
              .Register(r)
              .Add({})};
    }();
    return *g;
  }
};

}  // namespace

void ApplyRestored(const RestoredState& state, ViewStore& store, Ingestor& ingestor) {
  store.ApplyDeltas(state.counts);
  for (const StoredSketch& s : state.sketches) {
    store.MergeSketch(s.article, s.start_min, s.width_min, s.sketch);
  }
  store.ApplyDeltas(state.raises);
  ingestor.RememberBatches(state.batch_ids);
  ingestor.RememberSeen(state.seen);
}

Synchronizer::Synchronizer(ViewStore& store, Ingestor& ingestor, PgStorage& storage,
                           SyncOptions options)
    : store_(store), ingestor_(ingestor), storage_(storage), options_(options) {
  storage_.SetSketchSource(this);
}

Synchronizer::~Synchronizer() {
  if (thread_.joinable()) Stop(absl::Now());
  storage_.SetSketchSource(nullptr);
}

int64_t Synchronizer::unflushed_views() const {
  return store_.pending_views() + unflushed_batch_views_.load();
}

void Synchronizer::WhenNotBacklogged(std::function<void()> resume) {
  {
    absl::MutexLock lock(&resume_mu_);
    if (Backlogged() && !stop_.HasBeenNotified()) {
      to_resume_.push_back(std::move(resume));
      return;
    }
  }
  resume();
}

void Synchronizer::ResumeIfClear(bool stopping) {
  std::vector<std::function<void()>> ready;
  {
    absl::MutexLock lock(&resume_mu_);
    if (to_resume_.empty() || (!stopping && Backlogged())) return;
    ready.swap(to_resume_);
  }
  for (auto& fn : ready) fn();
}

void Synchronizer::ExportGauges() {
  const StoreStats st = store_.Stats();
  const SketchHorizons h = store_.sketch_horizons();
  StoreGauges& g = StoreGauges::Get();
  g.articles.Set(static_cast<double>(st.articles));
  g.minute_rings.Set(static_cast<double>(st.minute_rings));
  g.buckets.Set(static_cast<double>(st.buckets));
  g.sketches.Set(static_cast<double>(st.sketches));
  g.sketch_bytes.Set(static_cast<double>(st.sketch_bytes));
  g.store_bytes.Set(static_cast<double>(st.bytes));
  g.pending_marks.Set(static_cast<double>(st.pending_marks));
  g.visitor_dedup.Set(static_cast<double>(ingestor_.visitor_dedup_entries()));
  g.event_dedup.Set(static_cast<double>(ingestor_.event_dedup_entries()));
  g.page_views.Set(static_cast<double>(ingestor_.page_view_entries()));
  g.engaged_articles.Set(static_cast<double>(st.engaged_articles));
  g.readers.Set(static_cast<double>(st.readers));
  g.unflushed_views.Set(static_cast<double>(unflushed_views()));
  g.last_flush.Set(static_cast<double>(last_flush_ns_.load()) * 1e-9);
  g.horizon_full.Set(h.full_min * 60.0);
  g.horizon_mid.Set(h.mid_min * 60.0);
  g.horizon_keep.Set(h.keep_min * 60.0);
  g.rejected_full.Set(static_cast<double>(st.rejected_full));
  g.unmerged.Set(static_cast<double>(packs_unmerged_.load()));
  g.backlog_deltas.Set(static_cast<double>(backlog_deltas_.load()));
  g.backlog_marks.Set(static_cast<double>(backlog_marks_.load()));
}

absl::Status Synchronizer::Restore(absl::Time deadline) {
  absl::Duration backoff = absl::Milliseconds(100);
  for (;;) {
    absl::StatusOr<RestoredState> state =
        storage_.Restore(store_.Now(), store_.options().retention,
                         ingestor_.options().dedup_window,
                         ingestor_.options().dedup_max_entries,
                         std::min(deadline, absl::Now() + options_.db_timeout));
    if (state.ok()) {
      ApplyRestored(*state, store_, ingestor_);
      high_water_ = state->high_water;
      NG_LOG_INFO("trending state restored",
                  {{"bucket_rows", state->counts.size()},
                   {"sketch_rows", state->sketches.size()},
                   {"dedup_marks", state->seen.size()},
                   {"high_water", state->high_water}});
      // Not needed to serve: the first compaction creates them too.
      if (absl::Status s = storage_.PrepareLogPartitions(
              std::min(deadline, absl::Now() + options_.db_timeout));
          !s.ok()) {
        NG_LOG_WARN("log partitions not created before serving",
                    {{"error", std::string(s.message())}});
      }
      return absl::OkStatus();
    }
    if (!IsRetryableDbError(state.status()) || absl::Now() + backoff > deadline) {
      return state.status();
    }
    NG_LOG_WARN("restore failed; retrying", {{"error", std::string(state.status().message())}});
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

void Synchronizer::Start() {
  thread_ = std::thread([this] {
    NameCurrentThread("trending-sync");
    NiceCurrentThread(5);
    Run();
  });
  housekeeping_ = std::thread([this] {
    NameCurrentThread("trending-house");
    NiceCurrentThread(10);
    RunHousekeeping();
  });
  compaction_ = std::thread([this] {
    NameCurrentThread("trending-compact");
    NiceCurrentThread(10);
    RunCompaction();
  });
}

// Flushes and polls: the loss bound and the replica staleness depend on
// them, so nothing else runs on this thread.
void Synchronizer::Run() {
  RateLimitedLog flush_errors(absl::Seconds(10));
  RateLimitedLog poll_errors(absl::Seconds(10));
  absl::Time next_flush = absl::Now() + options_.flush_interval;
  absl::Time next_poll = absl::Now() + options_.poll_interval;
  static HoldStats& flush = HoldStats::Get("flush");
  static HoldStats& poll = HoldStats::Get("poll");
  for (;;) {
    const absl::Time wake = std::min(next_flush, next_poll);
    if (stop_.WaitForNotificationWithTimeout(wake - absl::Now())) return;
    const absl::Time now = absl::Now();
    if (now >= next_flush) {
      next_flush = now + options_.flush_interval;
      ScopedHold hold(flush);
      if (absl::Status s = FlushOnce(now + options_.db_timeout); !s.ok()) {
        flush_errors.Log(LogLevel::kWarn, "flush failed; will retry",
                         {{"error", std::string(s.message())}});
      }
      ResumeIfClear(false);
    }
    if (now >= next_poll) {
      next_poll = now + options_.poll_interval;
      ScopedHold hold(poll);
      if (absl::Status s = PollOnce(now + options_.db_timeout); !s.ok()) {
        poll_errors.Log(LogLevel::kWarn, "poll failed; will retry",
                        {{"error", std::string(s.message())}});
      }
    }
  }
}

// Maintenance and gauges, every 5 s: the store's memory bound is kept by
// this loop, so it never waits for a compaction (a paced checkpoint after a
// backfill takes half a minute).
void Synchronizer::RunHousekeeping() {
  static HoldStats& maintenance = HoldStats::Get("maintenance_pass");
  for (;;) {
    {
      ScopedHold hold(maintenance);
      store_.Maintain();
      ingestor_.Maintain();
    }
    ExportGauges();
    if (stop_.WaitForNotificationWithTimeout(absl::Seconds(5))) return;
  }
}

// Compaction (merge, sketch checkpoint, trim, expiry) every
// --compact_interval: long steps at a lower priority that no flush, no
// request and no maintenance waits for.
void Synchronizer::RunCompaction() {
  absl::Time next_compact = absl::Now() + options_.compact_interval;
  absl::Time next_checkpoint = absl::Now() + options_.sketch_checkpoint_interval;
  static HoldStats& compaction = HoldStats::Get("compaction");
  for (;;) {
    if (stop_.WaitForNotificationWithTimeout(next_compact - absl::Now())) return;
    const absl::Time now = absl::Now();
    next_compact = now + options_.compact_interval;
    const bool checkpoint = now >= next_checkpoint;
    ScopedHold hold(compaction);
    absl::StatusOr<CompactResult> r = storage_.Compact(
        {.now = store_.Now(),
         .retention = store_.options().retention,
         .hot_half_life = store_.options().hot_half_life,
         .delta_log_retention = options_.delta_log_retention,
         .dedup_retention = ingestor_.options().dedup_window,
         .checkpoint_sketches = checkpoint,
         .cancel = &stop_},
        now + options_.db_timeout);
    if (!r.ok()) {
      NG_LOG_WARN("compaction failed", {{"error", std::string(r.status().message())}});
    } else if (r->ran) {
      if (checkpoint) next_checkpoint = now + options_.sketch_checkpoint_interval;
      packs_unmerged_ = r->packs_unmerged;
      // A backlog left: carry on after a pause rather than in 30 s. Not
      // for the packs flushed while the merge ran: under steady ingest
      // there always are some, and merging them a few at a time every
      // second upserted each (article, minute) row of bucket_counts many
      // times a minute (PostgreSQL's top cost under sustained ingest).
      if (r->merge_backlog) next_compact = std::min(next_compact, absl::Now() + absl::Seconds(1));
      NG_LOG_DEBUG("compacted", {{"packs_merged", r->packs_merged},
                                 {"sketches_checkpointed", r->sketch_rows_merged},
                                 {"sketch_statements", r->sketch_statements},
                                 {"log_trimmed", r->log_rows_trimmed},
                                 {"minutes_compacted", r->minute_rows_compacted},
                                 {"expired", r->rows_expired}});
    }
  }
}

absl::Status Synchronizer::FlushOnce(absl::Time deadline) {
  absl::MutexLock lock(&flush_mu_);
  // A failed flush is retried together with what came since.
  unflushed_.Absorb(store_.TakePending());
  unflushed_batch_views_ = unflushed_.views;
  // While PostgreSQL is unreachable marks pile up here: keep the newest.
  unflushed_.seen_dropped += unflushed_.seen.KeepNewest(store_.options().max_pending_seen);
  backlog_deltas_ = static_cast<int64_t>(unflushed_.deltas.size());
  backlog_marks_ = static_cast<int64_t>(unflushed_.seen.size());
  // The leading deltas of a backlog go in parts of their own; the batch ids,
  // the dedup marks and the last deltas go with the final part, after their
  // events.
  const size_t part = std::max<size_t>(1, options_.max_deltas_per_flush);
  while (unflushed_.deltas.size() > part) {
    PendingBatch head;
    head.deltas.assign(std::make_move_iterator(unflushed_.deltas.begin()),
                       std::make_move_iterator(unflushed_.deltas.begin() + part));
    if (absl::Status s = storage_.Flush(head, deadline); !s.ok()) {
      // Not written: the moved-from slots take their deltas back.
      std::move(head.deltas.begin(), head.deltas.end(), unflushed_.deltas.begin());
      return s;
    }
    // Views and pings (one reader entry each) were counted as events.
    for (const BucketDelta& d : head.deltas) {
      unflushed_.views -= d.views + static_cast<int64_t>(d.readers.size());
    }
    ++packs_unmerged_;
    unflushed_batch_views_ = unflushed_.views;
    unflushed_.deltas.erase(unflushed_.deltas.begin(), unflushed_.deltas.begin() + part);
    ++parts_flushed_;
  }
  absl::Status status = storage_.Flush(unflushed_, deadline);
  RETURN_IF_ERROR(status);
  if (unflushed_.seen_dropped > 0) {
    StoreGauges::Get().dropped_marks.Increment(static_cast<double>(unflushed_.seen_dropped));
    dropped_marks_log_.Log(LogLevel::kWarn,
                           "dedup marks dropped (over the pending bound); those views are "
                           "deduplicated only by this replica",
                           {{"dropped", static_cast<int64_t>(unflushed_.seen_dropped)}});
  }
  const uint64_t seq = unflushed_.flush_seq;
  if (!unflushed_.deltas.empty()) ++packs_unmerged_;
  unflushed_ = PendingBatch();
  unflushed_batch_views_ = 0;
  backlog_deltas_ = 0;
  backlog_marks_ = 0;
  last_flush_ns_ = absl::GetCurrentTimeNanos();
  durable_seq_ = std::max(durable_seq_.load(), seq);
  Notify(absl::OkStatus());
  return absl::OkStatus();
}

absl::Status Synchronizer::PollOnce(absl::Time deadline) {
  ASSIGN_OR_RETURN(const PollResult r, storage_.Poll(high_water_.load(), deadline));
  if (r.gap && !gap_.exchange(true)) {
    NG_LOG_ERROR("missed deltas of other replicas (the log was trimmed); restart to restore",
                 {{"high_water", high_water_.load()}});
  }
  store_.ApplyDeltas(r.deltas);
  ingestor_.RememberBatches(r.batch_ids);
  ingestor_.RememberSeen(r.seen);
  high_water_ = r.high_water;
  return absl::OkStatus();
}

absl::Status Synchronizer::Healthy() const {
  if (gap_.load()) {
    return absl::FailedPreconditionError("missed deltas of other replicas; restart to restore");
  }
  return absl::OkStatus();
}

void Synchronizer::WhenDurable(uint64_t ticket, DurableCallback done) {
  {
    absl::MutexLock lock(&waiters_mu_);
    if (!stopped_ && ticket > durable_seq_.load()) {
      waiters_.emplace(ticket, std::move(done));
      return;
    }
  }
  done(ticket <= durable_seq_.load()
           ? absl::OkStatus()
           : absl::UnavailableError("shutting down before the views were stored"));
}

void Synchronizer::Notify(absl::Status status) {
  std::vector<DurableCallback> ready;
  {
    absl::MutexLock lock(&waiters_mu_);
    const uint64_t durable = durable_seq_.load();
    auto end = status.ok() ? waiters_.upper_bound(durable) : waiters_.end();
    for (auto it = waiters_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
    waiters_.erase(waiters_.begin(), end);
  }
  for (auto& fn : ready) fn(status);
}

void Synchronizer::Stop(absl::Time deadline) {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  // The final flush does not wait for a compaction in progress (it runs on
  // its own connection under a lock no flush takes); the housekeeping
  // thread is joined after it.
  if (thread_.joinable()) thread_.join();
  absl::Status status;
  absl::Duration backoff = absl::Milliseconds(100);
  for (;;) {
    // Each attempt may take a whole db_timeout, and attempts go on past
    // `deadline` while they make progress (a large backlog written part by
    // part): views already acknowledged are worth a slower exit.
    const uint64_t parts_before = parts_flushed_.load();
    status = FlushOnce(std::max(deadline, absl::Now() + options_.db_timeout));
    if (status.ok()) break;
    const bool progressed = parts_flushed_.load() > parts_before;
    if (!progressed && absl::Now() + backoff > deadline) break;
    if (!progressed) {
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(1));
    }
  }
  if (housekeeping_.joinable()) housekeeping_.join();
  if (compaction_.joinable()) compaction_.join();
  if (status.ok()) {
    NG_LOG_INFO("final flush done", {{"flush_seq", static_cast<int64_t>(durable_seq_.load())}});
  } else {
    NG_LOG_ERROR("final flush failed; unflushed views are lost",
                 {{"error", std::string(status.message())}});
  }
  {
    absl::MutexLock lock(&waiters_mu_);
    stopped_ = true;
  }
  Notify(absl::UnavailableError("shutting down before the views were stored"));
  ResumeIfClear(/*stopping=*/true);
}

}  // namespace newsgrid::trending
