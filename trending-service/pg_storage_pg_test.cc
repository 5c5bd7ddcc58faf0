// PgStorage and Synchronizer against a real PostgreSQL: flush, poll between
// replicas, restore, compaction.
#include "trending-service/pg_storage.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "runtime/migrations.h"
#include "tests/support/test_database.h"
#include "tests/support/trending_replica.h"
#include "trending-service/synchronizer.h"

namespace newsgrid::trending {
namespace {

absl::Time Deadline() { return absl::Now() + absl::Seconds(30); }

using Replica = testing::TrendingReplica;

void ExpectSameRankings(const ViewStore& a, const ViewStore& b) {
  for (RankMetric m : {RankMetric::kViews, RankMetric::kUniqueVisitors, RankMetric::kHot}) {
    for (absl::Duration w : {absl::Minutes(5), absl::Hours(1), absl::Hours(24), absl::Hours(72)}) {
      const TrendingResult x = a.Trending({.window = w, .metric = m, .limit = 50});
      const TrendingResult y = b.Trending({.window = w, .metric = m, .limit = 50});
      ASSERT_EQ(x.entries.size(), y.entries.size()) << absl::FormatDuration(w);
      for (size_t i = 0; i < x.entries.size(); ++i) {
        EXPECT_EQ(x.entries[i].article, y.entries[i].article);
        EXPECT_EQ(x.entries[i].views, y.entries[i].views);
        EXPECT_EQ(x.entries[i].unique_visitors, y.entries[i].unique_visitors);
        EXPECT_NEAR(x.entries[i].score, y.entries[i].score, 1e-6 * (1 + x.entries[i].score));
        EXPECT_EQ(x.entries[i].previous_rank, y.entries[i].previous_rank);
      }
    }
  }
}

class PgStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ApplyMigrations(db_.dsn(), TrendingMigrations()).ok());
    pool_ = std::make_unique<PgPool>(PgPool::Options{.dsn = db_.dsn(), .size = 4});
  }
  void Fill(Replica& r, int salt) {
    const absl::Time now = clock_.Now();
    for (int i = 0; i < 500; ++i) {
      r.View(absl::StrCat("a", (i * 7 + salt) % 13), now - absl::Minutes((i * 11) % 180),
             absl::StrCat("v", salt, "-", i % 97));
    }
    r.View("late", now - absl::Hours(40), "x");
  }
  // One statement in its own transaction, on the test's own connection.
  pqxx::result Sql(const std::string& sql) {
    if (admin_ == nullptr) admin_ = std::make_unique<pqxx::connection>(db_.dsn());
    pqxx::work tx(*admin_);
    pqxx::result r = tx.exec(sql);
    tx.commit();
    return r;
  }
  // The database's current minute since the epoch (its clock, not clock_).
  int64_t DbMinute() {
    return Sql("SELECT floor(extract(epoch from now()) / 60)::bigint")[0][0].as<int64_t>();
  }
  testing::TestDatabase db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<pqxx::connection> admin_;
  FakeClock clock_{absl::FromUnixSeconds(1'714'565'250)};
};

TEST_F(PgStorageTest, RestoreReproducesTheRankingsExactly) {
  Replica a(*pool_, clock_, "a");
  Fill(a, 1);
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  // Flushing again adds to the same rows (views = views + excluded.views).
  Fill(a, 2);
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  Replica restored(*pool_, clock_, "b");
  ASSERT_TRUE(restored.sync.Restore(Deadline()).ok());
  ExpectSameRankings(a.store, restored.store);
  // Compaction (sketches merged, log trimmed) keeps the restored state equal.
  absl::StatusOr<CompactResult> c = a.storage.Compact(
      {.now = clock_.Now(), .delta_log_retention = absl::ZeroDuration()}, Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->ran);
  EXPECT_GT(c->sketch_rows_merged, 0);
  EXPECT_GT(c->log_rows_trimmed, 0);
  Replica again(*pool_, clock_, "c");
  ASSERT_TRUE(again.sync.Restore(Deadline()).ok());
  ExpectSameRankings(a.store, again.store);
}

TEST_F(PgStorageTest, ReplicasSeeEachOthersDeltasNotTheirOwn) {
  Replica a(*pool_, clock_, "a");
  Replica b(*pool_, clock_, "b");
  ASSERT_TRUE(a.sync.Restore(Deadline()).ok());
  ASSERT_TRUE(b.sync.Restore(Deadline()).ok());
  Fill(a, 1);
  Fill(b, 2);
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  ASSERT_TRUE(b.sync.FlushOnce(Deadline()).ok());
  ASSERT_TRUE(a.sync.PollOnce(Deadline()).ok());
  ASSERT_TRUE(b.sync.PollOnce(Deadline()).ok());
  ExpectSameRankings(a.store, b.store);
  // Polling again applies nothing twice.
  ASSERT_TRUE(a.sync.PollOnce(Deadline()).ok());
  ExpectSameRankings(a.store, b.store);
  Replica fresh(*pool_, clock_, "c");
  ASSERT_TRUE(fresh.sync.Restore(Deadline()).ok());
  ExpectSameRankings(a.store, fresh.store);
}

// A backlog larger than one flush transaction is written in parts; every
// view arrives, at the other replica and after a restart, exactly once.
TEST_F(PgStorageTest, ABacklogIsFlushedInPartsWithNothingLostOrDoubled) {
  Replica a(*pool_, clock_, "a", {.max_deltas_per_flush = 7});
  Replica b(*pool_, clock_, "b");
  ASSERT_TRUE(a.sync.Restore(Deadline()).ok());
  ASSERT_TRUE(b.sync.Restore(Deadline()).ok());
  Fill(a, 1);  // far more than 7 (article, bucket) deltas
  a.ingest.CommitBatch("batch-1");
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  int64_t log_rows = 0;
  ASSERT_TRUE(pool_->Transact(Deadline(), [&](pqxx::work& tx) {
                     log_rows = tx.exec("SELECT count(DISTINCT xmin::text) FROM trending.delta_log")[0][0]
                                    .as<int64_t>();
                     return absl::OkStatus();
                   }).ok());
  EXPECT_GT(log_rows, 3);  // rows written by several transactions
  ASSERT_TRUE(b.sync.PollOnce(Deadline()).ok());
  ExpectSameRankings(a.store, b.store);
  EXPECT_TRUE(b.ingest.BatchSeen("batch-1"));
  Replica fresh(*pool_, clock_, "c");
  ASSERT_TRUE(fresh.sync.Restore(Deadline()).ok());
  ExpectSameRankings(a.store, fresh.store);
}

TEST_F(PgStorageTest, BatchIdsAreSharedThroughPostgres) {
  Replica a(*pool_, clock_, "a");
  Replica b(*pool_, clock_, "b");
  ASSERT_TRUE(b.sync.Restore(Deadline()).ok());
  EXPECT_FALSE(a.ingest.BatchSeen("batch-1"));
  a.ingest.CommitBatch("batch-1");
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  ASSERT_TRUE(b.sync.PollOnce(Deadline()).ok());
  EXPECT_TRUE(b.ingest.BatchSeen("batch-1"));
  Replica c(*pool_, clock_, "c");
  ASSERT_TRUE(c.sync.Restore(Deadline()).ok());
  EXPECT_TRUE(c.ingest.BatchSeen("batch-1"));
  EXPECT_FALSE(c.ingest.BatchSeen("batch-2"));
}

// A flush of `n` visitor and `n / 2` event marks, keys from `base`.
PendingBatch MarksBatch(uint64_t base, size_t n) {
  PendingBatch b;
  for (size_t i = 0; i < n; ++i) b.seen.visitors.push_back({base + i, int64_t(1000 + i)});
  for (size_t i = 0; i < n / 2; ++i) b.seen.events.push_back({base + i, int64_t(2000 + i)});
  return b;
}

TEST_F(PgStorageTest, DedupMarksAreWrittenReadSinceAndExpired) {
  PgStorage a(*pool_, "a");
  PgStorage b(*pool_, "b");
  ASSERT_TRUE(a.Flush(MarksBatch(1, 3), Deadline()).ok());
  absl::StatusOr<PollResult> p = b.Poll(0, Deadline());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->seen.visitors, MarksBatch(1, 3).seen.visitors);
  EXPECT_EQ(p->seen.events, MarksBatch(1, 3).seen.events);
  // Own rows are not read back; later polls read only what is new.
  absl::StatusOr<PollResult> own = a.Poll(0, Deadline());
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->seen.empty());
  EXPECT_EQ(own->high_water, p->high_water);
  // A large flush is split into rows of 65536 marks a filter.
  ASSERT_TRUE(a.Flush(MarksBatch(100, 70000), Deadline()).ok());
  absl::StatusOr<PollResult> next = b.Poll(p->high_water, Deadline());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seen.visitors, MarksBatch(100, 70000).seen.visitors);
  EXPECT_EQ(next->seen.events, MarksBatch(100, 70000).seen.events);
  // Restore: all of the window, or the newest whole rows up to a bound.
  absl::StatusOr<RestoredState> all =
      b.Restore(clock_.Now(), absl::Hours(168), absl::Minutes(30), 1'000'000, Deadline());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->seen.size(), 3u + 1 + 70000 + 35000);
  EXPECT_EQ(all->seen.visitors.front().key, 1u);  // oldest first
  absl::StatusOr<RestoredState> newest =
      b.Restore(clock_.Now(), absl::Hours(168), absl::Minutes(30), 10, Deadline());
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->seen.visitors.size(), 70000u - 65536u);  // the last row only
  EXPECT_EQ(newest->seen.visitors.back().key, 100u + 69999u);
  // Trimming the delta log does not touch the marks: they live for the
  // dedup window, then compaction deletes them.
  absl::StatusOr<CompactResult> c = a.Compact(
      {.now = clock_.Now(), .delta_log_retention = absl::ZeroDuration()}, Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->seen_rows_expired, 0);
  c = a.Compact({.now = clock_.Now(), .dedup_retention = absl::ZeroDuration()}, Deadline());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->seen_rows_expired, 3);
  all = b.Restore(clock_.Now(), absl::Hours(168), absl::Minutes(30), 1'000'000, Deadline());
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->seen.empty());
}

