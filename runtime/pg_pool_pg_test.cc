#include "runtime/pg_pool.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/test_database.h"

namespace newsgrid {
namespace {

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

TEST(PgPoolPgTest, CommitsOnOkAndRollsBackOnError) {
  testing::TestDatabase db;
  {
    pqxx::connection setup(db.dsn());  // the registered statement's table exists first
    pqxx::nontransaction(setup).exec("CREATE TABLE t (x int)");
  }
  PgPool pool({.dsn = db.dsn(), .size = 2,
               .prepared = {{"insert_x", "INSERT INTO t (x) VALUES ($1)"}}});
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

TEST(PgPoolPgTest, QueryRunsEachStatementInItsOwnTransaction) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 1});
  ASSERT_TRUE(pool.Query(Soon(), [](pqxx::transaction_base& tx) {
                    tx.exec("CREATE TABLE t (x int)");
                    return absl::OkStatus();
                  }).ok());
  // No BEGIN: the insert stays even though the callback fails afterwards.
  EXPECT_EQ(pool.Query(Soon(), [](pqxx::transaction_base& tx) {
                  tx.exec("INSERT INTO t VALUES (1)");
                  return absl::InternalError("after the insert");
                }).code(),
            absl::StatusCode::kInternal);
  int count = -1, in_transaction = -1;
  ASSERT_TRUE(pool.Query(Soon(), [&](pqxx::transaction_base& tx) {
                    count = tx.exec1("SELECT count(*) FROM t")[0].as<int>();
                    // Two statements, two transactions.
                    const int64_t a = tx.exec1("SELECT txid_current()")[0].as<int64_t>();
                    const int64_t b = tx.exec1("SELECT txid_current()")[0].as<int64_t>();
                    in_transaction = a == b;
                    return absl::OkStatus();
                  }).ok());
  EXPECT_EQ(count, 1);
  EXPECT_EQ(in_transaction, 0);
}

TEST(PgPoolPgTest, ExecCachedPreparesOncePerConnectionWithinABound) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 1});
  auto prepared = [&] {
    int n = -1;
    EXPECT_TRUE(pool.Query(Soon(), [&](pqxx::transaction_base& tx) {
                      n = tx.exec1("SELECT count(*) FROM pg_prepared_statements")[0].as<int>();
                      return absl::OkStatus();
                    }).ok());
    return n;
  };
  for (int i = 0; i < 5; ++i) {
    int got = -1;
    ASSERT_TRUE(pool.Query(Soon(), [&](pqxx::transaction_base& tx) {
                      got = pool.ExecCached(tx, "SELECT $1::int + 1", {std::to_string(i)})[0][0]
                                .as<int>();
                      return absl::OkStatus();
                    }).ok());
    EXPECT_EQ(got, i + 1);
  }
  EXPECT_EQ(prepared(), 1);  // one statement, prepared once
  // More shapes than the bound: the least recently used are deallocated.
  const int shapes = static_cast<int>(PgPool::kMaxCachedStatements) + 10;
  for (int i = 0; i < shapes; ++i) {
    ASSERT_TRUE(pool.Query(Soon(), [&](pqxx::transaction_base& tx) {
                      EXPECT_EQ(pool.ExecCached(tx, "SELECT $1::int + " + std::to_string(i),
                                                {"1"})[0][0]
                                    .as<int>(),
                                1 + i);
                      return absl::OkStatus();
                    }).ok());
  }
  EXPECT_EQ(prepared(), static_cast<int>(PgPool::kMaxCachedStatements));
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

