#include "trending-service/pg_storage.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/logging.h"
#include "runtime/status_macros.h"
#include "trending-service/delta_pack.h"
#include "trending-service/windows.h"

namespace newsgrid::trending {
namespace {

// Advisory lock keys (any constants unique to this schema).
constexpr int64_t kFlushLock = 0x74726e64666c7368;    // "trndflsh"
constexpr int64_t kCompactLock = 0x74726e64636d7063;  // "trndcmpc"

// PostgreSQL array literals, passed as text parameters and cast in SQL, so
// a whole flush is one statement per table whatever its size.
class ArrayLiteral {
 public:
  void AddText(absl::string_view v) {
    Sep();
    out_.push_back('"');
    for (char c : v) {
      if (c == '"' || c == '\\') out_.push_back('\\');
      out_.push_back(c);
    }
    out_.push_back('"');
  }
  void AddInt(int64_t v) {
    Sep();
    absl::StrAppend(&out_, v);
  }
  void AddDouble(double v) {
    Sep();
    absl::StrAppendFormat(&out_, "%.17g", v);
  }
  std::string Finish() {
    out_.push_back('}');
    return out_;
  }

 private:
  void Sep() {
    if (out_.size() > 1) out_.push_back(',');
  }
  std::string out_ = "{";
};

absl::StatusOr<Hll> ParseSketchField(const pqxx::field& f) {
  if (f.is_null()) return Hll();
  const pqxx::binarystring bytes(f);
  return Hll::Parse(absl::string_view(bytes.get(), bytes.size()));
}

constexpr char kMinuteOf[] = "(floor(extract(epoch from bucket_start) / 60))::int";

// Minute partitions of delta_log and seen_log (migration 0005): the
// compactor creates those of the next kLogPartitionsAhead minutes, so five
// missed compactions in a row are needed before a flush lands in the
// default partition (trimmed by DELETE, as every row was before).
constexpr int64_t kLogPartitionsAhead = 5;
// Creating or dropping a partition takes an ACCESS EXCLUSIVE lock on its
// table, and the flushes and polls asked after it queue behind it: the
// compactor waits this long for the lock, then leaves the partitions to
// its next run (a replica's restore, a long poll).
constexpr char kPartitionLockTimeout[] = "50ms";

// A minute partition is only inserted into, then dropped whole within
// minutes: vacuuming it (autovacuum's insert threshold) would read its
// hundreds of MB of TOAST again for nothing.
constexpr char kMinutePartitionStorage[] =
    "WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)";

struct PartitionTrim {
  int64_t rows_dropped = 0;
  int64_t max_seq_dropped = 0;  // 0: none
};

enum class ExpiredPartitions { kDrop, kKeep };

// Drops the minute partitions of trending.`table` that end before
// now() - `keep` and hold no seq past `upto` (unless `expired` is kKeep),
// creates those of the next kLogPartitionsAhead minutes (and the current
// minute's when missing, unless the default partition holds rows of it), and (for
// delta_log) moves state.log_trimmed_upto past what it dropped, in one
// transaction. When a lock is not granted in time or a definition is
// refused (a partition of another replica's making overlaps), nothing
// changes and the next compaction tries again.
PartitionTrim RotateMinutePartitions(pqxx::connection& conn, const std::string& table,
                                     absl::Duration keep, int64_t upto,
                                     ExpiredPartitions expired = ExpiredPartitions::kDrop) {
  PartitionTrim trim;
  try {
    pqxx::work tx(conn);
    tx.exec(absl::StrCat("SET LOCAL lock_timeout = '", kPartitionLockTimeout, "'"));
    const pqxx::row clock = tx.exec_params1(
        "SELECT floor(extract(epoch from now()) / 60)::bigint, "
        "floor(extract(epoch from now() - $1::interval) / 60)::bigint",
        absl::StrCat(absl::ToInt64Milliseconds(keep), " milliseconds"));
    const int64_t now_min = clock[0].as<int64_t>();
    const int64_t keep_from_min = clock[1].as<int64_t>();
    const std::string prefix = absl::StrCat(table, "_m");
    absl::flat_hash_set<int64_t> present;
    for (const auto& row : tx.exec_params(
             "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
             "WHERE i.inhparent = $1::regclass",
             absl::StrCat("trending.", table))) {
      const std::string name = row[0].as<std::string>();
      int64_t minute = 0;
      if (!absl::StartsWith(name, prefix) ||
          !absl::SimpleAtoi(absl::string_view(name).substr(prefix.size()), &minute)) {
        continue;  // the default partition
      }
      // Minute `minute` covers [minute, minute + 1).
      if (expired == ExpiredPartitions::kKeep || minute + 1 > keep_from_min) {
        present.insert(minute);
        continue;
      }
      const pqxx::row held = tx.exec1(absl::StrCat(
          "SELECT count(*), COALESCE(max(seq), 0) FROM trending.", tx.quote_name(name)));
      if (held[1].as<int64_t>() > upto) {
        present.insert(minute);
        continue;
      }
      tx.exec(absl::StrCat("DROP TABLE trending.", tx.quote_name(name)));
      trim.rows_dropped += held[0].as<int64_t>();
      trim.max_seq_dropped = std::max(trim.max_seq_dropped, held[1].as<int64_t>());
    }
    for (int64_t minute = now_min; minute <= now_min + kLogPartitionsAhead; ++minute) {
      if (present.contains(minute)) continue;
      const std::string create =
          absl::StrCat("CREATE TABLE trending.", tx.quote_name(absl::StrCat(prefix, minute)),
                       " PARTITION OF trending.", table, " FOR VALUES FROM (to_timestamp(",
                       minute * 60, ")) TO (to_timestamp(", (minute + 1) * 60, ")) ",
                       kMinutePartitionStorage);
      if (minute > now_min) {
        tx.exec(create);
        continue;
      }
      // The current minute is missing only at a fresh start (or after five
      // missed compactions): the default partition may already hold rows
      // of it, and then PostgreSQL refuses the partition (23514). That
      // minute then stays in the default; the others are still created.
      try {
        pqxx::subtransaction current(tx, "current_minute");
        current.exec(create);
        current.commit();
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != "23514") throw;
      }
    }
    if (table == "delta_log" && trim.max_seq_dropped > 0) {
      tx.exec_params(
          "UPDATE trending.state SET log_trimmed_upto = GREATEST(log_trimmed_upto, $1)",
          trim.max_seq_dropped);
    }
    tx.commit();
  } catch (const pqxx::sql_error& e) {
    // 55P03 lock_not_available, or a definition refused: left for the
    // next compaction. Anything else (a lost connection) is an error.
    if (e.sqlstate() != "55P03" && e.sqlstate().rfind("42", 0) != 0 &&
        e.sqlstate() != "23514") {
      throw;
    }
    const bool busy = e.sqlstate() == "55P03";
    Log(busy ? LogLevel::kDebug : LogLevel::kWarn,
        busy ? "log partitions left for the next compaction (table busy)"
             : "log partitions left for the next compaction",
        {{"table", table}, {"sqlstate", e.sqlstate()}});
    return PartitionTrim();
  }
  return trim;
}

// Marks per seen_log row and filter (1 MiB), so one busy flush does not
// become one huge value.
constexpr size_t kMarksPerRow = size_t{1} << 16;
constexpr size_t kMarkBytes = 16;

void PutLe64(uint64_t v, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}

uint64_t GetLe64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return v;
}

