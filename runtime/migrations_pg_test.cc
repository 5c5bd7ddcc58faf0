#include "runtime/migrations.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/support/test_database.h"

namespace newsgrid {
namespace {

MigrationSet TestSet() {
  // Not idempotent on purpose: applying 0001 twice would fail.
  return MigrationSet{
      "demo",
      {{1, "0001_items.sql",
        "CREATE TABLE items (id bigint PRIMARY KEY); SELECT pg_sleep(0.2);"},
       {2, "0002_items_name.sql", "ALTER TABLE items ADD COLUMN name text NOT NULL DEFAULT ''"}}};
}

int CountApplied(const std::string& dsn) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  return tx.exec1("SELECT count(*) FROM demo.schema_migrations")[0].as<int>();
}

TEST(MigrationsPgTest, AppliesOnceThenIsIdempotent) {
  testing::TestDatabase db;
  absl::StatusOr<int> first = ApplyMigrations(db.dsn(), TestSet());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 2);
  absl::StatusOr<int> second = ApplyMigrations(db.dsn(), TestSet());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, 0);
  EXPECT_EQ(CountApplied(db.dsn()), 2);
  EXPECT_TRUE(CheckMigrationsCurrent(db.dsn(), TestSet()).ok());
  // The tables live in the service's own schema.
  pqxx::connection c(db.dsn());
  pqxx::nontransaction tx(c);
  tx.exec("INSERT INTO demo.items (id, name) VALUES (1, 'x')");
}

TEST(MigrationsPgTest, ConcurrentMigratorsApplyEachMigrationExactlyOnce) {
  testing::TestDatabase db;
  std::vector<absl::StatusOr<int>> results(6, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = ApplyMigrations(db.dsn(), TestSet()); });
  }
  for (auto& t : threads) t.join();
  int total = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    total += *r;
  }
  EXPECT_EQ(total, 2);
  EXPECT_EQ(CountApplied(db.dsn()), 2);
}

TEST(MigrationsPgTest, NewMigrationIsAppliedLater) {
  testing::TestDatabase db;
  MigrationSet set = TestSet();
  set.migrations.pop_back();
  ASSERT_EQ(*ApplyMigrations(db.dsn(), set), 1);
  absl::Status pending = CheckMigrationsCurrent(db.dsn(), TestSet());
  EXPECT_EQ(pending.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(pending.message().find("0002_items_name.sql"), absl::string_view::npos);
  ASSERT_EQ(*ApplyMigrations(db.dsn(), TestSet()), 1);
  EXPECT_TRUE(CheckMigrationsCurrent(db.dsn(), TestSet()).ok());
}

TEST(MigrationsPgTest, EditedMigrationIsRefused) {
  testing::TestDatabase db;
  ASSERT_TRUE(ApplyMigrations(db.dsn(), TestSet()).ok());
  MigrationSet edited = TestSet();
  edited.migrations[0].sql += " -- changed";
  absl::StatusOr<int> r = ApplyMigrations(db.dsn(), edited);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MigrationsPgTest, FailingMigrationLeavesNoTrace) {
  testing::TestDatabase db;
  MigrationSet bad = TestSet();
  bad.migrations.push_back({3, "0003_bad.sql", "CREATE TABLE t3 (x int); SELECT no_such_fn();"});
  EXPECT_FALSE(ApplyMigrations(db.dsn(), bad).ok());
  EXPECT_EQ(CountApplied(db.dsn()), 2);  // 1 and 2 committed, 3 rolled back
  pqxx::connection c(db.dsn());
  pqxx::nontransaction tx(c);
  EXPECT_FALSE(tx.exec1("SELECT to_regclass('demo.t3') IS NOT NULL")[0].as<bool>());
}

TEST(MigrationsPgTest, UnreachableDatabaseIsUnavailable) {
  absl::StatusOr<int> r =
      ApplyMigrations("host=127.0.0.1 port=1 dbname=x connect_timeout=2", TestSet());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

TEST(MigrationsTest, VersionFromFileName) {
  EXPECT_EQ(*MigrationVersionFromName("0007_add_index.sql"), 7);
  EXPECT_FALSE(MigrationVersionFromName("add_index.sql").ok());
  EXPECT_FALSE(MigrationVersionFromName("0007_add_index.txt").ok());
}

}  // namespace
}  // namespace newsgrid
