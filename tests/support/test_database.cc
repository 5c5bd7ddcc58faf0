#include "tests/support/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"

namespace newsgrid::testing {

std::string TestDatabase::AdminDsn() {
  const char* dsn = std::getenv("NEWSGRID_TEST_DSN");
  if (dsn == nullptr || *dsn == '\0') {
    std::fprintf(stderr,
                 "NEWSGRID_TEST_DSN is not set: PostgreSQL-backed tests run through "
                 "tests/run.sh, which starts a private PostgreSQL server.\n");
    std::abort();
  }
  return dsn;
}

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  name_ = absl::StrCat("ngt_", getpid(), "_", counter++, "_", rd() % 100000);
  const std::string admin = AdminDsn();
  pqxx::connection conn(admin);
  pqxx::nontransaction tx(conn);
  tx.exec(absl::StrCat("CREATE DATABASE ", name_));
  // In key=value DSNs a later key wins, so appending selects the database.
  dsn_ = absl::StrCat(admin, " dbname=", name_);
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection conn(AdminDsn());
    pqxx::nontransaction tx(conn);
    tx.exec(absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dropping test database %s: %s\n", name_.c_str(), e.what());
  }
}

}  // namespace newsgrid::testing