TEST_F(PgStorageTest, RepeatViewsDedupAcrossReplicasAndRestarts) {
  Replica a(*pool_, clock_, "a");
  Replica b(*pool_, clock_, "b");
  ASSERT_TRUE(b.sync.Restore(Deadline()).ok());
  ASSERT_EQ(a.View("x", clock_.Now(), "v1"), Outcome::kAccepted);
  uint64_t ticket = 0;
  ASSERT_EQ(a.ingest.Record({.article_name = "articles/y", .event_id = "e1"}, &ticket).outcome,
            Outcome::kAccepted);
  // Before the flush and poll, B does not know (the staleness bound).
  clock_.Advance(absl::Seconds(1));
  Replica early(*pool_, clock_, "early");
  ASSERT_TRUE(early.sync.Restore(Deadline()).ok());
  EXPECT_EQ(early.View("x", clock_.Now(), "v1"), Outcome::kAccepted);
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  ASSERT_TRUE(b.sync.PollOnce(Deadline()).ok());
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(b.View("x", clock_.Now(), "v1"), Outcome::kDeduplicated);
  EXPECT_EQ(b.ingest.Record({.article_name = "articles/y", .event_id = "e1"}, &ticket).outcome,
            Outcome::kDeduplicated);
  EXPECT_EQ(b.View("x", clock_.Now(), "v2"), Outcome::kAccepted);
  // A restarted replica restores the marks of the window.
  Replica c(*pool_, clock_, "c");
  ASSERT_TRUE(c.sync.Restore(Deadline()).ok());
  EXPECT_EQ(c.View("x", clock_.Now(), "v1"), Outcome::kDeduplicated);
  EXPECT_EQ(c.ingest.Record({.article_name = "articles/y", .event_id = "e1"}, &ticket).outcome,
            Outcome::kDeduplicated);
  // 30 minutes after the counted view it counts again, everywhere.
  clock_.Advance(absl::Minutes(20));
  EXPECT_EQ(c.View("x", clock_.Now(), "v1"), Outcome::kAccepted);
  EXPECT_EQ(b.store.Series("x", absl::Hours(1), 1).total_views, 2);  // b's own v2 and a's v1
}