// The mark columns of seen_log, in the order of SeenMarks::lists().
constexpr char kSeenColumns[] = "visitors, events, page_views, pings";

// The mark columns of one seen_log row into `out`.
absl::Status ReadSeenRow(const pqxx::row& row, SeenMarks& out) {
  const auto lists = out.lists();
  for (size_t column = 0; column < lists.size(); ++column) {
    std::vector<SeenMark>* list = lists[column];
    const pqxx::binarystring bytes(row[static_cast<int>(column)]);
    RETURN_IF_ERROR(DecodeSeenMarks(absl::string_view(bytes.get(), bytes.size()), *list));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeSeenMarks(const SeenMark* marks, size_t n) {
  std::string out(n * kMarkBytes, '\0');
  for (size_t i = 0; i < n; ++i) {
    PutLe64(marks[i].key, &out[i * kMarkBytes]);
    PutLe64(static_cast<uint64_t>(marks[i].view_ns), &out[i * kMarkBytes + 8]);
  }
  return out;
}

absl::Status DecodeSeenMarks(absl::string_view bytes, std::vector<SeenMark>& out) {
  if (bytes.size() % kMarkBytes != 0) {
    return absl::DataLossError("seen_log row is not a whole number of marks");
  }
  out.reserve(out.size() + bytes.size() / kMarkBytes);
  for (size_t i = 0; i < bytes.size(); i += kMarkBytes) {
    out.push_back({GetLe64(bytes.data() + i), static_cast<int64_t>(GetLe64(bytes.data() + i + 8))});
  }
  return absl::OkStatus();
}

PgStorage::PgStorage(PgPool& db, std::string replica_id)
    : db_(db), replica_id_(std::move(replica_id)) {}

absl::Status PgStorage::Flush(const PendingBatch& batch, absl::Time deadline) {
  if (batch.empty()) return absl::OkStatus();
  // Encoded before the transaction: the flush lock is held for the writes only.
  const std::string counts = batch.deltas.empty() ? std::string()
                                                  : PackCounts(batch.deltas, 0, batch.deltas.size());
  const std::string raises = batch.deltas.empty() ? std::string()
                                                  : PackRaises(batch.deltas, 0, batch.deltas.size());
  ArrayLiteral batch_ids;
  for (const std::string& id : batch.batch_ids) batch_ids.AddText(id);
  const std::string b = batch_ids.Finish();
  return db_.Transact(deadline, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kFlushLock);
    if (!batch.deltas.empty()) {
      tx.exec_params(
          "INSERT INTO trending.delta_log (replica, counts, raises, deltas) "
          "VALUES ($1, $2, NULLIF($3, ''::bytea), $4)",
          replica_id_, pqxx::binarystring(counts.data(), counts.size()),
          pqxx::binarystring(raises.data(), raises.size()),
          static_cast<int64_t>(batch.deltas.size()));
    }
    if (!batch.batch_ids.empty()) {
      tx.exec_params(
          "INSERT INTO trending.seen_batches (batch_id, replica) "
          "SELECT unnest($1::text[]), $2 ON CONFLICT (batch_id) DO NOTHING",
          b, replica_id_);
    }
    const SeenMarks& seen = batch.seen;
    size_t longest = 0;
    const auto lists = seen.lists();
    for (const std::vector<SeenMark>* list : lists) longest = std::max(longest, list->size());
    for (size_t from = 0; from < longest; from += kMarksPerRow) {
      std::vector<std::string> columns(lists.size());
      size_t marks = 0;
      for (size_t c = 0; c < lists.size(); ++c) {
        const std::vector<SeenMark>& list = *lists[c];
        const size_t n = from < list.size() ? std::min(kMarksPerRow, list.size() - from) : 0;
        columns[c] = EncodeSeenMarks(list.data() + (n ? from : 0), n);
        marks += n;
      }
      auto bytes = [&](int c) { return pqxx::binarystring(columns[c].data(), columns[c].size()); };
      tx.exec_params(
          absl::StrCat("INSERT INTO trending.seen_log (replica, marks, ", kSeenColumns,
                       ") VALUES ($1, $2, $3, $4, $5, $6)"),
          replica_id_, static_cast<int64_t>(marks), bytes(0), bytes(1), bytes(2), bytes(3));
    }
    return absl::OkStatus();
  });
}

