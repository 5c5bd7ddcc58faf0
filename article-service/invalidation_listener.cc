#include "article-service/invalidation_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libpq-fe.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/peer_client.h"

namespace newsgrid::article {
namespace {

struct ListenerMetrics {
  prometheus::Gauge& up;
  prometheus::Counter& invalidations;
  prometheus::Histogram& lag;
  prometheus::Counter& reconnects;
  prometheus::Counter& flushes;
  prometheus::Gauge& ttl;
  prometheus::Gauge& entries;
  prometheus::Gauge& bytes;

  static ListenerMetrics& Get() {
    static ListenerMetrics* m = [] {
      auto& r = Metrics::Global().registry();
      return new ListenerMetrics{
          prometheus::BuildGauge().Name("article_cache_listener_up")
              .Help("1 while the cache listens for invalidations on PostgreSQL.")
              .Register(r).Add({}),
          prometheus::BuildCounter().Name("article_cache_invalidations_total")
              .Help("Invalidations received from PostgreSQL (writes through any replica).")
              .Register(r).Add({}),
          prometheus::BuildHistogram().Name("article_cache_invalidation_lag_seconds")
              .Help("From a write's trigger in PostgreSQL to its invalidation here.")
              .Register(r).Add({}, prometheus::Histogram::BucketBoundaries{
                  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                  0.25, 0.5, 1, 2.5}),
          prometheus::BuildCounter().Name("article_cache_listener_reconnects_total")
              .Help("Times the invalidation listener connected again after losing its "
                    "connection.")
              .Register(r).Add({}),
          prometheus::BuildCounter().Name("article_cache_flushes_total")
              .Help("Whole-cache flushes (on every (re)connection of the listener).")
              .Register(r).Add({}),
          prometheus::BuildGauge().Name("article_cache_ttl_seconds")
              .Help("Current lifetime of cache entries: long while invalidations arrive, the "
                    "fallback while they may be missed.")
              .Register(r).Add({}),
          prometheus::BuildGauge().Name("article_cache_entries")
              .Help("Articles in the read cache.").Register(r).Add({}),
          prometheus::BuildGauge().Name("article_cache_bytes")
              .Help("Memory held by the read cache's articles.").Register(r).Add({}),
      };
    }();
    return *m;
  }
};

// Settings appended to the caller's DSN (later keywords win): a name to find
// the connection by, and TCP timeouts so a silently dead peer is noticed.
const std::vector<std::pair<const char*, const char*>>& ListenerConnectionOptions() {
  static const std::string* name =
      new std::string(absl::StrCat(kListenerApplicationName, "-", getpid()));
  static const auto* options = new std::vector<std::pair<const char*, const char*>>{
      {"application_name", name->c_str()},
      {"connect_timeout", "5"},
      {"keepalives", "1"},
      {"keepalives_idle", "5"},
      {"keepalives_interval", "1"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", "5000"},
  };
  return *options;
}

std::string ErrorOf(PGconn* conn) {
  std::string e = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  return e;
}

// Server messages outside a query (a notice, or the FATAL of a terminated
// backend) as log records: libpq would print them to stderr, breaking the
// JSON log.
void LogServerMessage(void*, const char* message) {
  std::string m = message;
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  NG_LOG_WARN("cache invalidation listener: message from PostgreSQL", {{"message", m}});
}

// Runs `sql` expecting `want`; false (connection unusable) otherwise.
bool Exec(PGconn* conn, const char* sql, ExecStatusType want) {
  PGresult* r = PQexec(conn, sql);
  const bool ok = r != nullptr && PQresultStatus(r) == want;
  PQclear(r);
  return ok;
}

}  // namespace

InvalidationListener::InvalidationListener(Options options, ArticleCache& cache)
    : options_(std::move(options)), cache_(cache) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ListenerMetrics::Get().up.Set(0);
  ListenerMetrics::Get().ttl.Set(absl::ToDoubleSeconds(cache_.current_ttl()));
}

InvalidationListener::~InvalidationListener() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void InvalidationListener::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void InvalidationListener::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

bool InvalidationListener::ParsePayload(const std::string& payload, int64_t* id,
                                        int64_t* micros) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(payload, ',');
  return absl::SimpleAtoi(parts.first, id) && absl::SimpleAtoi(parts.second, micros);
}