// A statement timeout can end a PREPARE after the server has stored the
// statement but before the client hears so (PostgreSQL reports the timeout
// for the whole exchange). A client that then believes the statement missing
// fails every later attempt to prepare it ("already exists"); one whose
// cache names a statement it never defined fails every call with it. The
// race tests below make statements whose PREPARE ends just as a 2 ms
// statement timeout fires: a staircase lengthens the statement (a longer IN
// list to parse) after each call that beat the timeout and shortens it after
// each that did not, so the calls keep landing on the boundary.
class PrepareRace {
 public:
  // A statement returning $1 + `tag`, about as slow to prepare as needed.
  std::string Sql(int tag) const {
    std::string sql = absl::StrCat("SELECT $1::int + ", tag, " WHERE $1::int NOT IN (-1");
    for (int i = 2; i <= length_; ++i) absl::StrAppend(&sql, ",-", i);
    return sql + ")";
  }
  // A deadline that sets a 2 ms statement timeout (StatementTimeoutFor).
  static absl::Time Deadline() { return absl::Now() + absl::Microseconds(2900); }
  void Record(const absl::Status& racing) {
    const int direction = racing.ok() ? 1 : -1;
    // Halving the step at each turn finds the boundary within a few dozen
    // calls on any machine, then follows it closely.
    if (direction != direction_) step_ = std::max(kMinStep, step_ / 2);
    direction_ = direction;
    length_ = std::max(kMinStep, length_ + direction * step_);
    if (!racing.ok()) ++timed_out_;
  }
  int timed_out() const { return timed_out_; }

 private:
  static constexpr int kMinStep = 20;
  int length_ = 2000;
  int step_ = 800;
  int direction_ = 1;
  int timed_out_ = 0;
};

using ExecFn = std::function<pqxx::result(pqxx::transaction_base&)>;

// The int in the first row and column of what `fn` returns, or its status.
absl::StatusOr<int> QueryInt(PgPool& pool, absl::Time deadline, const ExecFn& fn) {
  int got = -1;
  absl::Status s = pool.Query(deadline, [&](pqxx::transaction_base& tx) {
    got = fn(tx)[0][0].as<int>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return got;
}

// The process id of the server backend serving the pool's connection.
absl::StatusOr<int> BackendPid(PgPool& pool) {
  return QueryInt(pool, Soon(), [](pqxx::transaction_base& tx) {
    return tx.exec("SELECT pg_backend_pid()");
  });
}

// One round: `exec` first under the race's deadline (it may time out, with
// DEADLINE_EXCEEDED and nothing else), then under a calm one, where it must
// return `expected`.
void RaceThenCheck(PgPool& pool, PrepareRace& race, const ExecFn& exec, int expected) {
  const absl::StatusOr<int> racing = QueryInt(pool, PrepareRace::Deadline(), exec);
  if (!racing.ok()) {
    ASSERT_EQ(racing.status().code(), absl::StatusCode::kDeadlineExceeded) << racing.status();
  }
  race.Record(racing.status());
  const absl::StatusOr<int> calm = QueryInt(pool, Soon(), exec);
  ASSERT_TRUE(calm.ok()) << calm.status();
  EXPECT_EQ(*calm, expected);
}

TEST(PgPoolPgTest, CachedStatementsPreparedAsTheDeadlinePassesStayUsable) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 1});
  PrepareRace race;
  for (int i = 0; i < 300 && !HasFatalFailure(); ++i) {
    const std::string sql = race.Sql(i);
    SCOPED_TRACE(absl::StrCat("statement ", i));
    RaceThenCheck(
        pool, race, [&](pqxx::transaction_base& tx) { return pool.ExecCached(tx, sql, {"1"}); },
        1 + i);
  }
  EXPECT_GT(race.timed_out(), 0);
}

// The same race for the registered statements: each connection prepares
// them as it opens, so no call's deadline can cut their PREPARE short.
TEST(PgPoolPgTest, RegisteredStatementsAreUsableWhateverTheFirstCallsDeadline) {
  testing::TestDatabase db;
  PrepareRace race;
  for (int i = 0; i < 100 && !HasFatalFailure(); ++i) {
    PgPool pool({.dsn = db.dsn(), .size = 1, .prepared = {{"slow", race.Sql(i)}}});
    ASSERT_TRUE(pool.Ping(absl::Seconds(10)).ok());  // the connection is open
    SCOPED_TRACE(absl::StrCat("round ", i));
    // The racing call is the statement's first use on this connection.
    RaceThenCheck(
        pool, race, [](pqxx::transaction_base& tx) { return tx.exec_prepared("slow", 1); }, 1 + i);
  }
}

