#include "runtime/pg_pool.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/test_database.h"

namespace newsgrid {
namespace {

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

TEST(PgPoolPgTest, CommitsOnOkAndRollsBackOnError) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 2,
               .prepared = {{"insert_x", "INSERT INTO t (x) VALUES ($1)"}}});
  ASSERT_TRUE(pool.Transact(Soon(), [](pqxx::work& tx) {
                    tx.exec("CREATE TABLE t (x int)");
                    return absl::OkStatus();
                  }).ok());
  ASSERT_TRUE(pool.Transact(Soon(), [](pqxx::work& tx) {
                    tx.exec_prepared("insert_x", 1);
                    return absl::OkStatus();
                  }).ok());
  EXPECT_EQ(pool.Transact(Soon(), [](pqxx::work& tx) {
                  tx.exec_prepared("insert_x", 2);
                  return absl::AbortedError("caller changed its mind");
                }).code(),
            absl::StatusCode::kAborted);
  int count = -1;
  ASSERT_TRUE(pool.Transact(Soon(), [&](pqxx::work& tx) {
                    count = tx.exec1("SELECT count(*) FROM t")[0].as<int>();
                    return absl::OkStatus();
                  }).ok());
  EXPECT_EQ(count, 1);
}

TEST(PgPoolPgTest, DeadlineBecomesStatementTimeout) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 1});
  const absl::Time start = absl::Now();
  absl::Status s = pool.Transact(absl::Now() + absl::Milliseconds(300), [](pqxx::work& tx) {
    tx.exec("SELECT pg_sleep(5)");
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  // The connection is still usable afterwards.
  EXPECT_TRUE(pool.Ping(absl::Seconds(5)).ok());
}

TEST(PgPoolPgTest, StatementTimeoutIsRoundedDownByAtMostASixteenth) {
  EXPECT_EQ(StatementTimeoutFor(absl::Milliseconds(20)), 20);
  EXPECT_EQ(StatementTimeoutFor(absl::ZeroDuration()), 1);
  EXPECT_EQ(StatementTimeoutFor(absl::Milliseconds(9990)), 9728);
  EXPECT_EQ(StatementTimeoutFor(absl::Milliseconds(9750)), 9728);
  for (int64_t ms : {1, 31, 32, 100, 999, 1000, 4954, 9999, 60000, 3600000}) {
    const int64_t t = StatementTimeoutFor(absl::Milliseconds(ms));
    EXPECT_LE(t, ms);
    EXPECT_GE(t * 16, ms * 15) << ms;
  }
}

// The session's timeout follows each call's deadline, down and back up.
TEST(PgPoolPgTest, EachCallRunsUnderItsOwnDeadline) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 1});
  auto timeout_ms = [&](absl::Duration left) {
    int64_t ms = -1;
    EXPECT_TRUE(pool.Transact(absl::Now() + left, [&](pqxx::work& tx) {
                      ms = tx.exec("SELECT setting::bigint FROM pg_settings "
                                   "WHERE name = 'statement_timeout'")[0][0]
                               .as<int64_t>();
                      return absl::OkStatus();
                    }).ok());
    return ms;
  };
  EXPECT_EQ(timeout_ms(absl::Seconds(10)), 9728);
  EXPECT_EQ(timeout_ms(absl::Seconds(10)), 9728);  // reused
  const int64_t short_ms = timeout_ms(absl::Milliseconds(500));
  EXPECT_LE(short_ms, 500);
  EXPECT_GE(short_ms, 400);
  EXPECT_EQ(timeout_ms(absl::Seconds(10)), 9728);
  // WithConnection gets the bound too.
  absl::Status s = pool.WithConnection(absl::Now() + absl::Milliseconds(300),
                                       [](pqxx::connection& c) {
                                         pqxx::nontransaction(c).exec("SELECT pg_sleep(5)");
                                         return absl::OkStatus();
                                       });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
}

