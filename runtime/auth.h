// Bearer-token authorization with scopes.
//
// Tokens live in a file (a Kubernetes Secret mounted as a volume), one per
// line: `<principal> <scope>[,<scope>...] <token>`, `#` starts a comment.
// The file is re-read when it changes (checked every few seconds), so tokens
// rotate without a restart. Presented tokens are compared in constant time
// (SHA-256 digests compared with CRYPTO_memcmp) and never logged.
//
// Without a token file, authorization is off (the local default) and every
// call is allowed; the server logs a warning at start.
//
//   Authorizer auth("/etc/newsgrid/tokens");
//   absl::Status s = auth.Require(ctx, "articles:write");
//   // UNAUTHENTICATED: no or unknown token; PERMISSION_DENIED: scope missing.
#ifndef NEWSGRID_RUNTIME_AUTH_H_
#define NEWSGRID_RUNTIME_AUTH_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace newsgrid {

// Scopes used by the services.
inline constexpr char kScopeArticlesWrite[] = "articles:write";
inline constexpr char kScopeArticlesReadDrafts[] = "articles:read_drafts";
inline constexpr char kScopeViewsWrite[] = "views:write";

using TokenDigest = std::array<unsigned char, 32>;

struct TokenEntry {
  std::string principal;
  absl::flat_hash_set<std::string> scopes;
  TokenDigest digest;
};

// Parses the token file's text; errors name the line.
absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(absl::string_view text);

TokenDigest DigestToken(absl::string_view token);

// The bearer token of a request ("" when absent or not "Bearer ...").
std::string BearerToken(const grpc::ServerContextBase& ctx);

class Authorizer {
 public:
  // `path` empty: authorization off.
  explicit Authorizer(std::string path, absl::Duration reload_check = absl::Seconds(5));

  bool enabled() const { return !path_.empty(); }

  // OK when authorization is off or the token has `scope`.
  absl::Status Require(const grpc::ServerContextBase& ctx, absl::string_view scope);
  absl::Status RequireToken(absl::string_view token, absl::string_view scope);

  // Re-reads the file now (tests; normally done lazily).
  absl::Status Reload();

 private:
  void MaybeReload();

  const std::string path_;
  const absl::Duration reload_check_;
  absl::Mutex mu_;
  std::vector<TokenEntry> entries_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t loaded_mtime_ns_ ABSL_GUARDED_BY(mu_) = -1;
};

// The token this service presents to its peer (from --peer_token_file, read
// once at start and re-read when it changes); "" when none.
class PeerToken {
 public:
  explicit PeerToken(std::string path);
  std::string Get();
  // Adds `authorization: Bearer <token>` to a client call when a token is set.
  void Attach(grpc::ClientContext& ctx);

 private:
  const std::string path_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  int64_t mtime_ns_ ABSL_GUARDED_BY(mu_) = -1;
  absl::Time next_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_AUTH_H_
