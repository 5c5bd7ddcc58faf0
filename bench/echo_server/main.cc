// newsgrid-echo-server: the baseline of the load tests. A bare gRPC server
// (same gRPC build and callback API as the services, no database, no worker
// pool, no interceptors) whose one method returns its payload (or
// `response_bytes` bytes) inline.
//
//   newsgrid-echo-server --port=0 --threads=0
// prints "listening on 127.0.0.1:<port>" once it accepts calls and serves
// until SIGTERM/SIGINT.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to listen on.");
ABSL_FLAG(int, port, 0, "Port; 0 picks a free one (printed at start).");

namespace {

class EchoService final : public newsgrid::bench::v1::EchoService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const newsgrid::bench::v1::EchoRequest* request,
                                 newsgrid::bench::v1::EchoResponse* response) override {
    if (request->response_bytes() > 0) {
      // The same bytes every time (a service would answer cached bytes).
      static const std::string* const kBytes = new std::string(16 << 20, 'x');
      response->set_payload(kBytes->data(),
                            std::min<size_t>(kBytes->size(), request->response_bytes()));
    } else {
      response->set_payload(request->payload());
    }
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Signals are taken synchronously by this thread, not by whichever thread
  // gRPC happens to run.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EchoService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(absl::GetFlag(FLAGS_host), ":", absl::GetFlag(FLAGS_port)),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "newsgrid-echo-server: cannot listen\n");
    return 1;
  }
  std::printf("listening on %s:%d\n", absl::GetFlag(FLAGS_host).c_str(), port);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