TEST_F(PgStorageTest, CompactionMergesOldMinutesAndExpires) {
  Replica a(*pool_, clock_, "a");
  const absl::Time now = clock_.Now();
  for (int m = 0; m < 30; ++m) {
    ASSERT_EQ(a.View("old", now - absl::Hours(30) + absl::Minutes(m), absl::StrCat("v", m)),
              Outcome::kAccepted);
  }
  a.View("recent", now, "v");
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  absl::StatusOr<CompactResult> c = a.storage.Compact({.now = now}, Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  // Events 30 h old were already placed in an hour bucket by the store.
  EXPECT_EQ(c->minute_rows_compacted, 0);
  // A day later the recent minute is compacted too; a week later all expires.
  c = a.storage.Compact({.now = now + absl::Hours(26)}, Deadline());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->minute_rows_compacted, 1);
  clock_.Advance(absl::Hours(26));
  Replica later(*pool_, clock_, "b");
  ASSERT_TRUE(later.sync.Restore(Deadline()).ok());
  EXPECT_EQ(later.store.Series("recent", absl::Hours(48), 60).total_views, 1);
  EXPECT_EQ(later.store.Series("old", absl::Hours(72), 60).total_views, 30);
  c = a.storage.Compact({.now = now + absl::Hours(24 * 8)}, Deadline());
  ASSERT_TRUE(c.ok());
  EXPECT_GT(c->rows_expired, 0);
  clock_.Set(now + absl::Hours(24 * 8));
  Replica empty(*pool_, clock_, "c");
  ASSERT_TRUE(empty.sync.Restore(Deadline()).ok());
  EXPECT_EQ(empty.store.Stats().articles, 0u);
}

