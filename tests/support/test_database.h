// A fresh PostgreSQL database per test, on the server the test command
// started (NEWSGRID_TEST_DSN, a key=value libpq DSN of an admin database).
//
//   TestDatabase db;              // CREATE DATABASE ngt_...
//   PgPool pool({.dsn = db.dsn()});
//   ...                           // dropped (WITH FORCE) at scope exit
#ifndef NEWSGRID_TESTS_SUPPORT_TEST_DATABASE_H_
#define NEWSGRID_TESTS_SUPPORT_TEST_DATABASE_H_

#include <string>

namespace newsgrid::testing {

class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // DSN of the fresh database.
  const std::string& dsn() const { return dsn_; }
  const std::string& name() const { return name_; }

  // The admin DSN from NEWSGRID_TEST_DSN; aborts the test binary with a
  // clear message when it is not set.
  static std::string AdminDsn();

 private:
  std::string name_;
  std::string dsn_;
};

}  // namespace newsgrid::testing

#endif  // NEWSGRID_TESTS_SUPPORT_TEST_DATABASE_H_
