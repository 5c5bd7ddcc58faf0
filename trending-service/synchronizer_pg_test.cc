// Synchronizer against a real PostgreSQL: the backlog bound and its
// resumption, a failed flush retried with nothing lost, and Stop (final
// flush, waiters answered). Flush/poll/restore between replicas are in
// pg_storage_pg_test.cc.
#include "trending-service/synchronizer.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/support/test_database.h"
#include "tests/support/trending_replica.h"

namespace newsgrid::trending {
namespace {

absl::Time Deadline() { return absl::Now() + absl::Seconds(30); }

using Replica = testing::TrendingReplica;

// A distinct view (its own article and visitor) now; returns its ticket.
uint64_t ViewOf(Replica& r, int i) {
  uint64_t ticket = 0;
  EXPECT_EQ(r.View(absl::StrCat("a", i), absl::InfinitePast(), absl::StrCat("v", i), &ticket),
            Outcome::kAccepted);
  return ticket;
}

class SynchronizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ApplyMigrations(db_.dsn(), TrendingMigrations()).ok());
    pool_ = std::make_unique<PgPool>(PgPool::Options{.dsn = db_.dsn(), .size = 4});
  }
  // Takes the flush's table away (or brings it back): flushes fail while it
  // is away, as they would with PostgreSQL unreachable.
  void DeltaLogAway(bool away) {
    pqxx::connection c(db_.dsn());
    pqxx::nontransaction tx(c);
    tx.exec(away ? "ALTER TABLE trending.delta_log RENAME TO delta_log_away"
                 : "ALTER TABLE trending.delta_log_away RENAME TO delta_log");
  }
  // The views of the last hour as a fresh replica restores them.
  int64_t ViewsRestoredElsewhere() {
    Replica b(*pool_, clock_, "b");
    EXPECT_TRUE(b.sync.Restore(Deadline()).ok());
    int64_t n = 0;
    for (const RankedEntry& e :
         b.store.Trending({.window = absl::Hours(1), .limit = 100}).entries) {
      n += e.views;
    }
    return n;
  }
  testing::TestDatabase db_;
  std::unique_ptr<PgPool> pool_;
  FakeClock clock_{absl::Now()};
};

TEST_F(SynchronizerTest, UnflushedViewsCountUntilTheFlushCommits) {
  Replica a(*pool_, clock_, "a");
  for (int i = 0; i < 7; ++i) ViewOf(a, i);
  EXPECT_EQ(a.sync.unflushed_views(), 7);
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  EXPECT_EQ(a.sync.unflushed_views(), 0);
  EXPECT_GE(a.sync.durable_seq(), 1u);
}

TEST_F(SynchronizerTest, AFailedFlushKeepsItsViewsForTheNextOneAndWaitersWait) {
  Replica a(*pool_, clock_, "a");
  const uint64_t first = ViewOf(a, 1);
  int answered = 0;
  absl::Status answer = absl::UnknownError("not called");
  a.sync.WhenDurable(first, [&](absl::Status s) {
    ++answered;
    answer = s;
  });
  DeltaLogAway(true);
  EXPECT_FALSE(a.sync.FlushOnce(Deadline()).ok());
  EXPECT_EQ(answered, 0);  // a failed flush answers nobody
  EXPECT_EQ(a.sync.unflushed_views(), 1);
  ViewOf(a, 2);  // arrives while the first flush is owed
  EXPECT_FALSE(a.sync.FlushOnce(Deadline()).ok());
  EXPECT_EQ(a.sync.unflushed_views(), 2);
  DeltaLogAway(false);
  ASSERT_TRUE(a.sync.FlushOnce(Deadline()).ok());
  EXPECT_EQ(answered, 1);
  EXPECT_TRUE(answer.ok()) << answer;
  EXPECT_EQ(a.sync.unflushed_views(), 0);
  // Both views, once each, in what another replica restores.
  EXPECT_EQ(ViewsRestoredElsewhere(), 2);
}

TEST_F(SynchronizerTest, BackloggedAtTheBoundUntilAFlushResumesTheWaiting) {
  Replica a(*pool_, clock_, "a", {.flush_interval = absl::Milliseconds(20),
                                  .max_unflushed_views = 5});
  for (int i = 0; i < 4; ++i) ViewOf(a, i);
  EXPECT_FALSE(a.sync.Backlogged());
  bool resumed_inline = false;
  a.sync.WhenNotBacklogged([&] { resumed_inline = true; });
  EXPECT_TRUE(resumed_inline);  // below the bound: at once

  ViewOf(a, 4);
  EXPECT_TRUE(a.sync.Backlogged());
  absl::Notification resumed;
  a.sync.WhenNotBacklogged([&] { resumed.Notify(); });
  EXPECT_FALSE(resumed.HasBeenNotified());
  a.sync.Start();  // the flush thread writes the backlog, then resumes
  EXPECT_TRUE(resumed.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_FALSE(a.sync.Backlogged());
  a.sync.Stop(Deadline());
}

TEST_F(SynchronizerTest, StopFlushesWhatIsPendingAndAnswersWaiters) {
  Replica a(*pool_, clock_, "a", {.flush_interval = absl::Hours(1)});
  a.sync.Start();
  uint64_t ticket = 0;
  for (int i = 0; i < 3; ++i) ticket = ViewOf(a, i);
  absl::Status answer = absl::UnknownError("not called");
  a.sync.WhenDurable(ticket, [&](absl::Status s) { answer = s; });
  a.sync.Stop(Deadline());
  EXPECT_TRUE(answer.ok()) << answer;
  EXPECT_EQ(a.sync.unflushed_views(), 0);
  // After Stop a durable ticket is answered OK at once.
  absl::Status late = absl::UnknownError("not called");
  a.sync.WhenDurable(ticket, [&](absl::Status s) { late = s; });
  EXPECT_TRUE(late.ok()) << late;
  EXPECT_EQ(ViewsRestoredElsewhere(), 3);
}

TEST_F(SynchronizerTest, StopWithoutPostgresAnswersUnavailableAndReleasesPausedStreams) {
  Replica a(*pool_, clock_, "a", {.flush_interval = absl::Hours(1),
                                  .max_unflushed_views = 1});
  a.sync.Start();
  const uint64_t ticket = ViewOf(a, 1);
  ASSERT_TRUE(a.sync.Backlogged());
  bool resumed = false;
  a.sync.WhenNotBacklogged([&] { resumed = true; });
  absl::Status answer = absl::UnknownError("not called");
  a.sync.WhenDurable(ticket, [&](absl::Status s) { answer = s; });
  DeltaLogAway(true);
  a.sync.Stop(absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(answer.code(), absl::StatusCode::kUnavailable) << answer;
  EXPECT_TRUE(resumed);  // a paused stream is not left waiting forever
  // A waiter arriving after Stop is answered at once, not kept.
  absl::Status late = absl::UnknownError("not called");
  a.sync.WhenDurable(ticket, [&](absl::Status s) { late = s; });
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable);
  DeltaLogAway(false);
}

}  // namespace
}  // namespace newsgrid::trending