namespace {

// What to read of delta_log rows.
enum class LogPart { kCounts, kRaises, kBoth };

// The rows of replicas other than `replica` in (after, upto], oldest first:
// packs (delta_pack.h) and rows of the old form (one bucket each).
absl::Status ReadLog(pqxx::transaction_base& tx, const std::string& replica, int64_t after,
                     int64_t upto, LogPart part, std::vector<BucketDelta>& out) {
  const bool counts = part != LogPart::kRaises;
  const bool raises = part != LogPart::kCounts;
  const pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT article, ", kMinuteOf, ", width_minutes, views, hot, ",
                   raises ? "raises" : "NULL::bytea", ", ", counts ? "counts" : "NULL::bytea",
                   " FROM trending.delta_log WHERE seq > $1 AND seq <= $2 AND replica <> $3",
                   counts ? "" : " AND raises IS NOT NULL", " ORDER BY seq"),
      after, upto, replica);
  for (const auto& row : rows) {
    if (!row[0].is_null()) {  // the old form: one bucket
      ASSIGN_OR_RETURN(Hll r, raises ? ParseSketchField(row[5]) : absl::StatusOr<Hll>(Hll()));
      out.push_back({row[0].as<std::string>(), row[1].as<int32_t>(), row[2].as<int32_t>(),
                     counts ? row[3].as<int64_t>() : 0, counts ? row[4].as<double>() : 0.0,
                     std::move(r)});
      continue;
    }
    if (counts && !row[6].is_null()) {
      const pqxx::binarystring bytes(row[6]);
      RETURN_IF_ERROR(UnpackCounts(absl::string_view(bytes.get(), bytes.size()), out));
    }
    if (raises && !row[5].is_null()) {
      const pqxx::binarystring bytes(row[5]);
      RETURN_IF_ERROR(UnpackRaises(absl::string_view(bytes.get(), bytes.size()), out));
    }
  }
  return absl::OkStatus();
}

