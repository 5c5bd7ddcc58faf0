#include "runtime/tls.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "runtime/status_macros.h"

namespace newsgrid {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", path, " is not PEM"));
  }
  return ss.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsFiles& files) {
  if (files.cert.empty() && files.key.empty()) {
    if (!files.client_ca.empty()) {
      return absl::InvalidArgumentError("--tls_client_ca_file needs --tls_cert_file and --tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  ASSIGN_OR_RETURN(std::string cert, ReadPem("tls_cert_file", files.cert));
  ASSIGN_OR_RETURN(std::string key, ReadPem("tls_key_file", files.key));
  grpc::SslServerCredentialsOptions options(
      files.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                              : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
  if (!files.client_ca.empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem("tls_client_ca_file", files.client_ca));
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakePeerCredentials(
    const PeerTlsFiles& files) {
  if (files.ca.empty()) {
    if (!files.cert.empty() || !files.key.empty()) {
      return absl::InvalidArgumentError("--peer_tls_cert_file/--peer_tls_key_file need --peer_tls_ca_file");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem("peer_tls_ca_file", files.ca));
  if (!files.cert.empty() || !files.key.empty()) {
    if (files.cert.empty() || files.key.empty()) {
      return absl::InvalidArgumentError("--peer_tls_cert_file and --peer_tls_key_file go together");
    }
    ASSIGN_OR_RETURN(options.pem_cert_chain, ReadPem("peer_tls_cert_file", files.cert));
    ASSIGN_OR_RETURN(options.pem_private_key, ReadPem("peer_tls_key_file", files.key));
  }
  return grpc::SslCredentials(options);
}

}  // namespace newsgrid
