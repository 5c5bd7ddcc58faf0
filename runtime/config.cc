#include "runtime/config.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "runtime/status_macros.h"

ABSL_FLAG(std::string, auth_tokens_file, "",
          "File of accepted bearer tokens (`<principal> <scope>[,<scope>] <token>` per line); "
          "empty turns authorization off.");
ABSL_FLAG(std::string, peer_token_file, "",
          "File holding the bearer token this service presents to its peer service.");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM certificate chain of this server; enables TLS.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of this server.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle; when set, clients must present a certificate it signed (mTLS).");
ABSL_FLAG(std::string, peer_tls_ca_file, "",
          "PEM CA bundle verifying the peer service; enables TLS for calls to it.");
ABSL_FLAG(std::string, peer_tls_cert_file, "",
          "PEM client certificate presented to the peer service (mTLS).");
ABSL_FLAG(std::string, peer_tls_key_file, "", "PEM private key of the client certificate.");
ABSL_FLAG(std::string, peer_tls_server_name, "",
          "Name to verify in the peer's certificate when it differs from the address host.");
ABSL_FLAG(std::string, host, "0.0.0.0", "Address to listen on for gRPC.");
ABSL_FLAG(int, port, 0, "gRPC port.");
ABSL_FLAG(int, metrics_port, 0, "Port of the Prometheus /metrics HTTP endpoint; 0 disables it.");
ABSL_FLAG(std::string, pg_dsn, "",
          "PostgreSQL connection string (libpq DSN or URL); falls back to DATABASE_URL.");
ABSL_FLAG(int, pg_pool_size, 8, "PostgreSQL connections in the pool.");
ABSL_FLAG(int, worker_threads, 8,
          "Threads running blocking work (database calls) off gRPC's callback threads.");
ABSL_FLAG(int, worker_queue_limit, 1024,
          "Queued requests beyond which new ones get RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, drain_deadline, absl::Seconds(10),
          "On SIGTERM, how long in-flight RPCs may take to finish before they are cancelled.");
ABSL_FLAG(absl::Duration, db_check_interval, absl::Seconds(1),
          "How often the health check pings PostgreSQL.");
ABSL_FLAG(absl::Duration, default_rpc_deadline, absl::Seconds(10),
          "Deadline for database work of an RPC whose caller set none.");
ABSL_FLAG(std::string, log_level, "info", "Minimum log level: debug, info, warn or error.");
ABSL_FLAG(std::string, migrate, "auto",
          "Schema migrations: auto (apply at start), only (apply and exit), off (require current).");

ABSL_FLAG(int, max_receive_message_bytes, 4 << 20,
          "Largest request message accepted; bigger ones get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, max_concurrent_streams, 256,
          "Concurrent RPCs per client connection (HTTP/2 streams).");
ABSL_FLAG(int, grpc_memory_quota_mb, 512,
          "Memory gRPC may use for connections and messages; beyond it new calls are refused.");

namespace newsgrid {

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string EnvVarForFlag(absl::string_view prefix, absl::string_view flag_name) {
  return absl::StrCat(prefix, "_", absl::AsciiStrToUpper(flag_name));
}

absl::Status ApplyEnvironment(absl::string_view prefix, const EnvLookup& env) {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string var = EnvVarForFlag(prefix, name);
    std::optional<std::string> value = env(var);
    if (!value && name == "pg_dsn") value = env("DATABASE_URL");
    if (!value) continue;
    std::string error;
    if (!flag->ParseFrom(*value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", var, "=\"", *value, "\": ", error));
    }
  }
  return absl::OkStatus();
}

void ExitIfInvalidConfig(const char* argv0, const absl::Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: invalid configuration: %s\n", argv0,
               std::string(status.message()).c_str());
  std::exit(2);
}

absl::Status CheckRange(absl::string_view flag, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", value, " is out of range [", min, ", ", max, "]"));
  }
  return absl::OkStatus();
}