int64_t MaxSeq(pqxx::transaction_base& tx) {
  return tx
      .exec("SELECT GREATEST((SELECT COALESCE(max(seq), 0) FROM trending.delta_log), "
            "(SELECT COALESCE(max(seq), 0) FROM trending.seen_batches), "
            "(SELECT COALESCE(max(seq), 0) FROM trending.seen_log), "
            "(SELECT log_trimmed_upto FROM trending.state))")[0][0]
      .as<int64_t>();
}

}  // namespace

absl::StatusOr<PollResult> PgStorage::Poll(int64_t high_water, absl::Time deadline) {
  PollResult result;
  absl::Status status = db_.WithConnection(deadline, [&](pqxx::connection& conn) -> absl::Status {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
    const int64_t trimmed =
        tx.exec("SELECT log_trimmed_upto FROM trending.state")[0][0].as<int64_t>();
    result.gap = trimmed > high_water;
    result.high_water = std::max(high_water, MaxSeq(tx));
    if (result.high_water == high_water) return absl::OkStatus();
    RETURN_IF_ERROR(ReadLog(tx, replica_id_, high_water, result.high_water, LogPart::kBoth,
                            result.deltas));
    for (const auto& row : tx.exec_params(
             "SELECT batch_id FROM trending.seen_batches "
             "WHERE seq > $1 AND seq <= $2 AND replica <> $3",
             high_water, result.high_water, replica_id_)) {
      result.batch_ids.push_back(row[0].as<std::string>());
    }
    for (const auto& row : tx.exec_params(
             absl::StrCat("SELECT ", kSeenColumns, " FROM trending.seen_log "
                          "WHERE seq > $1 AND seq <= $2 AND replica <> $3 ORDER BY seq"),
             high_water, result.high_water, replica_id_)) {
      RETURN_IF_ERROR(ReadSeenRow(row, result.seen));
    }
    tx.commit();
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(status);
  return result;
}

absl::StatusOr<RestoredState> PgStorage::Restore(absl::Time now, absl::Duration retention,
                                                 absl::Duration dedup_window,
                                                 size_t max_seen, absl::Time deadline) {
  RestoredState state;
  absl::Status status = db_.WithConnection(deadline, [&](pqxx::connection& conn) -> absl::Status {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
    state.high_water = MaxSeq(tx);
    const pqxx::row marks =
        tx.exec("SELECT sketches_merged_upto, counts_merged_upto FROM trending.state")[0];
    const int64_t sketches_merged = marks[0].as<int64_t>();
    const int64_t counts_merged = marks[1].as<int64_t>();
    const int32_t keep_from = RetentionStart(MinuteOf(now), retention);
    for (const auto& row : tx.exec_params(
             absl::StrCat("SELECT article, ", kMinuteOf,
                          ", width_minutes, views, hot, visitors, engaged_seconds "
                          "FROM trending.bucket_counts "
                          "WHERE bucket_start >= to_timestamp($1::bigint * 60)"),
             keep_from)) {
      BucketDelta d{row[0].as<std::string>(), row[1].as<int32_t>(), row[2].as<int32_t>(),
                    row[3].as<int64_t>(), row[4].as<double>(), Hll()};
      d.visitors = row[5].as<int64_t>();
      d.engaged = row[6].as<int64_t>();
      state.counts.push_back(std::move(d));
    }
    // The packs not yet in bucket_counts (all replicas': an id no one uses).
    RETURN_IF_ERROR(
        ReadLog(tx, "", counts_merged, state.high_water, LogPart::kCounts, state.counts));
    for (const auto& row : tx.exec_params(
             absl::StrCat("SELECT article, ", kMinuteOf,
                          ", width_minutes, registers FROM trending.sketches "
                          "WHERE bucket_start >= to_timestamp($1::bigint * 60) "
                          "AND width_minutes IN (10, 60)"),
             keep_from)) {
      ASSIGN_OR_RETURN(Hll sketch, ParseSketchField(row[3]));
      state.sketches.push_back({row[0].as<std::string>(), row[1].as<int32_t>(),
                                row[2].as<int32_t>(), std::move(sketch)});
    }
    // The raises since the last sketch checkpoint.
    RETURN_IF_ERROR(
        ReadLog(tx, "", sketches_merged, state.high_water, LogPart::kRaises, state.raises));
    for (const auto& row : tx.exec_params(
             "SELECT batch_id FROM trending.seen_batches WHERE seen_at > now() - $1::interval",
             absl::StrCat(absl::ToInt64Seconds(dedup_window), " seconds"))) {
      state.batch_ids.push_back(row[0].as<std::string>());
    }
    // The newest rows up to `max_seen` marks, applied oldest first so the
    // filter keeps the newest if it has to retire some.
    for (const auto& row : tx.exec_params(
             absl::StrCat("SELECT ", kSeenColumns, " FROM (SELECT seq, ", kSeenColumns,
                          ", sum(marks) OVER (ORDER BY seq DESC) - marks AS newer "
                          "FROM trending.seen_log "
                          "WHERE created_at > now() - $1::interval AND seq <= $2) r "
                          "WHERE newer < $3 ORDER BY seq"),
             absl::StrCat(absl::ToInt64Milliseconds(dedup_window), " milliseconds"),
             state.high_water, static_cast<int64_t>(max_seen))) {
      RETURN_IF_ERROR(ReadSeenRow(row, state.seen));
    }
    tx.commit();
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(status);
  return state;
}

void PgStorage::SetSketchSource(SketchSource* source) {
  absl::MutexLock lock(&source_mu_);
  sketch_source_ = source;
}

namespace {

// Rows per upsert statement of a merge.
constexpr size_t kCountRowsPerStatement = 16384;

// Adds `sums` to bucket_counts in key order (index pages are then visited in
// order) and in statements of kCountRowsPerStatement rows. With `pace`, each
// statement is followed by a pause twice as long as itself, so a merge of a
// busy interval (100k rows, seconds of PostgreSQL CPU) is spread over
// several seconds instead of taking a core at once from the flushes and the
// ingest that shares the machine. Returns the time spent in those pauses.
absl::Duration UpsertCounts(pqxx::work& tx, const CountSummer& sums, bool pace) {
  absl::Duration paused;
  const std::vector<CountSummer::Row> rows = sums.SortedRows();
  for (size_t from = 0; from < rows.size(); from += kCountRowsPerStatement) {
    const absl::Time started = absl::Now();
    const size_t to = std::min(rows.size(), from + kCountRowsPerStatement);
    ArrayLiteral articles, starts, widths, views, hots, visitors, engaged;
    for (size_t i = from; i < to; ++i) {
      const CountSummer::Row& row = rows[i];
      const CountSummer::Sums& c = *row.sums;
      articles.AddText(*row.article);
      starts.AddInt(row.start_min);
      widths.AddInt(row.width_min);
      views.AddInt(c.views);
      hots.AddDouble(c.hot);
      visitors.AddInt(c.visitors);
      engaged.AddInt(c.engaged);
    }
    tx.exec_params(
        "INSERT INTO trending.bucket_counts AS c "
        "(article, bucket_start, width_minutes, views, hot, visitors, engaged_seconds) "
        "SELECT a, to_timestamp(s::bigint * 60), w, v, h, u, g "
        "FROM unnest($1::text[], $2::int[], $3::smallint[], $4::bigint[], $5::float8[], $6::bigint[], "
        "$7::bigint[]) AS t(a, s, w, v, h, u, g) "
        "ON CONFLICT (article, bucket_start, width_minutes) DO UPDATE "
        "SET views = c.views + excluded.views, hot = c.hot + excluded.hot, "
        "visitors = c.visitors + excluded.visitors, "
        "engaged_seconds = c.engaged_seconds + excluded.engaged_seconds",
        articles.Finish(), starts.Finish(), widths.Finish(), views.Finish(), hots.Finish(),
        visitors.Finish(), engaged.Finish());
    if (pace && to < rows.size()) {
      const absl::Duration pause = 2 * (absl::Now() - started);
      absl::SleepFor(pause);
      paused += pause;
    }
  }
  return paused;
}

}  // namespace

absl::Status PgStorage::PrepareLogPartitions(absl::Time deadline) {
  return db_.WithConnection(deadline, [&](pqxx::connection& conn) -> absl::Status {
    for (const char* table : {"delta_log", "seen_log"}) {
      RotateMinutePartitions(conn, table, absl::ZeroDuration(), 0, ExpiredPartitions::kKeep);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<CompactResult> PgStorage::Compact(const CompactOptions& o, absl::Time deadline) {
  CompactResult result;
  const int32_t now_min = MinuteOf(o.now);
  const int32_t ten_start = TenMinuteSketchStart(now_min);
  const int32_t horizon = CompactionHorizon(now_min);
  const int32_t keep_from = RetentionStart(now_min, o.retention);
  // Every step below is its own short transaction; one replica compacts at
  // a time under a session lock, and flushes never wait for any of it.
  auto cancelled = [&] { return o.cancel != nullptr && o.cancel->HasBeenNotified(); };
  auto PauseFor = [&](absl::Duration d) {
    if (o.cancel != nullptr) {
      o.cancel->WaitForNotificationWithTimeout(d);
    } else {
      absl::SleepFor(d);
    }
  };
  auto steps = [&](pqxx::connection& conn) -> absl::Status {
    // 1. Packs -> bucket_counts, up to packs_per_merge per transaction, paced.
    const absl::Time merge_until = std::min(deadline, absl::Now() + o.merge_budget);
    for (;;) {
      const absl::Time started = absl::Now();
      pqxx::work tx(conn);
      const int64_t merged =
          tx.exec("SELECT counts_merged_upto FROM trending.state")[0][0].as<int64_t>();
      CountSummer sums;
      int64_t last = merged;
      int packs = 0;
      bool more = true;
      while (more && packs < o.packs_per_merge) {
        const int want = std::min(o.packs_per_read, o.packs_per_merge - packs);
        const pqxx::result rows = tx.exec_params(
            "SELECT seq, counts FROM trending.delta_log WHERE seq > $1 AND counts IS NOT NULL "
            "ORDER BY seq LIMIT $2",
            last, want);
        more = static_cast<int>(rows.size()) == want;
        for (const auto& row : rows) {
          last = row[0].as<int64_t>();
          const pqxx::binarystring bytes(row[1]);
          RETURN_IF_ERROR(sums.Add(absl::string_view(bytes.get(), bytes.size())));
        }
        packs += static_cast<int>(rows.size());
      }
      if (packs == 0) {
        // Only rows of the old form past the mark (their flush counted them).
        tx.exec_params(
            "UPDATE trending.state SET counts_merged_upto = GREATEST(counts_merged_upto, "
            "(SELECT COALESCE(max(seq), 0) FROM trending.delta_log WHERE seq > $1))",
            merged);
        tx.commit();
        break;
      }
      const absl::Duration paused = UpsertCounts(tx, sums, o.pace_writes);
      tx.exec_params("UPDATE trending.state SET counts_merged_upto = $1", last);
      tx.commit();
      result.packs_merged += packs;
      if (!more) break;
      // The merge's own work, without the pauses between its statements.
      const absl::Duration took = absl::Now() - started - paused;
      if (absl::Now() + (o.pace_writes ? took : absl::ZeroDuration()) > merge_until) {
        result.merge_backlog = true;
        break;
      }
      if (o.pace_writes) PauseFor(took);
      if (cancelled()) return absl::OkStatus();
    }
    {
      pqxx::work tx(conn);
      result.packs_unmerged =
          tx.exec("SELECT count(*) FROM trending.delta_log WHERE counts IS NOT NULL AND seq > "
                  "(SELECT counts_merged_upto FROM trending.state)")[0][0]
              .as<int64_t>();
      tx.commit();
    }

    // 2. Sketches checkpointed from memory: every pack up to `covered` is in
    // the memory they come from (this replica's own before they were
    // flushed, the others' up to what it applied).
    {
      absl::MutexLock lock(&source_mu_);
      if (o.checkpoint_sketches && sketch_source_ != nullptr) {
        int64_t covered = 0;
        {
          pqxx::work tx(conn);
          covered = tx.exec_params(
                          "SELECT COALESCE((SELECT min(seq) - 1 FROM trending.delta_log "
                          "WHERE seq > $1 AND replica <> $2), "
                          "(SELECT COALESCE(max(seq), 0) FROM trending.delta_log))",
                          sketch_source_->applied_upto(), replica_id_)[0][0]
                        .as<int64_t>();
          tx.commit();
        }
        // A step's sketches are copied, written and dropped before the
        // next are copied, each statement followed by a pause as long as
        // its own work when paced.
        SketchCursor cursor;
        while (!cursor.done) {
          const absl::Time started = absl::Now();
          const std::vector<StoredSketch> sketches =
              sketch_source_->ChangedSketches(cursor, o.sketch_bytes_per_statement);
          if (sketches.empty()) continue;
          ArrayLiteral articles, starts, widths, registers;
          for (const StoredSketch& k : sketches) {
            articles.AddText(k.article);
            starts.AddInt(k.start_min);
            widths.AddInt(k.width_min);
            registers.AddText(absl::BytesToHexString(k.sketch.Serialize()));
          }
          pqxx::work tx(conn);
          tx.exec_params(
              "INSERT INTO trending.sketches (article, bucket_start, width_minutes, registers) "
              "SELECT a, to_timestamp(s::bigint * 60), w, decode(r, 'hex') "
              "FROM unnest($1::text[], $2::int[], $3::smallint[], $4::text[]) AS t(a, s, w, r) "
              "ON CONFLICT (article, bucket_start, width_minutes) DO UPDATE "
              "SET registers = excluded.registers",
              articles.Finish(), starts.Finish(), widths.Finish(), registers.Finish());
          tx.commit();
          result.sketch_rows_merged += static_cast<int64_t>(sketches.size());
          ++result.sketch_statements;
          if (o.pace_writes && !cursor.done) PauseFor(absl::Now() - started);
          if (cancelled()) return absl::OkStatus();
        }
        pqxx::work tx(conn);
        tx.exec_params(
            "UPDATE trending.state SET sketches_merged_upto = GREATEST(sketches_merged_upto, $1)",
            covered);
        tx.commit();
        sketch_source_->CheckpointDone();
      }
    }

    // 3. Trim the log once every replica had time to read it and both the
    // counts and the sketches hold it; batch ids and dedup marks live for
    // the dedup window. Whole minute partitions are dropped; rows in the
    // default partitions are deleted (migration 0005).
    {
      int64_t upto = 0;
      {
        pqxx::work tx(conn);
        const pqxx::row marks =
            tx.exec("SELECT counts_merged_upto, sketches_merged_upto FROM trending.state")[0];
        upto = std::min(marks[0].as<int64_t>(), marks[1].as<int64_t>());
        tx.commit();
      }
      const PartitionTrim log =
          RotateMinutePartitions(conn, "delta_log", o.delta_log_retention, upto);
      const PartitionTrim seen = RotateMinutePartitions(conn, "seen_log", o.dedup_retention,
                                                        std::numeric_limits<int64_t>::max());
      pqxx::work tx(conn);
      const pqxx::result trimmed = tx.exec_params(
          "WITH d AS (DELETE FROM trending.delta_log_default WHERE seq <= $1 AND created_at < "
          "now() - $2::interval RETURNING seq) "
          "SELECT count(*), COALESCE(max(seq), 0) FROM d",
          upto, absl::StrCat(absl::ToInt64Milliseconds(o.delta_log_retention), " milliseconds"));
      result.log_rows_trimmed = trimmed[0][0].as<int64_t>() + log.rows_dropped;
      tx.exec_params(
          "UPDATE trending.state SET log_trimmed_upto = GREATEST(log_trimmed_upto, $1)",
          trimmed[0][1].as<int64_t>());
      tx.exec_params("DELETE FROM trending.seen_batches WHERE seen_at < now() - $1::interval",
                     absl::StrCat(absl::ToInt64Seconds(o.dedup_retention), " seconds"));
      result.seen_rows_expired =
          tx.exec_params(
                "DELETE FROM trending.seen_log_default WHERE created_at < now() - $1::interval",
                absl::StrCat(absl::ToInt64Milliseconds(o.dedup_retention), " milliseconds"))
              .affected_rows() +
          seen.rows_dropped;
      tx.commit();
    }

    // 4. Minute counts older than the horizon -> hours (hot rebased to the hour).
    {
      pqxx::work tx(conn);
      const pqxx::result moved = tx.exec_params(
          "WITH m AS (DELETE FROM trending.bucket_counts WHERE width_minutes = 1 AND "
          "bucket_start < to_timestamp($1::bigint * 60) RETURNING *), "
          "h AS (SELECT article, to_timestamp(floor(extract(epoch from bucket_start) / 3600) * "
          "3600) AS hour, views, hot, visitors, engaged_seconds, "
          "extract(epoch from bucket_start) AS e FROM m), "
          "ins AS (INSERT INTO trending.bucket_counts AS c "
          "(article, bucket_start, width_minutes, views, hot, visitors, engaged_seconds) "
          "SELECT article, hour, 60, sum(views), "
          "sum(hot * power(2, (e - extract(epoch from hour)) / $2::float8)), sum(visitors), "
          "sum(engaged_seconds) "
          "FROM h GROUP BY article, hour "
          "ON CONFLICT (article, bucket_start, width_minutes) DO UPDATE "
          "SET views = c.views + excluded.views, hot = c.hot + excluded.hot, "
          "visitors = c.visitors + excluded.visitors, "
          "engaged_seconds = c.engaged_seconds + excluded.engaged_seconds RETURNING 1) "
          "SELECT (SELECT count(*) FROM m)",
          horizon, absl::ToDoubleSeconds(o.hot_half_life));
      result.minute_rows_compacted = moved[0][0].as<int64_t>();
      tx.commit();
    }

    // 5. Expiry: beyond the retention, and 10-minute sketches (and minute
    // ones of an older version) past their span.
    {
      pqxx::work tx(conn);
      int64_t expired = 0;
      expired += tx.exec_params(
                       "DELETE FROM trending.bucket_counts WHERE bucket_start + "
                       "width_minutes * interval '1 minute' <= to_timestamp($1::bigint * 60)",
                       keep_from)
                     .affected_rows();
      expired += tx.exec_params(
                       "DELETE FROM trending.sketches WHERE (width_minutes < 60 AND bucket_start < "
                       "to_timestamp($1::bigint * 60)) OR bucket_start + width_minutes * "
                       "interval '1 minute' <= to_timestamp($2::bigint * 60)",
                       ten_start, keep_from)
                     .affected_rows();
      result.rows_expired = expired;
      tx.commit();
    }
    return absl::OkStatus();
  };
  absl::Status status = db_.WithConnection(deadline, [&](pqxx::connection& conn) -> absl::Status {
    {
      pqxx::nontransaction n(conn);
      if (!n.exec_params("SELECT pg_try_advisory_lock($1)", kCompactLock)[0][0].as<bool>()) {
        return absl::OkStatus();
      }
    }
    result.ran = true;
    absl::Status s;
    try {
      s = steps(conn);
    } catch (...) {
      // The lock is the session's: released here, or with the connection.
      try {
        pqxx::nontransaction n(conn);
        n.exec_params("SELECT pg_advisory_unlock($1)", kCompactLock);
      } catch (...) {
      }
      throw;
    }
    pqxx::nontransaction n(conn);
    n.exec_params("SELECT pg_advisory_unlock($1)", kCompactLock);
    return s;
  });
  RETURN_IF_ERROR(status);
  return result;
}

}  // namespace newsgrid::trending
