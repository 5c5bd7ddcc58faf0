#include "runtime/pg_pool.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/logging.h"
#include "runtime/status_macros.h"

namespace newsgrid {
namespace {

absl::Status DeadlinePassedBeforeTheDatabase() {
  return absl::DeadlineExceededError("deadline exceeded before the database was reached");
}

}  // namespace

PgPool::PgPool(Options options) : options_(std::move(options)) {}

PgPool::~PgPool() {
  absl::MutexLock lock(&mu_);
  idle_.clear();
}

int PgPool::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

int PgPool::idle() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(idle_.size());
}

absl::StatusOr<PgPool::Pooled> PgPool::Connect() {
  try {
    auto conn = std::make_unique<pqxx::connection>(options_.dsn);
    if (!options_.session_setup.empty()) {
      pqxx::nontransaction tx(*conn);
      tx.exec(options_.session_setup);
    }
    // Prepared now, with no statement timeout in force (see the header).
    for (const PreparedStatement& p : options_.prepared) {
      conn->prepare(p.name, p.sql);
      conn->prepare_now(p.name);
    }
    return Pooled{.conn = std::move(conn)};
  } catch (const std::exception& e) {
    return MapException(e);
  }
}

absl::StatusOr<PgPool::Pooled> PgPool::Acquire(absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    auto can_proceed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_or_opening_ < options_.size;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&can_proceed), deadline)) {
      return absl::UnavailableError("database connection pool exhausted; retry later");
    }
    ++in_use_;
    if (!idle_.empty()) {
      Pooled pooled = std::move(idle_.back());
      idle_.pop_back();
      return pooled;
    }
    ++open_or_opening_;
  }
  auto pooled = Connect();
  if (!pooled.ok()) {
    absl::MutexLock lock(&mu_);
    --open_or_opening_;
    --in_use_;
  }
  return pooled;
}

void PgPool::Release(Pooled pooled, bool healthy) {
  absl::MutexLock lock(&mu_);
  --in_use_;
  bool keep = healthy && pooled.conn && pooled.conn->is_open();
  if (keep) {
    auto cache = statements_.find(pooled.conn.get());
    keep = cache == statements_.end() || cache->second.abandoned <= kMaxCachedStatements;
  }
  if (keep) {
    idle_.push_back(std::move(pooled));
  } else {
    statements_.erase(pooled.conn.get());
    --open_or_opening_;  // dropped; the next Acquire reconnects
  }
}

pqxx::result PgPool::ExecCached(pqxx::transaction_base& tx, const std::string& sql,
                                const std::vector<std::string>& params) {
  pqxx::connection_base& conn = tx.conn();
  std::string name;
  bool cached = false;
  {
    absl::MutexLock lock(&mu_);
    StatementCache& cache = statements_[&conn];
    auto it = cache.by_sql.find(sql);
    if (it != cache.by_sql.end()) {
      cache.lru.splice(cache.lru.begin(), cache.lru, it->second);
      name = it->second->second;
      cached = true;
    } else {
      name = absl::StrCat("ng_cached_", cache.next++);
    }
  }
  auto abandon = [&] {
    absl::MutexLock lock(&mu_);
    ++statements_[&conn].abandoned;
  };
  if (cached) return tx.exec_prepared(name, pqxx::prepare::make_dynamic_params(params));
  // First use on this connection: prepared on its own, so a timeout can
  // only cut short the PREPARE (name abandoned) or the execution (the
  // statement is there either way).
  try {
    conn.prepare(name, sql);
    conn.prepare_now(name);
  } catch (...) {
    conn.unprepare(name);  // forgets the definition; nothing reaches the server
    abandon();
    throw;
  }
  std::string evicted;
  {
    absl::MutexLock lock(&mu_);
    StatementCache& cache = statements_[&conn];
    cache.lru.emplace_front(sql, name);
    cache.by_sql[sql] = cache.lru.begin();
    if (cache.lru.size() > kMaxCachedStatements) {
      evicted = cache.lru.back().second;
      cache.by_sql.erase(cache.lru.back().first);
      cache.lru.pop_back();
    }
  }
  if (!evicted.empty()) {
    try {
      conn.unprepare(evicted);
    } catch (...) {
      abandon();
      throw;
    }
  }
  return tx.exec_prepared(name, pqxx::prepare::make_dynamic_params(params));
}

