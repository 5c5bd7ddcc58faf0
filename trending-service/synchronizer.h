// The background threads between the in-memory store and PostgreSQL: one
// flushes pending deltas every --flush_interval and polls the other
// replicas' deltas every --poll_interval; one (housekeeping) runs the
// in-memory maintenance that keeps the memory bounds, every 5 s; one
// compacts the tables every --compact_interval (checkpointing the changed
// sketches every --sketch_checkpoint_interval), so a long compaction delays
// neither a flush nor the maintenance. Nothing here runs on gRPC threads,
// and all run at a lower priority (nice 5, 10 and 10), so request threads
// get the cores first.
//
// Loss bound: a view is durable once the flush after it commits, so a
// crash (kill -9) loses the views not flushed yet: those of the last flush
// interval (plus a flush in progress) while PostgreSQL keeps up, and never
// more than --max_unflushed_views while it lags or is away: at that bound
// ingest pushes back (Backlogged(); RecordViews reads its stream more
// slowly, RecordView answers RESOURCE_EXHAUSTED) until flushes catch up. A
// graceful stop flushes everything (Stop). With ack-after-flush, callers
// register WhenDurable(ticket, ...) and answer their client only then, so
// nothing acknowledged is lost.
//
// Staleness between replicas: a view recorded on replica A is in replica
// B's rankings after at most flush_interval + poll_interval plus the two
// round trips (about 1.6 s with the defaults of 1 s and 500 ms).
//
// Dedup across replicas and restarts. Each flush also writes the dedup
// marks (ingest_rules.h SeenMark: 64-bit key of (article, salted visitor
// hash) or of the event id, with the view time) of the views it counts, in
// the same transaction; polls apply the other replicas' marks to the
// ingestor's filters and Restore loads those flushed within the last
// dedup window. Guaranteed: a repeat view of a pair (or a retried event
// id) within the dedup window is counted once across replicas and restarts
// (graceful or kill -9), measured from the counted view's time as on one
// replica. Exceptions, by design:
//   - two views of the same pair that reach different replicas within the
//     staleness bound above (flush + poll interval, ~1.6 s) can both count:
//     neither replica has the other's mark yet;
//   - after kill -9 the marks of the last unflushed interval are lost
//     together with their counts (the views are lost, so a repeat of them
//     counts once again: the totals stay consistent);
//   - marks are bounded like the filter (--dedup_max_entries): at most that
//     many wait for a flush (the newest are kept while PostgreSQL is down),
//     and Restore loads at most that many, the newest; beyond, the dedup
//     window shrinks just as it does on one replica under overload.
// Volume: 16 bytes per counted view with a visitor id and per counted view
// with an event id, one seen_log row per flush, kept in PostgreSQL for the
// dedup window (e.g. 1,000 counted views/s: ~16 KB/s, ~29 MB per 30 min),
// and read by every other replica once.
//
//   Synchronizer sync(store, ingestor, storage, options);
//   RETURN_IF_ERROR(sync.Restore(deadline));   // before serving
//   sync.Start();
//   sync.WhenDurable(ticket, [](absl::Status s) { ... });
//   sync.Stop(deadline);                       // final flush
#ifndef NEWSGRID_TRENDING_SERVICE_SYNCHRONIZER_H_
#define NEWSGRID_TRENDING_SERVICE_SYNCHRONIZER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "runtime/logging.h"
#include "trending-service/ingestor.h"
#include "trending-service/pg_storage.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

struct SyncOptions {
  absl::Duration flush_interval = absl::Seconds(1);
  absl::Duration poll_interval = absl::Milliseconds(500);
  // Once a minute: the merges then write about two rows per active
  // (article, minute) instead of three at 30 s (trending README,
  // "RecordViews under ingest: the compaction's upserts").
  absl::Duration compact_interval = absl::Seconds(60);
  absl::Duration delta_log_retention = absl::Minutes(10);
  absl::Duration db_timeout = absl::Seconds(10);
  // A backlog (a burst spread over many buckets, or PostgreSQL away for a
  // while) is written in transactions of at most this many bucket deltas,
  // so each one commits well within db_timeout and a flush always makes
  // progress; the batch counts as durable when its last part commits.
  size_t max_deltas_per_flush = 20000;
  // Sketches changed since the last checkpoint are written this often (by
  // the compacting replica); a restart replays the raises logged since.
  absl::Duration sketch_checkpoint_interval = absl::Minutes(5);
  // Views accepted but not yet in PostgreSQL beyond which ingest pushes
  // back: the kill -9 loss bound while the flush lags.
  int64_t max_unflushed_views = 2'000'000;
};