TEST(PgPoolPgTest, SqlErrorsDoNotLeakText) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 1});
  absl::Status s = pool.Transact(Soon(), [](pqxx::work& tx) {
    tx.exec("SELECT * FROM no_such_table");
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message().find("no_such_table"), absl::string_view::npos) << s;
}

// What each kind of database error becomes: retryable conflicts ABORTED,
// duplicates ALREADY_EXISTS, timeouts DEADLINE_EXCEEDED, an unknown commit
// outcome or a server going away UNAVAILABLE; the rest INTERNAL.
TEST(PgPoolPgTest, DatabaseErrorsMapToStatusCodes) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 1});
  auto raising = [&pool](const std::string& errcode) {
    return pool.Transact(Soon(), [&errcode](pqxx::work& tx) {
      tx.exec("DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '" + errcode + "'; END $$");
      return absl::OkStatus();
    });
  };
  EXPECT_EQ(raising("40001").code(), absl::StatusCode::kAborted);  // serialization_failure
  EXPECT_EQ(raising("40P01").code(), absl::StatusCode::kAborted);  // deadlock_detected
  EXPECT_EQ(raising("40003").code(), absl::StatusCode::kUnavailable);  // completion unknown
  EXPECT_EQ(raising("23505").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(raising("57014").code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(raising("57P01").code(), absl::StatusCode::kUnavailable);   // admin_shutdown
  EXPECT_EQ(raising("53100").code(), absl::StatusCode::kUnavailable);   // disk_full
  EXPECT_EQ(raising("22012").code(), absl::StatusCode::kInternal);      // division_by_zero
  // And a real unique violation, from a constraint.
  absl::Status dup = pool.Transact(Soon(), [](pqxx::work& tx) {
    tx.exec("CREATE TEMP TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (1)");
    return absl::OkStatus();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  // The pool is still usable after each of them.
  EXPECT_TRUE(pool.Ping(absl::Seconds(5)).ok());
}

TEST(PgPoolPgTest, UnreachableServerIsUnavailable) {
  PgPool pool({.dsn = "host=127.0.0.1 port=1 dbname=x connect_timeout=2", .size = 1});
  EXPECT_EQ(pool.Ping(absl::Seconds(3)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pool.in_use(), 0);
}

TEST(PgPoolPgTest, ReconnectsAfterConnectionsAreKilled) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 2});
  ASSERT_TRUE(pool.Ping(absl::Seconds(5)).ok());
  {
    PgPool admin({.dsn = testing::TestDatabase::AdminDsn(), .size = 1});
    ASSERT_TRUE(admin.Transact(Soon(), [&](pqxx::work& tx) {
                       tx.exec_params(
                           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = $1 AND pid <> pg_backend_pid()",
                           db.name());
                       return absl::OkStatus();
                     }).ok());
  }
  // The first use of a killed connection fails as UNAVAILABLE (retryable)
  // and drops it; the pool then opens a fresh one.
  absl::Status first = pool.Ping(absl::Seconds(5));
  if (!first.ok()) {
    EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable) << first;
  }
  EXPECT_TRUE(pool.Ping(absl::Seconds(5)).ok());
}

TEST(PgPoolPgTest, BoundsConcurrentConnections) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 3});
  std::atomic<int> peak{0}, now{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      absl::Status s = pool.Transact(absl::Now() + absl::Seconds(20), [&](pqxx::work& tx) {
        int n = ++now;
        int p = peak.load();
        while (n > p && !peak.compare_exchange_weak(p, n)) {
        }
        tx.exec("SELECT pg_sleep(0.05)");
        --now;
        return absl::OkStatus();
      });
      EXPECT_TRUE(s.ok()) << s;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(peak.load(), 3);
  EXPECT_EQ(pool.in_use(), 0);
  EXPECT_LE(pool.idle(), 3);
}

}  // namespace
}  // namespace newsgrid