// A name whose PREPARE failed is never used again; past kMaxCachedStatements
// such names the connection is closed, so what the server may still hold
// under them stays bounded.
TEST(PgPoolPgTest, ConnectionsWithTooManyAbandonedStatementsAreClosed) {
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 1});
  const absl::StatusOr<int> first = BackendPid(pool);
  ASSERT_TRUE(first.ok()) << first.status();
  for (size_t i = 0; i < PgPool::kMaxCachedStatements; ++i) {
    const absl::StatusOr<int> broken = QueryInt(pool, Soon(), [&](pqxx::transaction_base& tx) {
      return pool.ExecCached(tx, "SELEC 1", {});
    });
    EXPECT_EQ(broken.status().code(), absl::StatusCode::kInternal) << broken.status();
  }
  EXPECT_EQ(BackendPid(pool), first);  // at the bound: kept
  EXPECT_FALSE(QueryInt(pool, Soon(), [&](pqxx::transaction_base& tx) {
                 return pool.ExecCached(tx, "SELEC 1", {});
               }).ok());
  const absl::StatusOr<int> next = BackendPid(pool);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_NE(*next, *first);  // past it: a new connection
  EXPECT_EQ(*QueryInt(pool, Soon(), [&](pqxx::transaction_base& tx) {
              return pool.ExecCached(tx, "SELECT $1::int", {"7"});
            }),
            7);
}

// Stops and resumes a server backend every few milliseconds, as a busy
// host would, so that its statements often outlast a 1 ms timeout.
class BackendPauser {
 public:
  explicit BackendPauser(pid_t pid) : pid_(pid), thread_([this] { Run(); }) {}
  ~BackendPauser() {
    done_ = true;
    thread_.join();
  }

 private:
  void Run() {
    while (!done_.load()) {
      kill(pid_, SIGSTOP);
      absl::SleepFor(absl::Milliseconds(2));
      kill(pid_, SIGCONT);
      absl::SleepFor(absl::Microseconds(300));
    }
  }
  const pid_t pid_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// A call with a few milliseconds left leaves a short statement_timeout in
// the session. The next call's SET runs under it, and a timer that fires
// just as a statement ends cancels the statement after it. Every call with
// time to spare must succeed all the same.
TEST(PgPoolPgTest, AShortDeadlineNeverFailsTheNextCall) {
  if (geteuid() != 0) GTEST_SKIP() << "pausing the server's backend needs root";
  testing::TestDatabase db;
  PgPool pool({.dsn = db.dsn(), .size = 1});
  const absl::StatusOr<int> pid = BackendPid(pool);
  ASSERT_TRUE(pid.ok()) << pid.status();
  BackendPauser pauser(*pid);
  int ran_under_short_timeout = 0;
  for (int i = 0; i < 200 && !HasFailure(); ++i) {
    SCOPED_TRACE(absl::StrCat("round ", i));
    // Runs under a 1 ms timeout unless the deadline passes first.
    const absl::StatusOr<int> hurried =
        QueryInt(pool, absl::Now() + absl::Microseconds(1900),
                 [](pqxx::transaction_base& tx) { return tx.exec("SELECT 1"); });
    if (hurried.ok() || hurried.status().message() == "database statement timed out") {
      ++ran_under_short_timeout;
    }
    const absl::StatusOr<int> calm = QueryInt(
        pool, Soon(), [&](pqxx::transaction_base& tx) { return tx.exec_params("SELECT $1::int", i); });
    ASSERT_TRUE(calm.ok()) << calm.status();
    EXPECT_EQ(*calm, i);
    EXPECT_EQ(BackendPid(pool), pid);  // settled on the same connection
  }
  EXPECT_GT(ran_under_short_timeout, 0);
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
