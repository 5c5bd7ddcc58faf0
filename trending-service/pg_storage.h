// PostgreSQL persistence of the trending aggregates (schema `trending`).
//
// Flush: one transaction per interval, serialized between replicas by a
// transaction advisory lock (so sequence numbers become visible in order
// and pollers never skip a row), that
//   - appends one `delta_log` row holding all the flush's bucket deltas and
//     the sketch registers they raised, packed (delta_pack.h; migration
//     0003): a sequential write, whatever the number of articles,
//   - records the batch ids of RecordViews streams in `seen_batches`,
//   - appends the dedup marks of the counted views to `seen_log` (16 bytes
//     a mark, packed into one bytea row per flush and filter; see
//     migrations/0002_seen_log.sql).
// Binary values are stored without compression (they do not compress).
// Poll: the other replicas' delta_log, seen_batches and seen_log rows past
// a high-water mark, read in one snapshot.
// Restore: bucket_counts plus the packs not merged into it yet, the
// sketches plus the raises of the packs since their checkpoint, recent
// batch ids and the newest dedup marks of the dedup window, in one
// snapshot, plus the high-water mark to poll from.
// Compact (one replica at a time, under a session advisory lock; flushes
// never wait for it): merges the packs into `bucket_counts`, up to
// packs_per_merge summed into one upsert per transaction, checkpoints the sketches that
// changed from the replica's memory (SketchSource, sketch union being
// idempotent), trims the log after --delta_log_retention once both have
// passed it, merges minute counts older than 25 h into hours, expires
// everything beyond retention, and batch ids and dedup marks older than
// the dedup window. The two logs are trimmed by dropping whole minute
// partitions, which the compactor creates ahead (migration 0005).
//
//   PgStorage storage(pool, "replica-id");
//   absl::Status s = storage.Flush(store.TakePending(), deadline);
//   absl::StatusOr<PollResult> p = storage.Poll(high_water, deadline);
#ifndef NEWSGRID_TRENDING_SERVICE_PG_STORAGE_H_
#define NEWSGRID_TRENDING_SERVICE_PG_STORAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "runtime/pg_pool.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

struct RestoredState {
  std::vector<BucketDelta> counts;      // views and hot, no raises
  std::vector<StoredSketch> sketches;   // merged sketches
  std::vector<BucketDelta> raises;      // logged raises not merged yet (no counts)
  std::vector<std::string> batch_ids;   // seen within the dedup window
  SeenMarks seen;                       // flushed within the dedup window, oldest first
  int64_t high_water = 0;
};

struct PollResult {
  std::vector<BucketDelta> deltas;
  std::vector<std::string> batch_ids;
  SeenMarks seen;
  int64_t high_water = 0;
  // Rows past the old high-water mark were trimmed before they were read:
  // this replica missed deltas and must be restarted (restored).
  bool gap = false;
};

struct CompactOptions {
  absl::Time now;
  absl::Duration retention = absl::Hours(168);
  absl::Duration hot_half_life = absl::Hours(1);
  absl::Duration delta_log_retention = absl::Minutes(10);
  // Batch ids and dedup marks (the dedup window).
  absl::Duration dedup_retention = absl::Minutes(30);
  // Checkpoint the changed sketches of the SketchSource this time.
  bool checkpoint_sketches = true;
  // Packs summed into one upsert of bucket_counts (one transaction). In
  // steady state a compaction merges its interval's packs in one upsert
  // (60 s of flushes: 60 packs, 120-180 under heavy ingest, where a flush
  // is written in parts of max_deltas_per_flush deltas), so an (article,
  // minute) row is written about twice in its life; the bound matters for a
  // backlog. Merging a few packs
  // every second made PostgreSQL upsert 23k rows/s at 600k views/s over
  // 100k articles, 29% of a core (pg_stat_statements, trending README).
  int packs_per_merge = 256;
  // Packs read per query while summing: bounds the result held in memory
  // (a pack of a busy second is a few MB).
  int packs_per_read = 16;
  // While packs remain, each merge transaction is followed by a pause as
  // long as itself: a backlog (a backfill, a long outage) is merged at half
  // speed rather than taking PostgreSQL's whole core from the flushes and
  // the requests. So is each statement of a sketch checkpoint (after a
  // backfill a million sketches: PostgreSQL at 60-85% of a core for ten
  // seconds, unpaced). False: no pauses (tests).
  bool pace_writes = true;
  // Register bytes of the sketches a checkpoint copies and writes per
  // statement (twice that as hex text): what it holds in memory at once.
  size_t sketch_bytes_per_statement = size_t{2} << 20;
  // Time spent merging before the other steps run (at least one merge):
  // packs left past it, or past the deadline, are a backlog for the next
  // compaction.
  absl::Duration merge_budget = absl::InfiniteDuration();
  // Once notified (shutdown), the compaction stops at its next statement or
  // pause: what it did not do is done by the next one, and an unfinished
  // checkpoint is taken whole again (its rows written so far are unions
  // the restore can use as they are).
  const absl::Notification* cancel = nullptr;
};

