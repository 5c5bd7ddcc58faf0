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

#include <string>
#include <vector>

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

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_DELTA_PACK_H_
