#include "runtime/tls.h"

#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

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

ServerTlsFiles ServerTlsFilesFromFlags() {
  return {absl::GetFlag(FLAGS_tls_cert_file), absl::GetFlag(FLAGS_tls_key_file),
          absl::GetFlag(FLAGS_tls_client_ca_file)};
}

PeerTlsFiles PeerTlsFilesFromFlags() {
  return {absl::GetFlag(FLAGS_peer_tls_ca_file), absl::GetFlag(FLAGS_peer_tls_cert_file),
          absl::GetFlag(FLAGS_peer_tls_key_file), absl::GetFlag(FLAGS_peer_tls_server_name)};
}

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
  auto cert = ReadPem("tls_cert_file", files.cert);
  if (!cert.ok()) return cert.status();
  auto key = ReadPem("tls_key_file", files.key);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(
      files.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                              : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!files.client_ca.empty()) {
    auto ca = ReadPem("tls_client_ca_file", files.client_ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
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
  auto ca = ReadPem("peer_tls_ca_file", files.ca);
  if (!ca.ok()) return ca.status();
  options.pem_root_certs = *ca;
  if (!files.cert.empty() || !files.key.empty()) {
    if (files.cert.empty() || files.key.empty()) {
      return absl::InvalidArgumentError("--peer_tls_cert_file and --peer_tls_key_file go together");
    }
    auto cert = ReadPem("peer_tls_cert_file", files.cert);
    if (!cert.ok()) return cert.status();
    auto key = ReadPem("peer_tls_key_file", files.key);
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  return grpc::SslCredentials(options);
}

}  // namespace newsgrid
