// PostgreSQL persistence of the trending aggregates (schema `trending`).
//
// Flush: one transaction per interval, serialized between replicas by a
// transaction advisory lock (so sequence numbers become visible in order
// and pollers never skip a row), that
//   - adds the deltas to `bucket_counts` (INSERT ... ON CONFLICT DO UPDATE
//     SET views = views + excluded.views),
//   - appends them, with the sketch registers they raised, to `delta_log`,
//   - records the batch ids of RecordViews streams in `seen_batches`,
//   - appends the dedup marks of the counted views to `seen_log` (16 bytes
//     a mark, packed into one bytea row per flush and filter; see
//     migrations/0002_seen_log.sql).
// Poll: the other replicas' delta_log, seen_batches and seen_log rows past
// a high-water mark, read in one snapshot.
// Restore: counts, sketches, the not yet merged sketch raises of the log,
// recent batch ids and the newest dedup marks of the dedup window, in one
// snapshot, plus the high-water mark to poll from.
// Compact (one replica at a time): merges logged sketch raises into
// `sketches`, trims the log after --delta_log_retention, merges minute
// counts older than 25 h into hours, expires everything beyond retention,
// and batch ids and dedup marks older than the dedup window.
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
#include "absl/time/time.h"
#include "runtime/pg_pool.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

struct StoredSketch {
  std::string article;
  int32_t start_min = 0;
  int32_t width_min = 1;
  Hll sketch;
};

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
};

struct CompactResult {
  bool ran = false;  // false: another replica holds the compaction lock
  int64_t sketch_rows_merged = 0;
  int64_t log_rows_trimmed = 0;
  int64_t minute_rows_compacted = 0;
  int64_t rows_expired = 0;
  int64_t seen_rows_expired = 0;
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

  const std::string& replica_id() const { return replica_id_; }

 private:
  PgPool& db_;
  const std::string replica_id_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_PG_STORAGE_H_
