// The PostgreSQL connection pool: the one way both services reach the
// database.
//
// A fixed number of libpqxx connections (one per thread at a time), opened
// lazily and reopened after the server restarts; each new connection
// prepares the registered statements. Every use of a connection runs with
// the RPC's remaining time as `statement_timeout`, and database errors come back as
// absl::Status (UNAVAILABLE when the server is unreachable, DEADLINE_EXCEEDED
// on timeout, ABORTED on serialization failure) with no SQL text.
//
// PostgreSQL can report a statement timeout for a PREPARE it has already
// stored; a client that then believes the statement missing prepares it
// again and fails with "already exists" on every later call on that
// connection. So the registered statements are prepared as a connection
// opens, where no RPC's timeout applies, and ExecCached prepares a
// statement on its own before its first execution: when that PREPARE
// fails, its name is abandoned, never used again on the connection.
//
// The timeout is a session setting, set only when it changes: a `SET LOCAL`
// per transaction would cost a round trip per call, which is a large part
// of a short transaction on loopback. So it is rounded down to at most 1/16
// below the remaining time (StatementTimeoutFor), and calls with similar
// deadlines (the usual case: one default deadline) reuse the setting. A
// short timeout left by one call can still end the next call's SET, or fire
// just as a statement ends and cancel the statement after it; the pool
// settles the session first in those cases (SetStatementTimeout), so a
// call never fails for its predecessor's deadline.
//
//   PgPool pool({.dsn = dsn, .size = 8,
//                .prepared = {{"get_article", "SELECT ... WHERE id = $1"}}});
//   absl::Status s = pool.Transact(deadline, [&](pqxx::work& tx) {
//     pqxx::result r = tx.exec_prepared("get_article", id);
//     ...
//     return absl::OkStatus();
//   });
//   s = pool.Query(deadline, [&](pqxx::transaction_base& tx) {  // one statement, autocommit
//     r = tx.exec_prepared("get_article", id);
//     return absl::OkStatus();
//   });
#ifndef NEWSGRID_RUNTIME_PG_POOL_H_
#define NEWSGRID_RUNTIME_PG_POOL_H_

#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pqxx/pqxx"

namespace newsgrid {

struct PreparedStatement {
  std::string name;
  std::string sql;
};

class PgPool {
 public:
  struct Options {
    std::string dsn;
    int size = 8;
    // Statements prepared on every connection as it opens (so the objects
    // they name must exist by then).
    std::vector<PreparedStatement> prepared;
    // Run on every new connection, e.g. "SET search_path = article".
    std::string session_setup;
  };

  explicit PgPool(Options options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Runs `fn` in a read-committed transaction and commits when it returns OK
  // (rolls back otherwise). Waits for a free connection until `deadline`.
  absl::Status Transact(absl::Time deadline,
                        const std::function<absl::Status(pqxx::work&)>& fn);

  // Runs `fn`'s statements each in its own implicit transaction
  // (autocommit): for reads of one statement, one round trip instead of
  // three (BEGIN, the statement, COMMIT). Statements see no common snapshot.
  absl::Status Query(absl::Time deadline,
                     const std::function<absl::Status(pqxx::transaction_base&)>& fn);

  // Runs `fn` on a connection outside any transaction (for statements that
  // cannot run in one, or for a caller-managed transaction type).
  absl::Status WithConnection(absl::Time deadline,
                              const std::function<absl::Status(pqxx::connection&)>& fn);

  // Runs `sql` (parameters $1.. as text) as a prepared statement of this
  // connection, preparing it on first use: for generated SQL that repeats
  // (a list page's query for each filter shape), parsing and planning
  // happen once per connection instead of every call. At most
  // kMaxCachedStatements per connection, least recently used dropped first.
  // A PREPARE or DEALLOCATE that fails (e.g. the deadline passed) leaves the
  // server's copy unknown: that name is abandoned, and a connection with
  // more than kMaxCachedStatements abandoned names is closed when released.
  // After five executions PostgreSQL may use one generic plan for all
  // parameter values: only for statements whose best plan does not depend on
  // them.
  pqxx::result ExecCached(pqxx::transaction_base& tx, const std::string& sql,
                          const std::vector<std::string>& params);
  static constexpr size_t kMaxCachedStatements = 64;

  // A trivial query; OK when the database answers.
  absl::Status Ping(absl::Duration timeout);

  int size() const { return options_.size; }
  int in_use() const;
  int idle() const;

  // Maps a libpqxx / PostgreSQL exception to a status without SQL text, and
  // logs the detail. Exposed so callers can map errors they catch.
  static absl::Status MapException(const std::exception& e);

 private:
  struct Pooled {
    std::unique_ptr<pqxx::connection> conn;
    int64_t statement_timeout_ms = -1;  // the session's setting; -1: the server's default
    // The last statement ran as long as its timeout, so the timer may have
    // fired just as it ended. PostgreSQL then delivers the cancel to the
    // next statement (57014 on a statement that never ran), so the next
    // call settles the session first (SetStatementTimeout).
    bool may_hold_cancel = false;
  };
  // ExecCached's statements of one connection: SQL -> name, in use order.
  struct StatementCache {
    std::list<std::pair<std::string, std::string>> lru;  // front: most recent
    absl::flat_hash_map<std::string, std::list<std::pair<std::string, std::string>>::iterator>
        by_sql;
    uint64_t next = 0;
    // Names whose PREPARE or DEALLOCATE failed: the server may hold them.
    size_t abandoned = 0;
  };
  absl::StatusOr<Pooled> Acquire(absl::Time deadline);
  void Release(Pooled pooled, bool healthy);
  absl::StatusOr<Pooled> Connect();
  // Sets the session's statement_timeout and leaves no cancel pending. The
  // SET runs under the timeout the previous call left, which may be a few
  // milliseconds: on a busy host that timer can end the SET (57014, the old
  // value stays) or fire as it ends (the cancel then reaches the next
  // statement). Each such SET is followed by another, until one settles the
  // session or `deadline` passes.
  absl::Status SetStatementTimeout(Pooled& pooled, int64_t timeout_ms, absl::Time deadline);

  const Options options_;
  mutable absl::Mutex mu_;
  std::vector<Pooled> idle_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<const pqxx::connection_base*, StatementCache> statements_
      ABSL_GUARDED_BY(mu_);
  int open_or_opening_ ABSL_GUARDED_BY(mu_) = 0;
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
};

// The statement_timeout for `left` remaining: `left` rounded down to a
// multiple of a power of two at most left/16 (exact below 32 ms), so nearby
// deadlines share a value.
int64_t StatementTimeoutFor(absl::Duration left);

// True for statuses a caller may retry (the database was unreachable or a
// serialization conflict occurred).
bool IsRetryableDbError(const absl::Status& status);

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_PG_POOL_H_