// A merge sums many packs (read a few at a time) into one upsert, written
// in several statements when it has many rows; only a merge cut short by
// its deadline reports a backlog (packs flushed while it ran are not one).
TEST_F(PgStorageTest, MergeSumsPacksAndReportsABacklogOnlyAtItsDeadline) {
  Replica a(*pool_, clock_, "a");
  const absl::Time now = clock_.Now();
  auto bucket_counts = [&] {
    std::pair<int64_t, int64_t> rows_views;
    EXPECT_TRUE(pool_->Transact(Deadline(), [&](pqxx::work& tx) {
                       const pqxx::row r = tx.exec1(
                           "SELECT count(*), COALESCE(sum(views), 0) FROM trending.bucket_counts");
                       rows_views = {r[0].as<int64_t>(), r[1].as<int64_t>()};
                       return absl::OkStatus();
                     }).ok());
    return rows_views;
  };
  // 40 packs of the same three (article, minute) rows.
  for (int p = 0; p < 40; ++p) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(a.View(absl::StrCat("a", i), now, absl::StrCat("v", p)), Outcome::kAccepted);
    }
    ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  }
  absl::StatusOr<CompactResult> c =
      a.storage.Compact({.now = now, .packs_per_merge = 128, .pace_writes = false}, Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->packs_merged, 40);
  EXPECT_EQ(c->packs_unmerged, 0);
  EXPECT_FALSE(c->merge_backlog);
  EXPECT_EQ(bucket_counts(), std::make_pair(int64_t{3}, int64_t{120}));

  // More packs than one merge takes, and no time left for a second merge:
  // a backlog is reported.
  for (int p = 0; p < 20; ++p) {
    ASSERT_EQ(a.View("a0", now, absl::StrCat("w", p)), Outcome::kAccepted);
    ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  }
  c = a.storage.Compact({.now = now,
                         .packs_per_merge = 8,
                         .packs_per_read = 3,
                         .merge_budget = absl::ZeroDuration()},
                        Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->packs_merged, 8);
  EXPECT_EQ(c->packs_unmerged, 12);
  EXPECT_TRUE(c->merge_backlog);
  EXPECT_EQ(bucket_counts(), std::make_pair(int64_t{3}, int64_t{128}));

  // A merge of more rows than one statement writes (40,000 articles).
  for (int i = 0; i < 40'000; ++i) {
    ASSERT_EQ(a.View(absl::StrCat("many", i), now, absl::StrCat("m", i)), Outcome::kAccepted);
  }
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  c = a.storage.Compact({.now = now, .pace_writes = false}, Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->packs_unmerged, 0);
  EXPECT_FALSE(c->merge_backlog);
  EXPECT_EQ(bucket_counts(), std::make_pair(int64_t{40'003}, int64_t{40'140}));
  Replica restored(*pool_, clock_, "b");
  ASSERT_TRUE(restored.sync.Restore(Deadline()).ok());
  EXPECT_EQ(restored.store.Series("a0", absl::Hours(1), 1).total_views, 60);
  EXPECT_EQ(restored.store.Series("many39999", absl::Hours(1), 1).total_views, 1);
}

