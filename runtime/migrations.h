// Versioned schema migrations, applied once under a PostgreSQL advisory lock.
//
// Each service owns one schema and a folder of SQL files named
// `NNNN_description.sql`, compiled into the binary (newsgrid_add_migrations
// in CMake), so a container needs nothing but the binary. Applying takes a
// session advisory lock keyed by the schema, so replicas that start together
// wait for each other and each migration runs exactly once; each one runs in
// its own transaction with its row in `<schema>.schema_migrations`. A
// migration edited after it was applied (checksum differs) stops the start.
//
//   absl::StatusOr<int> applied = ApplyMigrations(dsn, ArticleMigrations());
#ifndef NEWSGRID_RUNTIME_MIGRATIONS_H_
#define NEWSGRID_RUNTIME_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace newsgrid {

struct Migration {
  int version = 0;
  std::string name;  // file name, e.g. "0001_articles.sql"
  std::string sql;
};

struct MigrationSet {
  std::string schema;  // e.g. "article"
  std::vector<Migration> migrations;  // ascending versions
};

// Applies pending migrations; returns how many were applied by this call.
absl::StatusOr<int> ApplyMigrations(const std::string& dsn, const MigrationSet& set);

// OK when every migration is applied and unchanged; FAILED_PRECONDITION
// naming the first pending one otherwise.
absl::Status CheckMigrationsCurrent(const std::string& dsn, const MigrationSet& set);

// Parses "0007_add_index.sql" -> 7; an error for names not of that form.
absl::StatusOr<int> MigrationVersionFromName(const std::string& file_name);

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_MIGRATIONS_H_