void InvalidationListener::SetUp(bool up) {
  // Order matters: going down, entries fall back to the short TTL before
  // anything else; coming up, the caller has flushed first.
  cache_.SetNotified(up);
  up_.store(up);
  ListenerMetrics& m = ListenerMetrics::Get();
  m.up.Set(up ? 1 : 0);
  m.ttl.Set(absl::ToDoubleSeconds(cache_.current_ttl()));
}

bool InvalidationListener::ServeOneConnection() {
  std::vector<const char*> keys = {"dbname"};
  std::vector<const char*> values = {options_.dsn.c_str()};
  for (const auto& [k, v] : ListenerConnectionOptions()) {
    keys.push_back(k);
    values.push_back(v);
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn != nullptr) PQsetNoticeProcessor(conn, LogServerMessage, nullptr);
  const std::string listen = absl::StrCat("LISTEN ", kInvalidationChannel);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK ||
      !Exec(conn, listen.c_str(), PGRES_COMMAND_OK)) {
    NG_LOG_DEBUG("cache invalidation listener cannot connect", {{"error", ErrorOf(conn)}});
    PQfinish(conn);
    return false;
  }
  // Whatever was written while nobody listened may be cached stale.
  ListenerMetrics& m = ListenerMetrics::Get();
  flushes_++;
  cache_.InvalidateAll();
  m.flushes.Increment();
  SetUp(true);
  if (connected_before_) {
    reconnects_++;
    m.reconnects.Increment();
    NG_LOG_INFO("cache invalidation listener reconnected; cache flushed");
  } else {
    NG_LOG_INFO("cache invalidation listener up");
  }
  connected_before_ = true;
  const int backend = PQbackendPID(conn);
  absl::Time last_traffic = absl::Now();
  std::string lost;
  while (!stop_.HasBeenNotified()) {
    pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const absl::Duration left = last_traffic + options_.ping_interval - absl::Now();
    const int timeout_ms = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(left) + 1));
    const int n = poll(fds, 2, timeout_ms);
    if (stop_.HasBeenNotified()) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      lost = "poll failed";
      break;
    }
    if (n == 0) {
      // Quiet for a while: make sure the connection still answers (and that
      // it is still the same backend).
      if (!Exec(conn, "SELECT 1", PGRES_TUPLES_OK) || PQbackendPID(conn) != backend) {
        lost = ErrorOf(conn);
        break;
      }
      last_traffic = absl::Now();
    } else if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      if (PQconsumeInput(conn) == 0) {
        lost = ErrorOf(conn);
        break;
      }
      last_traffic = absl::Now();
    }
    while (PGnotify* note = PQnotifies(conn)) {
      int64_t id = 0, micros = 0;
      if (ParsePayload(note->extra, &id, &micros)) {
        // Counted first: whoever sees the entry gone sees the count too.
        received_++;
        cache_.Invalidate(id);
        m.invalidations.Increment();
        const int64_t lag_us = absl::ToUnixMicros(absl::Now()) - micros;
        m.lag.Observe(static_cast<double>(std::max<int64_t>(0, lag_us)) / 1e6);
      } else {
        // Not ours or damaged: the article is unknown, so everything may be stale.
        flushes_++;
        cache_.InvalidateAll();
        m.flushes.Increment();
      }
      PQfreemem(note);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
      lost = ErrorOf(conn);
      break;
    }
    m.entries.Set(static_cast<double>(cache_.size()));
    m.bytes.Set(static_cast<double>(cache_.bytes()));
  }
  SetUp(false);
  if (!stop_.HasBeenNotified()) {
    NG_LOG_WARN("cache invalidation listener lost its connection; cache entries now live the "
                "fallback TTL until it reconnects",
                {{"error", lost},
                 {"fallback_ttl_ms", absl::ToInt64Milliseconds(cache_.current_ttl())}});
  }
  PQfinish(conn);
  return true;
}

void InvalidationListener::Run() {
  RetryBackoff backoff({.initial = options_.initial_backoff, .max = options_.max_backoff});
  while (!stop_.HasBeenNotified()) {
    if (ServeOneConnection()) backoff.Reset();
    if (stop_.HasBeenNotified()) break;
    stop_.WaitForNotificationWithTimeout(backoff.Next());
  }
}

}  // namespace newsgrid::article
