// The cross-replica invalidation path against a real PostgreSQL: the
// trigger notifies only committed writes, the listener drops what they
// name, and a killed listener connection falls back to the short TTL,
// reconnects and flushes.
#include "article-service/invalidation_listener.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "article-service/article_store.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "runtime/migrations.h"
#include "tests/support/test_database.h"

namespace newsgrid {
const MigrationSet& ArticleMigrations();
}

namespace newsgrid::article {
namespace {

bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return cond();
}

class InvalidationListenerTest : public ::testing::Test {
 protected:
  InvalidationListenerTest()
      : clock_(absl::Now()),
        cache_({.capacity_bytes = 1 << 20, .ttl = absl::Minutes(5), .fallback_ttl = absl::Seconds(2)},
               clock_),
        listener_({.dsn = db_.dsn(),
                   .ping_interval = absl::Milliseconds(200),
                   .initial_backoff = absl::Milliseconds(20),
                   .max_backoff = absl::Milliseconds(200)},
                  cache_) {}

  void SetUp() override {
    ASSERT_TRUE(ApplyMigrations(db_.dsn(), ArticleMigrations()).ok());
    pqxx::connection c(db_.dsn());
    pqxx::work tx(c);
    for (int i = 0; i < 3; ++i) {
      id_[i] = tx.exec1(absl::StrCat(
                            "INSERT INTO article.articles (slug, title, body_format, state, "
                            "create_time, update_time, publish_time) VALUES ('s",
                            i, "', 'T', 1, 3, now(), now(), now()) RETURNING id"))[0]
                   .as<int64_t>();
    }
    tx.commit();
  }

  void Cache(int64_t id) {
    Article a;
    a.set_name(ArticleName(id));
    cache_.Insert(ArticleVersion::Make(a), cache_.BeginRead(id));
    ASSERT_NE(cache_.Get(id), nullptr);
  }

  void Sql(const std::string& sql) {
    pqxx::connection c(db_.dsn());
    pqxx::nontransaction(c).exec(sql);
  }

  // ALTER DATABASE ... ALLOW_CONNECTIONS: open connections stay; new ones
  // (the listener's reconnect) are refused.
  void AllowConnections(bool allow) {
    pqxx::connection c(testing::TestDatabase::AdminDsn());
    pqxx::nontransaction(c).exec(absl::StrCat("ALTER DATABASE ", db_.name(),
                                              " ALLOW_CONNECTIONS ", allow ? "true" : "false"));
  }

  int KillListener() {
    pqxx::connection c(testing::TestDatabase::AdminDsn());
    return pqxx::nontransaction(c)
        .exec1(absl::StrCat("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = '", db_.name(), "' AND application_name = '",
                            kListenerApplicationName, "-", getpid(), "'"))[0]
        .as<int>();
  }

