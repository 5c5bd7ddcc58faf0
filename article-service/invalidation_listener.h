// Keeps this replica's read cache coherent with writes made through any
// replica: LISTENs on PostgreSQL channel `article_changed` (every committed
// article write notifies it from a trigger in the writing transaction, see
// migrations/0002_*.sql) on a connection of its own and drops each notified
// article from the cache.
//
// When that connection is lost, the cache falls back to its short TTL at
// once (ArticleCache::SetNotified(false)); the listener reconnects with
// exponential backoff and jitter, and once LISTENing again flushes the
// cache (notifications sent meanwhile are lost) before the long TTL applies
// again. A ping every `ping_interval` without traffic, and TCP keepalives /
// tcp_user_timeout on the connection, find a connection that died
// silently. The listener talks to libpq directly: libpqxx 6 may quietly
// reconnect a broken connection (and re-LISTEN) on its next use, hiding the
// very event that must flush the cache.
//
// Reported in /metrics (article_cache_listener_up, _invalidations_total,
// _invalidation_lag_seconds: trigger time of the write to receipt here,
// _listener_reconnects_total, _flushes_total, article_cache_ttl_seconds,
// _entries, _bytes) and through up() for health.
//
//   InvalidationListener listener({.dsn = dsn}, cache);
//   listener.Start();
//   runtime.AddDependencyStatus("newsgrid.article.cache-invalidation",
//                               [&] { return listener.up(); });
//   ...
//   listener.Stop();
#ifndef NEWSGRID_ARTICLE_SERVICE_INVALIDATION_LISTENER_H_
#define NEWSGRID_ARTICLE_SERVICE_INVALIDATION_LISTENER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "article-service/article_cache.h"

namespace newsgrid::article {

inline constexpr char kInvalidationChannel[] = "article_changed";
// The listener connection's application_name (pg_stat_activity) is this,
// "-", and the process id: an operator (or a test) can find one replica's.
inline constexpr char kListenerApplicationName[] = "newsgrid-article-cache";

class InvalidationListener {
 public:
  struct Options {
    std::string dsn;  // libpq key=value string or URI
    absl::Duration ping_interval = absl::Seconds(1);
    absl::Duration initial_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(5);
  };

  InvalidationListener(Options options, ArticleCache& cache);
  ~InvalidationListener();
  InvalidationListener(const InvalidationListener&) = delete;
  InvalidationListener& operator=(const InvalidationListener&) = delete;

  void Start();
  void Stop();

  // True while LISTENing on a live connection.
  bool up() const { return up_.load(); }
  uint64_t received() const { return received_.load(); }
  uint64_t flushes() const { return flushes_.load(); }
  uint64_t reconnects() const { return reconnects_.load(); }

  // "<id>,<micros>" -> id and the write's time; false when malformed.
  static bool ParsePayload(const std::string& payload, int64_t* id, int64_t* micros);

 private:
  void Run();
  // One connection's life: connect, LISTEN, flush, serve until lost or
  // stopped. True when it got as far as LISTENing.
  bool ServeOneConnection();
  void SetUp(bool up);

  const Options options_;
  ArticleCache& cache_;
  std::atomic<bool> up_{false};
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> reconnects_{0};
  bool connected_before_ = false;  // the listener thread's own
  int wake_fd_ = -1;               // eventfd: Stop() wakes the poll
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_INVALIDATION_LISTENER_H_