// A checkpoint is written a step at a time; one stopped part way (the
// service shutting down) does not count as done: the next one takes every
// changed sketch again, and a restore from it is exact.
TEST_F(PgStorageTest, ACheckpointIsWrittenInStepsAndAStoppedOneIsTakenWhole) {
  Replica a(*pool_, clock_, "a");
  Fill(a, 1);  // 14 articles
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  auto state = [&] {
    std::pair<int64_t, int64_t> rows_mark;
    EXPECT_TRUE(pool_->Transact(Deadline(), [&](pqxx::work& tx) {
                       rows_mark = {
                           tx.exec1("SELECT count(*) FROM trending.sketches")[0].as<int64_t>(),
                           tx.exec1("SELECT sketches_merged_upto FROM trending.state")[0]
                               .as<int64_t>()};
                       return absl::OkStatus();
                     }).ok());
    return rows_mark;
  };
  const auto [rows_before, mark_before] = state();
  absl::Notification stopping;
  stopping.Notify();
  absl::StatusOr<CompactResult> c = a.storage.Compact(
      {.now = clock_.Now(), .pace_writes = false, .sketch_bytes_per_statement = 1,
       .cancel = &stopping},
      Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sketch_statements, 1);  // one article's sketches, then it stopped
  const auto [rows_stopped, mark_stopped] = state();
  EXPECT_GT(rows_stopped, rows_before);
  EXPECT_EQ(mark_stopped, mark_before);

  c = a.storage.Compact({.now = clock_.Now(),
                         .delta_log_retention = absl::ZeroDuration(),
                         .pace_writes = false,
                         .sketch_bytes_per_statement = 1},
                        Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sketch_statements, 14);  // an article a statement, all of them again
  const auto [rows_done, mark_done] = state();
  EXPECT_EQ(c->sketch_rows_merged, rows_done);
  EXPECT_GT(mark_done, mark_before);
  EXPECT_GT(c->log_rows_trimmed, 0);  // the restore below reads the sketches, not the log
  Replica restored(*pool_, clock_, "b");
  ASSERT_TRUE(restored.sync.Restore(Deadline()).ok());
  ExpectSameRankings(a.store, restored.store);
}