absl::Status CheckDuration(absl::string_view flag, absl::Duration value, absl::Duration min,
                           absl::Duration max) {
  if (value < min || value > max) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", absl::FormatDuration(value),
                                                   " is out of range [", absl::FormatDuration(min),
                                                   ", ", absl::FormatDuration(max), "]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerConfig> ServerConfigFromFlags(bool database) {
  ServerConfig c;
  c.host = absl::GetFlag(FLAGS_host);
  c.port = absl::GetFlag(FLAGS_port);
  c.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  c.pg_dsn = absl::GetFlag(FLAGS_pg_dsn);
  c.pg_pool_size = absl::GetFlag(FLAGS_pg_pool_size);
  c.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  c.worker_queue_limit = absl::GetFlag(FLAGS_worker_queue_limit);
  c.drain_deadline = absl::GetFlag(FLAGS_drain_deadline);
  c.db_check_interval = absl::GetFlag(FLAGS_db_check_interval);
  c.default_rpc_deadline = absl::GetFlag(FLAGS_default_rpc_deadline);

  if (c.host.empty()) return absl::InvalidArgumentError("--host must not be empty");
  RETURN_IF_ERROR(CheckRange("port", c.port, 1, 65535));
  RETURN_IF_ERROR(CheckRange("metrics_port", c.metrics_port, 0, 65535));
  if (c.metrics_port == c.port) {
    return absl::InvalidArgumentError("--metrics_port must differ from --port");
  }
  if (database && c.pg_dsn.empty()) {
    return absl::InvalidArgumentError("--pg_dsn (or DATABASE_URL) is required");
  }
  RETURN_IF_ERROR(CheckRange("pg_pool_size", c.pg_pool_size, 1, 1000));
  RETURN_IF_ERROR(CheckRange("worker_threads", c.worker_threads, 1, 1024));
  RETURN_IF_ERROR(CheckRange("worker_queue_limit", c.worker_queue_limit, 1, 1000000));
  RETURN_IF_ERROR(CheckDuration("drain_deadline", c.drain_deadline, absl::ZeroDuration(), absl::Minutes(10)));
  RETURN_IF_ERROR(CheckDuration("db_check_interval", c.db_check_interval, absl::Milliseconds(50), absl::Minutes(5)));
  RETURN_IF_ERROR(CheckDuration("default_rpc_deadline", c.default_rpc_deadline, absl::Milliseconds(10), absl::Minutes(10)));
  c.max_receive_message_bytes = absl::GetFlag(FLAGS_max_receive_message_bytes);
  RETURN_IF_ERROR(CheckRange("max_receive_message_bytes", c.max_receive_message_bytes, 1024, 256 << 20));
  c.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  RETURN_IF_ERROR(CheckRange("max_concurrent_streams", c.max_concurrent_streams, 1, 100000));
  c.grpc_memory_quota_mb = absl::GetFlag(FLAGS_grpc_memory_quota_mb);
  RETURN_IF_ERROR(CheckRange("grpc_memory_quota_mb", c.grpc_memory_quota_mb, 16, 1 << 20));
  c.tls = {absl::GetFlag(FLAGS_tls_cert_file), absl::GetFlag(FLAGS_tls_key_file),
           absl::GetFlag(FLAGS_tls_client_ca_file)};
  RETURN_IF_ERROR(MakeServerCredentials(c.tls).status());
  c.peer_tls = {absl::GetFlag(FLAGS_peer_tls_ca_file), absl::GetFlag(FLAGS_peer_tls_cert_file),
                absl::GetFlag(FLAGS_peer_tls_key_file), absl::GetFlag(FLAGS_peer_tls_server_name)};
  absl::StatusOr<LogLevel> level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) return absl::InvalidArgumentError(absl::StrCat("--log_level: ", level.status().message()));
  c.log_level = *level;
  const std::string migrate = absl::GetFlag(FLAGS_migrate);
  if (migrate == "auto") {
    c.migrate = MigrateMode::kAuto;
  } else if (migrate == "only") {
    c.migrate = MigrateMode::kOnly;
  } else if (migrate == "off") {
    c.migrate = MigrateMode::kOff;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--migrate=\"", migrate, "\" (want auto, only or off)"));
  }
  return c;
}

absl::StatusOr<ServerConfig> LoadServerConfig(int argc, char** argv,
                                              const ServiceDefaults& defaults,
                                              const EnvLookup& env) {
  absl::SetFlag(&FLAGS_port, defaults.port);
  absl::SetFlag(&FLAGS_metrics_port, defaults.metrics_port);
  RETURN_IF_ERROR(ApplyEnvironment(defaults.env_prefix, env));
  absl::ParseCommandLine(argc, argv);
  return ServerConfigFromFlags(defaults.database);
}

}  // namespace newsgrid
