// Transport security from files: TLS on the server, mTLS between services.
//
// Server: a certificate and key turn TLS on; with a client CA the server
// also requires and verifies a client certificate signed by that CA (mTLS).
// Client (calls to the peer service): a CA turns TLS on and verifies the
// peer against it; a certificate and key present a client certificate.
// Without files both sides speak plaintext (the local default). The files
// come from the --tls_* and --peer_tls_* flags (runtime/config.h), which
// the errors name.
//
//   absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
//       MakeServerCredentials({.cert = "server.pem", .key = "server.key"});
//   builder.AddListeningPort(addr, *creds);
#ifndef NEWSGRID_RUNTIME_TLS_H_
#define NEWSGRID_RUNTIME_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

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

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_TLS_H_