TEST_F(PgStorageTest, EngagementIsSharedRestoredAndCompacted) {
  Replica a(*pool_, clock_, "a");
  const absl::Time now = clock_.Now();
  ASSERT_EQ(a.PageView("e", now - absl::Minutes(1), "v1", "pv1").outcome, Outcome::kAccepted);
  ASSERT_EQ(a.Ping("e", now - absl::Seconds(30), "v1", "pv1", absl::Seconds(15)).outcome,
            Outcome::kAccepted);
  ASSERT_EQ(a.PageView("e", now - absl::Seconds(20), "v2", "pv2").outcome, Outcome::kAccepted);
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  // Another replica: the engaged time, the reader, and both page views (it
  // takes their pings, and applies the interval of the one already pinged).
  Replica b(*pool_, clock_, "b");
  ASSERT_TRUE(b.sync.PollOnce(Deadline()).ok());
  ArticleSeries s = b.store.Series("e", absl::Hours(1), 60);
  EXPECT_EQ(s.engaged_seconds, 15);
  EXPECT_EQ(s.concurrent_readers, 1);
  EXPECT_EQ(b.Ping("e", now - absl::Seconds(25), "v1", "pv1", absl::Seconds(5)).reason,
            RejectReason::kTooFrequent);
  EXPECT_EQ(b.Ping("e", now, "v2", "pv2", absl::Seconds(12)).outcome, Outcome::kAccepted);
  EXPECT_EQ(b.Ping("e", now, "v3", "pv3", absl::Seconds(12)).reason,
            RejectReason::kUnknownPageView);
  ASSERT_TRUE(b.sync.FlushOnce(Deadline()).ok());
  // A restart: the engaged time from the packs, then (after compaction)
  // from bucket_counts, then from the hour rows the minutes moved into.
  Replica restored(*pool_, clock_, "c");
  ASSERT_TRUE(restored.sync.Restore(Deadline()).ok());
  EXPECT_EQ(restored.store.Series("e", absl::Hours(1), 60).engaged_seconds, 27);
  EXPECT_EQ(restored.store.Series("e", absl::Hours(1), 60).concurrent_readers, 2);
  clock_.Advance(absl::Seconds(15));
  EXPECT_EQ(restored.Ping("e", clock_.Now(), "v1", "pv1", absl::Seconds(3)).outcome,
            Outcome::kAccepted);
  absl::StatusOr<CompactResult> c = a.storage.Compact(
      {.now = clock_.Now(), .delta_log_retention = absl::ZeroDuration()}, Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  Replica merged(*pool_, clock_, "d");
  ASSERT_TRUE(merged.sync.Restore(Deadline()).ok());
  EXPECT_EQ(merged.store.Series("e", absl::Hours(1), 60).engaged_seconds, 27);
  c = a.storage.Compact({.now = now + absl::Hours(26)}, Deadline());
  ASSERT_TRUE(c.ok());
  EXPECT_GT(c->minute_rows_compacted, 0);
  clock_.Set(now + absl::Hours(26));
  Replica later(*pool_, clock_, "e");
  ASSERT_TRUE(later.sync.Restore(Deadline()).ok());
  ArticleSeries day = later.store.Series("e", absl::Hours(48), 60);
  EXPECT_EQ(day.engaged_seconds, 27);
  EXPECT_EQ(day.concurrent_readers, 0);
}

TEST_F(PgStorageTest, AReplicaThatMissedTrimmedDeltasTurnsUnhealthy) {
  Replica a(*pool_, clock_, "a");
  Replica b(*pool_, clock_, "b");
  ASSERT_TRUE(b.sync.Restore(Deadline()).ok());
  {
    // The flush below lands in the default partition, which a zero
    // retention trims at once (a minute partition goes once its minute is
    // past): without the partitions the restore created for this minute
    // and the next.
    const int64_t now_min = DbMinute();
    for (int64_t m : {now_min, now_min + 1}) {
      Sql(absl::StrCat("DROP TABLE IF EXISTS trending.delta_log_m", m));
    }
  }
  a.View("x", clock_.Now(), "v");
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  ASSERT_TRUE(a.storage.Compact({.now = clock_.Now(), .delta_log_retention = absl::ZeroDuration()},
                                Deadline()).ok());
  EXPECT_TRUE(b.sync.Healthy().ok());
  ASSERT_TRUE(b.sync.PollOnce(Deadline()).ok());
  EXPECT_FALSE(b.sync.Healthy().ok());
}

// Migration 0005: the logs are trimmed by dropping whole minute partitions
// (created ahead by the compactor), never a partition holding a pack that
// the counts or the sketches do not hold yet, and a compaction that cannot
// get the table's lock at once leaves its partitions for the next one.
TEST_F(PgStorageTest, LogsAreTrimmedByDroppingMinutePartitions) {
  auto partitions = [&](const std::string& table) {
    std::vector<int64_t> minutes;
    for (const auto& row : Sql(absl::StrCat(
             "SELECT substr(c.relname, length('", table, "_m') + 1)::bigint FROM pg_inherits i "
             "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'trending.", table,
             "'::regclass AND c.relname <> '", table, "_default' ORDER BY 1"))) {
      minutes.push_back(row[0].as<int64_t>());
    }
    return minutes;
  };
  // A partition of `table` for minute `m` holding one row of that minute.
  auto old_partition = [&](const std::string& table, int64_t m, const std::string& values) {
    Sql(absl::StrCat("CREATE TABLE trending.", table, "_m", m, " PARTITION OF trending.", table,
                     " FOR VALUES FROM (to_timestamp(", m * 60, ")) TO (to_timestamp(",
                     (m + 1) * 60, "))"));
    return Sql(absl::StrCat("INSERT INTO trending.", table, values, ", to_timestamp(", m * 60 + 5,
                            ")) RETURNING seq"))[0][0]
        .as<int64_t>();
  };
  const int64_t now_min = DbMinute();

  Replica a(*pool_, clock_, "a");
  ASSERT_TRUE(a.sync.Restore(Deadline()).ok());
  // Packs of another replica, 40 and 3 minutes old; dedup marks 40 minutes old.
  const int64_t old_seq = old_partition("delta_log", now_min - 40,
                                        " (replica, deltas, created_at) VALUES ('z', 0");
  old_partition("delta_log", now_min - 3, " (replica, deltas, created_at) VALUES ('z', 0");
  old_partition("seen_log", now_min - 40,
                " (replica, marks, visitors, events, created_at) VALUES ('z', 1, '', ''");
  a.View("x", clock_.Now(), "v");
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());  // lands in the default partition

  const CompactOptions ten_minutes{.now = clock_.Now(),
                                   .delta_log_retention = absl::Minutes(10),
                                   .dedup_retention = absl::Minutes(30)};
  absl::StatusOr<CompactResult> c = a.storage.Compact(ten_minutes, Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  // The next minutes exist ahead; the old marks are gone; the old pack is
  // kept: this replica has not applied it, so its sketches do not hold it.
  std::vector<int64_t> expected = {now_min - 40, now_min - 3};
  for (int64_t m = now_min + 1; m <= now_min + 5; ++m) expected.push_back(m);
  const std::vector<int64_t> created = partitions("delta_log");
  ASSERT_GE(created.size(), expected.size());
  EXPECT_EQ(std::vector<int64_t>(created.begin(), created.begin() + 2),
            std::vector<int64_t>(expected.begin(), expected.begin() + 2));
  for (int64_t m = now_min + 1; m <= now_min + 5; ++m) {
    EXPECT_NE(std::find(created.begin(), created.end(), m), created.end()) << m;
  }
  // Insert-only and dropped whole: never vacuumed.
  EXPECT_EQ(Sql(absl::StrCat("SELECT array_to_string(c.reloptions || t.reloptions, ',') "
                             "FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid "
                             "WHERE c.oid = 'trending.delta_log_m",
                             now_min + 1, "'::regclass"))[0][0]
                .as<std::string>(),
            "autovacuum_enabled=false,autovacuum_enabled=false");
  const std::vector<int64_t> seen = partitions("seen_log");
  EXPECT_EQ(std::count(seen.begin(), seen.end(), now_min - 40), 0);
  EXPECT_EQ(c->seen_rows_expired, 1);
  EXPECT_EQ(c->log_rows_trimmed, 0);

  // Once applied (and checkpointed), the 40-minute-old partition goes; the
  // 3-minute-old one stays for the retention. A compaction that cannot get
  // the lock at once first leaves it there.
  ASSERT_TRUE(a.sync.PollOnce(Deadline()).ok());
  {
    pqxx::connection reader(db_.dsn());
    pqxx::work open(reader);
    open.exec("SELECT count(*) FROM trending.delta_log");
    c = a.storage.Compact(ten_minutes, Deadline());
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(partitions("delta_log").front(), now_min - 40);
    EXPECT_EQ(c->log_rows_trimmed, 0);
  }
  c = a.storage.Compact(ten_minutes, Deadline());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(partitions("delta_log").front(), now_min - 3);
  EXPECT_EQ(c->log_rows_trimmed, 1);
  EXPECT_GE(Sql("SELECT log_trimmed_upto FROM trending.state")[0][0].as<int64_t>(), old_seq);
  // Views flushed now are still restored whole.
  Replica restored(*pool_, clock_, "b");
  ASSERT_TRUE(restored.sync.Restore(Deadline()).ok());
  EXPECT_EQ(restored.store.Series("x", absl::Hours(1), 60).total_views, 1);
}

// Before serving, a replica creates the minute partitions ahead and the
// current one (so a fresh deployment's first flushes do not land in the
// default partition, which is trimmed with DELETE) and drops nothing:
// expiry is the compactor's.
TEST_F(PgStorageTest, RestoreCreatesTheNextMinutesPartitions) {
  const int64_t now_min = DbMinute();
  Sql(absl::StrCat("CREATE TABLE trending.seen_log_m", now_min - 40,
                   " PARTITION OF trending.seen_log FOR VALUES FROM (to_timestamp(",
                   (now_min - 40) * 60, ")) TO (to_timestamp(", (now_min - 39) * 60, "))"));
  // A row of this minute in seen_log's default partition (another
  // replica's flush): that minute's partition cannot be created.
  Sql("INSERT INTO trending.seen_log (replica, marks, visitors, events) VALUES ('z', 1, '', '')");

  Replica a(*pool_, clock_, "a");
  ASSERT_TRUE(a.sync.Restore(Deadline()).ok());
  auto exists = [&](const std::string& name) {
    return Sql(absl::StrCat("SELECT to_regclass('trending.", name, "') IS NOT NULL"))[0][0]
        .as<bool>();
  };
  if (DbMinute() == now_min) {  // else the test crossed a minute boundary
    EXPECT_TRUE(exists(absl::StrCat("delta_log_m", now_min)));
    EXPECT_FALSE(exists(absl::StrCat("seen_log_m", now_min)));
  }
  for (const std::string table : {"delta_log", "seen_log"}) {
    // Created in the minute read above or the next one (a test crossing a
    // minute boundary).
    for (int64_t m = now_min + 2; m <= now_min + 5; ++m) {
      EXPECT_EQ(Sql(absl::StrCat("SELECT count(*) FROM pg_class c JOIN pg_class t ON "
                                 "t.oid = c.reltoastrelid WHERE c.relname = '",
                                 table, "_m", m,
                                 "' AND c.reloptions @> '{autovacuum_enabled=false}' "
                                 "AND t.reloptions @> '{autovacuum_enabled=false}'"))[0][0]
                    .as<int>(),
                1)
          << table << " minute " << m;
    }
  }
  EXPECT_TRUE(exists(absl::StrCat("seen_log_m", now_min - 40)));
}

TEST_F(PgStorageTest, WaitersAreCalledAfterTheFlush) {
  Replica a(*pool_, clock_, "a");
  uint64_t ticket = 0;
  a.ingest.Record({.article_name = "articles/x"}, &ticket);
  int calls = 0;
  a.sync.WhenDurable(ticket, [&](absl::Status s) {
    EXPECT_TRUE(s.ok());
    ++calls;
  });
  EXPECT_EQ(calls, 0);
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  EXPECT_EQ(calls, 1);
  a.sync.WhenDurable(ticket, [&](absl::Status s) { calls += s.ok() ? 1 : 100; });
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace newsgrid::trending
