// Transport security from files: TLS on the server, mTLS between services.
//
// Server: --tls_cert_file and --tls_key_file turn TLS on; with
// --tls_client_ca_file the server also requires and verifies a client
// certificate signed by that CA (mTLS). Client (calls to the peer service):
// --peer_tls_ca_file turns TLS on and verifies the peer against that CA;
// --peer_tls_cert_file/--peer_tls_key_file present a client certificate.
// Without these flags both sides speak plaintext (the local default).
//
//   auto creds = ServerCredentialsFromFlags();   // StatusOr
//   builder.AddListeningPort(addr, *creds);
#ifndef NEWSGRID_RUNTIME_TLS_H_
#define NEWSGRID_RUNTIME_TLS_H_

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, tls_key_file);
ABSL_DECLARE_FLAG(std::string, tls_client_ca_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_ca_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_cert_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_key_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_server_name);

namespace newsgrid {

struct ServerTlsFiles {
  std::string cert, key, client_ca;
};
struct PeerTlsFiles {
  std::string ca, cert, key, server_name;
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsFiles& files);
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakePeerCredentials(
    const PeerTlsFiles& files);

ServerTlsFiles ServerTlsFilesFromFlags();
PeerTlsFiles PeerTlsFilesFromFlags();

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_TLS_H_