// Applies restored rows to the store and the batch ids to the ingestor.
void ApplyRestored(const RestoredState& state, ViewStore& store, Ingestor& ingestor);

class Synchronizer final : public SketchSource {
 public:
  using DurableCallback = std::function<void(absl::Status)>;

  Synchronizer(ViewStore& store, Ingestor& ingestor, PgStorage& storage, SyncOptions options);
  ~Synchronizer() override;

  // Loads the state from PostgreSQL; retries while it is unreachable until
  // `deadline`.
  absl::Status Restore(absl::Time deadline);
  void Start();
  // Stops the thread and flushes what is pending (retrying until
  // `deadline`, and past it while a large backlog is still being written
  // part by part); waiting callbacks get OK or UNAVAILABLE.
  void Stop(absl::Time deadline);

  // Calls `done` (on the sync thread, or inline when already durable) once
  // every view with this ticket is in PostgreSQL.
  void WhenDurable(uint64_t ticket, DurableCallback done);

  // One round of each task, for tests and Stop.
  absl::Status FlushOnce(absl::Time deadline);
  absl::Status PollOnce(absl::Time deadline);

  // OK while the replica has not missed trimmed deltas (health check).
  absl::Status Healthy() const;
  uint64_t durable_seq() const { return durable_seq_.load(); }

  // Views accepted but not in PostgreSQL yet (in the store's buffers or in
  // a flush being written or retried).
  int64_t unflushed_views() const;
  // True while unflushed_views() is at --max_unflushed_views: ingest must
  // not accept more until flushes catch up.
  bool Backlogged() const { return unflushed_views() >= options_.max_unflushed_views; }
  // Calls `resume` once the backlog is below the bound (inline when it
  // already is; else on the sync thread after a flush, or at Stop).
  void WhenNotBacklogged(std::function<void()> resume);

  // SketchSource (the compactor's checkpoints).
  int64_t applied_upto() const override { return high_water_.load(); }
  std::vector<StoredSketch> ChangedSketches(SketchCursor& cursor, size_t max_bytes) override {
    return store_.ChangedSketches(cursor, max_bytes);
  }
  void CheckpointDone() override { store_.CheckpointDone(); }

 private:
  void ResumeIfClear(bool stopping);
  void ExportGauges();
  void Run();
  void RunHousekeeping();
  void RunCompaction();
  void Notify(absl::Status status);

  ViewStore& store_;
  Ingestor& ingestor_;
  PgStorage& storage_;
  const SyncOptions options_;
  std::thread thread_;        // flush and poll
  std::thread housekeeping_;  // maintenance and gauges
  std::thread compaction_;
  absl::Notification stop_;
  absl::Mutex flush_mu_;  // one flush at a time (loop vs Stop)
  PendingBatch unflushed_ ABSL_GUARDED_BY(flush_mu_);
  std::atomic<uint64_t> parts_flushed_{0};  // leading parts of a backlog written
  RateLimitedLog dropped_marks_log_{absl::Seconds(60)};
  std::atomic<int64_t> unflushed_batch_views_{0};  // views in unflushed_
  std::atomic<int64_t> last_flush_ns_{0};          // when a flush last succeeded
  std::atomic<int64_t> backlog_deltas_{0};         // in unflushed_
  std::atomic<int64_t> backlog_marks_{0};
  std::atomic<int64_t> packs_unmerged_{0};  // as of the last compaction
  absl::Mutex resume_mu_;
  std::vector<std::function<void()>> to_resume_ ABSL_GUARDED_BY(resume_mu_);
  std::atomic<uint64_t> durable_seq_{0};
  std::atomic<int64_t> high_water_{0};
  std::atomic<bool> gap_{false};
  absl::Mutex waiters_mu_;
  std::multimap<uint64_t, DurableCallback> waiters_ ABSL_GUARDED_BY(waiters_mu_);
  bool stopped_ ABSL_GUARDED_BY(waiters_mu_) = false;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_SYNCHRONIZER_H_