struct CompactResult {
  bool ran = false;  // false: another replica holds the compaction lock
  int64_t packs_merged = 0;        // delta_log rows merged into bucket_counts
  int64_t packs_unmerged = 0;      // and those left for the next compaction
  // The merge stopped at its budget or deadline with more packs waiting
  // than one merge takes: a backlog (not just the packs flushed while it
  // ran), so the next compaction should not wait a whole interval.
  bool merge_backlog = false;
  int64_t sketch_rows_merged = 0;  // sketches checkpointed
  int64_t sketch_statements = 0;   // the statements that wrote them
  int64_t log_rows_trimmed = 0;
  int64_t minute_rows_compacted = 0;
  int64_t rows_expired = 0;
  int64_t seen_rows_expired = 0;
};

// Where the compactor takes the sketches it checkpoints: a replica's
// memory, which holds the union of every replica's raises it applied.
class SketchSource {
 public:
  virtual ~SketchSource() = default;
  // The sequence number up to which this replica applied the other
  // replicas' deltas (its own are in its memory before they are flushed).
  virtual int64_t applied_upto() const = 0;
  // The sketches changed since the last completed checkpoint, a step at a
  // time (ViewStore::ChangedSketches).
  virtual std::vector<StoredSketch> ChangedSketches(SketchCursor& cursor, size_t max_bytes) = 0;
  virtual void CheckpointDone() = 0;
};

// The seen_log encoding: 16 bytes a mark (key, then view time in Unix
// nanoseconds; both little-endian 64-bit).
std::string EncodeSeenMarks(const SeenMark* marks, size_t n);
absl::Status DecodeSeenMarks(absl::string_view bytes, std::vector<SeenMark>& out);

class PgStorage {
 public:
  PgStorage(PgPool& db, std::string replica_id);

  absl::Status Flush(const PendingBatch& batch, absl::Time deadline);
  absl::StatusOr<PollResult> Poll(int64_t high_water, absl::Time deadline);
  // At most about `max_seen` dedup marks are restored (whole flush rows,
  // the newest ones): what the dedup filter can hold.
  absl::StatusOr<RestoredState> Restore(absl::Time now, absl::Duration retention,
                                        absl::Duration dedup_window, size_t max_seen,
                                        absl::Time deadline);
  absl::StatusOr<CompactResult> Compact(const CompactOptions& options, absl::Time deadline);
  // Creates the logs' minute partitions of the next minutes, as every
  // compaction does, and drops none: run before serving, so a fresh
  // deployment's first flushes land in minute partitions, not in the
  // default ones (trimmed with DELETE). A table busy past the lock timeout
  // leaves them to the first compaction.
  absl::Status PrepareLogPartitions(absl::Time deadline);

  // The memory the compactor checkpoints sketches from (null: none; the log
  // is then not trimmed past the last checkpoint).
  void SetSketchSource(SketchSource* source);

  const std::string& replica_id() const { return replica_id_; }

 private:
  PgPool& db_;
  const std::string replica_id_;
  absl::Mutex source_mu_;
  SketchSource* sketch_source_ ABSL_GUARDED_BY(source_mu_) = nullptr;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_PG_STORAGE_H_
