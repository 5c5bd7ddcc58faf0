#include "runtime/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "runtime/logging.h"
#include "runtime/status_macros.h"

namespace newsgrid {
namespace {

// mtime of `path` in ns, or -1 when it cannot be read.
int64_t FileMtimeNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TokenDigest DigestToken(absl::string_view token) {
  TokenDigest d;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), d.data());
  return d;
}

absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(absl::string_view text) {
  std::vector<TokenEntry> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (parts.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("token file line ", line_no, ": want `<principal> <scopes> <token>`"));
    }
    if (parts[2].size() < 16) {
      return absl::InvalidArgumentError(
          absl::StrCat("token file line ", line_no, ": token shorter than 16 characters"));
    }
    TokenEntry e;
    e.principal = std::string(parts[0]);
    for (absl::string_view scope : absl::StrSplit(parts[1], ',', absl::SkipEmpty())) {
      e.scopes.insert(std::string(scope));
    }
    e.digest = DigestToken(parts[2]);
    out.push_back(std::move(e));
  }
  return out;
}

std::string BearerToken(const grpc::ServerContextBase& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return "";
  absl::string_view value(it->second.data(), it->second.size());
  for (absl::string_view prefix : {"Bearer ", "bearer "}) {
    if (absl::ConsumePrefix(&value, prefix)) return std::string(absl::StripAsciiWhitespace(value));
  }
  return "";
}

Authorizer::Authorizer(std::string path, absl::Duration reload_check)
    : path_(std::move(path)), reload_check_(reload_check) {
  if (!enabled()) {
    NG_LOG_WARN("authorization is off (no --auth_tokens_file): every call is allowed");
    return;
  }
  if (absl::Status s = Reload(); !s.ok()) {
    NG_LOG_ERROR("cannot load tokens; every protected call is refused until it loads",
                 {{"error", std::string(s.message())}});
  }
}

absl::Status Authorizer::Reload() {
  const int64_t mtime = FileMtimeNs(path_);
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path_));
  ASSIGN_OR_RETURN(std::vector<TokenEntry> entries, ParseTokenFile(text));
  absl::MutexLock lock(&mu_);
  entries_ = std::move(entries);
  loaded_mtime_ns_ = mtime;
  NG_LOG_INFO("tokens loaded", {{"count", static_cast<int64_t>(entries_.size())}});
  return absl::OkStatus();
}

void Authorizer::MaybeReload() {
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (now < next_check_) return;
    next_check_ = now + reload_check_;
    if (FileMtimeNs(path_) == loaded_mtime_ns_) return;
  }
  if (absl::Status s = Reload(); !s.ok()) {
    NG_LOG_ERROR("token file changed but cannot be loaded; keeping the previous tokens",
                 {{"error", std::string(s.message())}});
  }
}

absl::Status Authorizer::RequireToken(absl::string_view token, absl::string_view scope) {
  if (!enabled()) return absl::OkStatus();
  if (token.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("this call needs a bearer token with scope ", scope,
                     " in the `authorization` metadata"));
  }
  MaybeReload();
  const TokenDigest digest = DigestToken(token);
  absl::MutexLock lock(&mu_);
  const TokenEntry* match = nullptr;
  for (const TokenEntry& e : entries_) {
    // Constant time per entry and no early exit: timing tells nothing about
    // which token, or how much of one, matched.
    if (CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0) match = &e;
  }
  if (match == nullptr) return absl::UnauthenticatedError("unknown bearer token");
  if (!match->scopes.contains(scope)) {
    return absl::PermissionDeniedError(absl::StrCat("token of ", match->principal,
                                                    " lacks scope ", scope));
  }
  return absl::OkStatus();
}

absl::Status Authorizer::Require(const grpc::ServerContextBase& ctx, absl::string_view scope) {
  if (!enabled()) return absl::OkStatus();
  return RequireToken(BearerToken(ctx), scope);
}

PeerToken::PeerToken(std::string path) : path_(std::move(path)) {}

std::string PeerToken::Get() {
  if (path_.empty()) return "";
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (now >= next_check_) {
    next_check_ = now + absl::Seconds(5);
    const int64_t mtime = FileMtimeNs(path_);
    if (mtime != mtime_ns_) {
      absl::StatusOr<std::string> text = ReadFile(path_);
      if (text.ok()) {
        token_ = std::string(absl::StripAsciiWhitespace(*text));
        mtime_ns_ = mtime;
      } else {
        NG_LOG_ERROR("cannot read the peer token file", {{"path", path_}});
      }
    }
  }
  return token_;
}

void PeerToken::Attach(grpc::ClientContext& ctx) {
  const std::string token = Get();
  if (!token.empty()) ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
}

}  // namespace newsgrid