  testing::TestDatabase db_;
  FakeClock clock_;
  ArticleCache cache_;
  InvalidationListener listener_;
  int64_t id_[3] = {};
};

TEST(InvalidationPayloadTest, Parses) {
  int64_t id = 0, micros = 0;
  EXPECT_TRUE(InvalidationListener::ParsePayload("42,1700000000123456", &id, &micros));
  EXPECT_EQ(id, 42);
  EXPECT_EQ(micros, 1700000000123456);
  EXPECT_FALSE(InvalidationListener::ParsePayload("42", &id, &micros));
  EXPECT_FALSE(InvalidationListener::ParsePayload("x,1", &id, &micros));
}

TEST_F(InvalidationListenerTest, CommittedWritesInvalidateRolledBackOnesDoNot) {
  EXPECT_FALSE(cache_.notified());
  listener_.Start();
  ASSERT_TRUE(WaitFor([&] { return listener_.up(); }));
  EXPECT_TRUE(cache_.notified());
  EXPECT_EQ(cache_.current_ttl(), absl::Minutes(5));
  Cache(id_[0]);
  Cache(id_[1]);
  Cache(id_[2]);

  // A rolled-back write notifies nothing.
  {
    pqxx::connection c(db_.dsn());
    pqxx::work tx(c);
    tx.exec(absl::StrCat("UPDATE article.articles SET title = 'x' WHERE id = ", id_[0]));
    tx.abort();
  }
  // A committed one, by another connection (another replica), does.
  Sql(absl::StrCat("UPDATE article.articles SET title = 'y' WHERE id = ", id_[1]));
  ASSERT_TRUE(WaitFor([&] { return cache_.Get(id_[1]) == nullptr; }, absl::Seconds(5)));
  // Notifications arrive in commit order: by now the rollback's would have.
  EXPECT_NE(cache_.Get(id_[0]), nullptr);
  EXPECT_NE(cache_.Get(id_[2]), nullptr);
  EXPECT_EQ(listener_.received(), 1u);

  // A write in a transaction invalidates only once it commits.
  {
    pqxx::connection c(db_.dsn());
    pqxx::work tx(c);
    tx.exec(absl::StrCat("UPDATE article.articles SET title = 'z' WHERE id = ", id_[2]));
    absl::SleepFor(absl::Milliseconds(200));
    EXPECT_NE(cache_.Get(id_[2]), nullptr);
    tx.commit();
  }
  ASSERT_TRUE(WaitFor([&] { return cache_.Get(id_[2]) == nullptr; }, absl::Seconds(5)));
  // A deleted row notifies too.
  Cache(id_[1]);
  Sql(absl::StrCat("DELETE FROM article.articles WHERE id = ", id_[1]));
  ASSERT_TRUE(WaitFor([&] { return cache_.Get(id_[1]) == nullptr; }, absl::Seconds(5)));
  listener_.Stop();
  EXPECT_FALSE(listener_.up());
  EXPECT_FALSE(cache_.notified());
}

TEST_F(InvalidationListenerTest, KilledConnectionFallsBackReconnectsAndFlushes) {
  listener_.Start();
  ASSERT_TRUE(WaitFor([&] { return listener_.up(); }));
  EXPECT_EQ(listener_.flushes(), 1u);
  Cache(id_[0]);
  clock_.Advance(absl::Seconds(3));  // older than the fallback TTL, younger than the TTL
  EXPECT_NE(cache_.Get(id_[0]), nullptr);

  // Killed and kept out (a reconnect within the backoff could otherwise
  // end the fallback before the test sees it).
  AllowConnections(false);
  ASSERT_EQ(KillListener(), 1);
  // Noticed at once (the server closes the connection): short TTL for
  // entries already cached too.
  ASSERT_TRUE(WaitFor([&] { return !cache_.notified(); }, absl::Seconds(2)));
  EXPECT_EQ(cache_.current_ttl(), absl::Seconds(2));
  EXPECT_EQ(cache_.Get(id_[0]), nullptr);
  Cache(id_[1]);  // cached while nobody listens
  absl::SleepFor(absl::Milliseconds(300));  // several backoffs: still out
  EXPECT_FALSE(listener_.up());
  EXPECT_EQ(listener_.reconnects(), 0u);
  // Back within the backoff, LISTENing on a new backend, and the cache was
  // flushed: what was cached while nobody listened is gone.
  AllowConnections(true);
  ASSERT_TRUE(WaitFor([&] { return listener_.up() && listener_.reconnects() == 1; }));
  EXPECT_EQ(cache_.Get(id_[1]), nullptr);
  EXPECT_EQ(listener_.flushes(), 2u);
  EXPECT_TRUE(cache_.notified());
  Cache(id_[2]);
  Sql(absl::StrCat("UPDATE article.articles SET title = 'again' WHERE id = ", id_[2]));
  ASSERT_TRUE(WaitFor([&] { return cache_.Get(id_[2]) == nullptr; }, absl::Seconds(5)));
}

TEST_F(InvalidationListenerTest, UnreachableDatabaseKeepsTheFallbackAndRetries) {
  InvalidationListener lost({.dsn = "host=127.0.0.1 port=1 user=postgres dbname=none",
                             .initial_backoff = absl::Milliseconds(10),
                             .max_backoff = absl::Milliseconds(50)},
                            cache_);
  lost.Start();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(lost.up());
  EXPECT_FALSE(cache_.notified());
  EXPECT_EQ(cache_.current_ttl(), absl::Seconds(2));
  lost.Stop();
}

}  // namespace
}  // namespace newsgrid::article
