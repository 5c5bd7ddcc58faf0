// Server configuration: command-line flags with environment fallbacks.
//
// Every flag `--some_name` of a binary can also be set by the environment
// variable `<PREFIX>_SOME_NAME` (PREFIX is "ARTICLE" or "TRENDING"); a flag
// given on the command line wins over the environment, which wins over the
// default. `--pg_dsn` also falls back to `DATABASE_URL`.
//
//   newsgrid::ServiceDefaults defaults{.env_prefix = "ARTICLE", .port = 50051,
//                                      .metrics_port = 9091};
//   newsgrid::ServerConfig config =
//       newsgrid::ConfigOrExit(argv[0], newsgrid::LoadServerConfig(argc, argv, defaults));
//
// Flags are read here, in a service's own configuration layer
// (trending-service/trending_config.cc) and in each binary's main.cc,
// nowhere else: libraries take what they need as options (ServerConfig, ServerTlsFiles, ...). Every
// binary validates all of its settings before it starts anything, and
// rejects a bad one the same way (ConfigOrExit: a message, exit status 2).
#ifndef NEWSGRID_RUNTIME_CONFIG_H_
#define NEWSGRID_RUNTIME_CONFIG_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime/logging.h"
#include "runtime/tls.h"

ABSL_DECLARE_FLAG(std::string, host);
ABSL_DECLARE_FLAG(int, port);
ABSL_DECLARE_FLAG(int, metrics_port);
ABSL_DECLARE_FLAG(std::string, pg_dsn);
ABSL_DECLARE_FLAG(int, pg_pool_size);
ABSL_DECLARE_FLAG(int, worker_threads);
ABSL_DECLARE_FLAG(int, worker_queue_limit);
ABSL_DECLARE_FLAG(absl::Duration, drain_deadline);
ABSL_DECLARE_FLAG(absl::Duration, db_check_interval);
ABSL_DECLARE_FLAG(absl::Duration, default_rpc_deadline);
ABSL_DECLARE_FLAG(std::string, log_level);
ABSL_DECLARE_FLAG(std::string, migrate);
ABSL_DECLARE_FLAG(int, max_receive_message_bytes);
ABSL_DECLARE_FLAG(int, max_concurrent_streams);
ABSL_DECLARE_FLAG(int, grpc_memory_quota_mb);
ABSL_DECLARE_FLAG(std::string, auth_tokens_file);
ABSL_DECLARE_FLAG(std::string, peer_token_file);
ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, tls_key_file);
ABSL_DECLARE_FLAG(std::string, tls_client_ca_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_ca_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_cert_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_key_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_server_name);

namespace newsgrid {

// What differs between the two services' runtime settings.
struct ServiceDefaults {
  std::string env_prefix;  // "ARTICLE", "TRENDING" or "READER"
  int port = 0;
  int metrics_port = 0;
  // False for a binary without a database (reader-web): --pg_dsn is then
  // not required and the database settings are unused.
  bool database = true;
};

// When schema migrations run.
enum class MigrateMode {
  kAuto,  // apply pending migrations at start, then serve (default)
  kOnly,  // apply and exit 0 (a Kubernetes init container / Job)
  kOff,   // never; refuse to start unless the schema is current
};

// The validated runtime settings shared by both servers.
struct ServerConfig {
  std::string host;
  int port = 0;
  int metrics_port = 0;  // 0: no metrics endpoint
  std::string pg_dsn;
  int pg_pool_size = 0;
  int worker_threads = 0;
  int worker_queue_limit = 0;
  absl::Duration drain_deadline;
  absl::Duration db_check_interval;
  absl::Duration default_rpc_deadline;
  LogLevel log_level = LogLevel::kInfo;
  MigrateMode migrate = MigrateMode::kAuto;
  int max_receive_message_bytes = 0;
  int max_concurrent_streams = 0;
  int grpc_memory_quota_mb = 0;
  // TLS of this server (checked: the files load); empty: plaintext.
  ServerTlsFiles tls;
  // TLS of calls to the peer services (MakePeerChannelWithTls checks them,
  // for the binaries that call a peer); empty: plaintext.
  PeerTlsFiles peer_tls;
};

// Reads an environment variable; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> ProcessEnv(const std::string& name);

// The environment variable that sets `flag_name` for a service.
std::string EnvVarForFlag(absl::string_view prefix, absl::string_view flag_name);

// Sets every registered flag whose environment variable is present. Call
// before parsing the command line. Errors name the variable and the reason.
absl::Status ApplyEnvironment(absl::string_view prefix, const EnvLookup& env);

// Applies `defaults`, the environment and the command line (in that order of
// increasing precedence), then validates the shared flags. Exits with usage
// on --help like any Abseil binary.
absl::StatusOr<ServerConfig> LoadServerConfig(int argc, char** argv,
                                              const ServiceDefaults& defaults,
                                              const EnvLookup& env = ProcessEnv);

// Validates the shared flags' current values.
absl::StatusOr<ServerConfig> ServerConfigFromFlags(bool database = true);

// The one way a binary rejects its configuration: when `status` is an
// error, prints "<argv0>: invalid configuration: <message>" on stderr and
// exits 2 (the status that tells a bad setting from a crash); returns
// otherwise.
void ExitIfInvalidConfig(const char* argv0, const absl::Status& status);

// The value of `config`, or ExitIfInvalidConfig's exit.
template <typename T>
T ConfigOrExit(const char* argv0, absl::StatusOr<T> config) {
  ExitIfInvalidConfig(argv0, config.status());
  return *std::move(config);
}

// Helpers for service-specific validation: each returns InvalidArgument
// naming the flag.
absl::Status CheckRange(absl::string_view flag, int64_t value, int64_t min, int64_t max);
absl::Status CheckDuration(absl::string_view flag, absl::Duration value, absl::Duration min,
                           absl::Duration max);

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_CONFIG_H_