absl::Status PgPool::SetStatementTimeout(Pooled& pooled, int64_t timeout_ms,
                                         absl::Time deadline) {
  const std::string set = absl::StrCat("SET statement_timeout = ", timeout_ms);
  pooled.may_hold_cancel = true;  // until a turn settles the session
  // A turn that does not settle the session either spent the one pending
  // cancel or waited for the timer in force to fire, so the turns are few
  // unless that timer is very short and the host very slow; the call's
  // deadline bounds them.
  while (absl::Now() < deadline) {
    const int64_t in_force = pooled.statement_timeout_ms;
    const absl::Time start = absl::Now();
    try {
      pqxx::nontransaction(*pooled.conn).exec(set);
    } catch (const pqxx::sql_error& e) {
      // 57014: a pending cancel (now spent) or the timer in force ended
      // the SET, which then did not apply.
      if (e.sqlstate() != "57014") throw;
      continue;
    }
    pooled.statement_timeout_ms = timeout_ms;
    // A SET that took as long as the timer in force may have let it fire
    // as it ended: the next turn's SET, under the new timer, takes that
    // cancel.
    if (in_force <= 0 || absl::Now() - start < absl::Milliseconds(in_force)) {
      pooled.may_hold_cancel = false;
      return absl::OkStatus();
    }
  }
  return DeadlinePassedBeforeTheDatabase();
}

absl::Status PgPool::WithConnection(absl::Time deadline,
                                    const std::function<absl::Status(pqxx::connection&)>& fn) {
  ASSIGN_OR_RETURN(Pooled pooled, Acquire(deadline));
  absl::Status status;
  bool healthy = true;
  try {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      status = DeadlinePassedBeforeTheDatabase();
    } else {
      // The RPC's remaining time bounds every statement.
      const int64_t timeout_ms = StatementTimeoutFor(left);
      if (timeout_ms != pooled.statement_timeout_ms || pooled.may_hold_cancel) {
        status = SetStatementTimeout(pooled, timeout_ms, deadline);
      }
      if (status.ok()) {
        const absl::Time start = absl::Now();
        pooled.may_hold_cancel = true;  // stays so if `fn` throws
        status = fn(*pooled.conn);
        pooled.may_hold_cancel = absl::Now() - start >= absl::Milliseconds(timeout_ms);
      }
    }
  } catch (const pqxx::broken_connection& e) {
    healthy = false;
    status = MapException(e);
  } catch (const std::exception& e) {
    status = MapException(e);
    healthy = pooled.conn->is_open() && !IsRetryableDbError(status);
  }
  Release(std::move(pooled), healthy);
  return status;
}

absl::Status PgPool::Transact(absl::Time deadline,
                              const std::function<absl::Status(pqxx::work&)>& fn) {
  return WithConnection(deadline, [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work tx(conn);
    absl::Status status = fn(tx);
    if (status.ok()) {
      tx.commit();
    } else {
      tx.abort();
    }
    return status;
  });
}

absl::Status PgPool::Query(absl::Time deadline,
                           const std::function<absl::Status(pqxx::transaction_base&)>& fn) {
  return WithConnection(deadline, [&](pqxx::connection& conn) -> absl::Status {
    pqxx::nontransaction tx(conn);
    return fn(tx);
  });
}

absl::Status PgPool::Ping(absl::Duration timeout) {
  return Transact(absl::Now() + timeout, [](pqxx::work& tx) {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

absl::Status PgPool::MapException(const std::exception& e) {
  // libpqxx throws a class per SQLSTATE family (connection failures,
  // rollbacks, constraint violations, ...); the order matters where classes
  // derive from each other. States without a class of their own in 6.4
  // (57014 query_canceled, the 57P0x shutdowns) are read from sql_error.
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr ||
      dynamic_cast<const pqxx::statement_completion_unknown*>(&e) != nullptr) {
    NG_LOG_ERROR("database commit in doubt", {{"error", e.what()}});
    return absl::UnavailableError("database connection lost during commit; outcome unknown");
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {  // and too_many_connections
    NG_LOG_WARN("database connection failed", {{"error", e.what()}});
    return absl::UnavailableError("database unavailable; retry later");
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    // serialization_failure, deadlock_detected: the transaction may be retried.
    return absl::AbortedError("concurrent modification; retry");
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    return absl::AlreadyExistsError("already exists");
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql != nullptr) {
    const std::string state = sql->sqlstate();
    if (state == "57014") return absl::DeadlineExceededError("database statement timed out");
    if (absl::StartsWith(state, "57P") ||
        dynamic_cast<const pqxx::insufficient_resources*>(&e) != nullptr) {
      NG_LOG_WARN("database unavailable", {{"sqlstate", state}, {"error", sql->what()}});
      return absl::UnavailableError("database unavailable; retry later");
    }
    NG_LOG_ERROR("database error", {{"sqlstate", state}, {"error", sql->what()}});
    return absl::InternalError("database error");
  }
  NG_LOG_ERROR("unexpected error in database call", {{"error", e.what()}});
  return absl::InternalError("internal error");
}

int64_t StatementTimeoutFor(absl::Duration left) {
  const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(left));
  int64_t step = 1;
  while (step * 2 <= ms / 16) step *= 2;
  return ms - ms % step;
}

bool IsRetryableDbError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kAborted;
}

}  // namespace newsgrid
