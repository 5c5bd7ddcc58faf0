// The binary form of a flush in PostgreSQL: all the bucket deltas of one
// flush (or of one part of a large one) packed into two values of a single
// delta_log row, instead of a row per (article, bucket).
//
// Why: a row per delta cost PostgreSQL an index lookup, a heap update and
// two index insertions per (article, bucket) per flush (tens of thousands a
// second under load) while the service waited; one row per flush costs a
// sequential write of a few megabytes. The compactor merges the packs into
// bucket_counts in bulk (pg_storage.h).
//
// Counts: 'C', version 2, then an article table (varint count; varint
// length + bytes each) and the deltas (varint count; per delta varint
// article index, zigzag varint start minute, varint width, varint views,
// varint visitor views, the HOT mass as a little-endian IEEE double, then
// the engagement: varint engaged seconds, varint reader count and per
// reader its hash as 8 little-endian bytes and its ping time as a zigzag
// varint of milliseconds from the bucket start). Version 1 (no engagement)
// is still read: rows written before the upgrade.
// Raises: 'R', version 1, an article table, then per delta with raises:
// varint article index, zigzag varint start, varint width, varint length +
// Hll::Serialize bytes. Decoding rejects anything malformed (DATA_LOSS).
//
//   std::string counts = PackCounts(batch.deltas, from, to);
//   std::string raises = PackRaises(batch.deltas, from, to);
//   std::vector<BucketDelta> out;
//   RETURN_IF_ERROR(UnpackCounts(counts, out));
//   RETURN_IF_ERROR(UnpackRaises(raises, out));  // as deltas without views
#ifndef NEWSGRID_TRENDING_SERVICE_DELTA_PACK_H_
#define NEWSGRID_TRENDING_SERVICE_DELTA_PACK_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "trending-service/view_store.h"

namespace newsgrid::trending {

// deltas[from, to): their counts (views, visitor views, HOT) and, in the
// second value, their raises (empty when none raised anything).
std::string PackCounts(const std::vector<BucketDelta>& deltas, size_t from, size_t to);
std::string PackRaises(const std::vector<BucketDelta>& deltas, size_t from, size_t to);

// Append the packed deltas to `out` (raises as deltas without counts).
absl::Status UnpackCounts(absl::string_view bytes, std::vector<BucketDelta>& out);
absl::Status UnpackRaises(absl::string_view bytes, std::vector<BucketDelta>& out);

// The counts of many packs summed by (article, start, width): what a merge
// adds to bucket_counts. Articles are interned once per pack (a pack names
// each once), and a delta is then added to its article's few buckets by
// index: no BucketDelta with its own copy of the article id, no map keyed
// by strings (BM_MergePacks has both; the merge is the compaction's main
// in-process work). Reader pings are not summed.
//
//   CountSummer summer;
//   RETURN_IF_ERROR(summer.Add(pack));  // per pack
//   for (const CountSummer::Row& row : summer.SortedRows()) ...
class CountSummer {
 public:
  struct Sums {
    int64_t views = 0;
    int64_t visitors = 0;
    double hot = 0;
    int64_t engaged = 0;
    void Add(const Sums& o) {
      views += o.views;
      visitors += o.visitors;
      hot += o.hot;
      engaged += o.engaged;
    }
  };
  struct Row {
    const std::string* article;
    int32_t start_min;
    int32_t width_min;
    const Sums* sums;
  };

  // A malformed pack is DATA_LOSS; what it added before is kept.
  absl::Status Add(absl::string_view pack);
  size_t size() const { return size_; }
  // The sums in (article, start, width) order; valid until the next Add.
  std::vector<Row> SortedRows() const;

 private:
  struct Bucket {
    int32_t start_min;
    int32_t width_min;
    Sums sums;
  };
  std::deque<std::string> names_;  // by id (a deque: ids_ points into it)
  absl::flat_hash_map<absl::string_view, uint32_t> ids_;
  std::vector<uint32_t> pack_ids_;  // the current pack's table -> ids
  // By id: an article has a few buckets in a merge (a minute or two and an
  // hour at one flush a second), found by a short scan.
  std::vector<absl::InlinedVector<Bucket, 2>> buckets_;
  size_t size_ = 0;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_DELTA_PACK_H_
