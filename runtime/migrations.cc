#include "runtime/migrations.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"
#include "runtime/logging.h"
#include "runtime/status_macros.h"
#include "runtime/pg_pool.h"

namespace newsgrid {
namespace {

// FNV-1a of the SQL text: detects a migration edited after it was applied.
std::string Checksum(const std::string& sql) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : sql) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

absl::Status ValidateSet(const MigrationSet& set) {
  if (set.schema.empty()) return absl::InvalidArgumentError("migration schema is empty");
  for (char c : set.schema) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) {
      return absl::InvalidArgumentError("schema name must be [a-z0-9_]+");
    }
  }
  int last = 0;
  for (const Migration& m : set.migrations) {
    if (m.version <= last) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration versions must ascend: ", m.name));
    }
    last = m.version;
  }
  return absl::OkStatus();
}

void EnsureTable(pqxx::connection& conn, const std::string& schema) {
  pqxx::nontransaction tx(conn);
  tx.exec(absl::StrCat("CREATE SCHEMA IF NOT EXISTS ", schema));
  tx.exec(absl::StrCat("CREATE TABLE IF NOT EXISTS ", schema,
                       ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                       "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"));
}

std::map<int, std::string> AppliedChecksums(pqxx::connection& conn, const std::string& schema) {
  pqxx::nontransaction tx(conn);
  std::map<int, std::string> out;
  for (const auto& row :
       tx.exec(absl::StrCat("SELECT version, checksum FROM ", schema, ".schema_migrations"))) {
    out[row[0].as<int>()] = row[1].as<std::string>();
  }
  return out;
}

absl::Status CheckApplied(const MigrationSet& set, const std::map<int, std::string>& applied) {
  for (const Migration& m : set.migrations) {
    auto it = applied.find(m.version);
    if (it != applied.end() && it->second != Checksum(m.sql)) {
      return absl::FailedPreconditionError(
          absl::StrCat("migration ", m.name, " was changed after it was applied"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> MigrationVersionFromName(const std::string& file_name) {
  const size_t underscore = file_name.find('_');
  int version = 0;
  if (underscore == std::string::npos || underscore == 0 ||
      !absl::SimpleAtoi(file_name.substr(0, underscore), &version) || version <= 0 ||
      file_name.size() < 5 || file_name.substr(file_name.size() - 4) != ".sql") {
    return absl::InvalidArgumentError(
        absl::StrCat("migration file \"", file_name, "\" is not NNNN_name.sql"));
  }
  return version;
}

absl::StatusOr<int> ApplyMigrations(const std::string& dsn, const MigrationSet& set) {
  RETURN_IF_ERROR(ValidateSet(set));
  try {
    pqxx::connection conn(dsn);
    const std::string lock_key = absl::StrCat("newsgrid.migrations.", set.schema);
    {
      pqxx::nontransaction tx(conn);
      // Session-level lock: held across the per-migration transactions below
      // and released when this connection closes, even if we crash.
      tx.exec_params("SELECT pg_advisory_lock(hashtext($1))", lock_key);
    }
    EnsureTable(conn, set.schema);
    const std::map<int, std::string> applied = AppliedChecksums(conn, set.schema);
    RETURN_IF_ERROR(CheckApplied(set, applied));
    int count = 0;
    for (const Migration& m : set.migrations) {
      if (applied.count(m.version) != 0) continue;
      pqxx::work tx(conn);
      tx.exec(absl::StrCat("SET LOCAL search_path = ", set.schema, ", public"));
      tx.exec(m.sql);
      tx.exec_params(absl::StrCat("INSERT INTO ", set.schema,
                                  ".schema_migrations (version, name, checksum) "
                                  "VALUES ($1, $2, $3)"),
                     m.version, m.name, Checksum(m.sql));
      tx.commit();
      ++count;
      NG_LOG_INFO("migration applied", {{"schema", set.schema}, {"migration", m.name}});
    }
    {
      pqxx::nontransaction tx(conn);
      tx.exec_params("SELECT pg_advisory_unlock(hashtext($1))", lock_key);
    }
    return count;
  } catch (const std::exception& e) {
    absl::Status mapped = PgPool::MapException(e);
    return absl::Status(mapped.code(), absl::StrCat("applying migrations: ", mapped.message()));
  }
}

absl::Status CheckMigrationsCurrent(const std::string& dsn, const MigrationSet& set) {
  try {
    pqxx::connection conn(dsn);
    pqxx::nontransaction tx(conn);
    const pqxx::row exists =
        tx.exec_params1("SELECT to_regclass($1) IS NOT NULL",
                        absl::StrCat(set.schema, ".schema_migrations"));
    if (!exists[0].as<bool>()) {
      return absl::FailedPreconditionError(
          absl::StrCat("schema ", set.schema, " has no migrations applied; run with --migrate=only"));
    }
    tx.commit();
    const std::map<int, std::string> applied = AppliedChecksums(conn, set.schema);
    RETURN_IF_ERROR(CheckApplied(set, applied));
    for (const Migration& m : set.migrations) {
      if (applied.count(m.version) == 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("migration ", m.name, " is pending; run with --migrate=only"));
      }
    }
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return PgPool::MapException(e);
  }
}

}  // namespace newsgrid
