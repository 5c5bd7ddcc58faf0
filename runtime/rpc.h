// Runs the blocking part of a unary callback RPC on the worker pool and
// finishes the reactor with its status; the one way handlers leave gRPC's
// callback threads.
//
//   grpc::ServerUnaryReactor* GetArticle(grpc::CallbackServerContext* ctx,
//                                        const GetArticleRequest* req,
//                                        Article* resp) override {
//     return newsgrid::RunUnary(ctx, workers_, [=]() -> absl::Status {
//       ASSIGN_OR_RETURN(*resp, store_->Get(req->name()));
//       return absl::OkStatus();
//     });
//   }
#ifndef NEWSGRID_RUNTIME_RPC_H_
#define NEWSGRID_RUNTIME_RPC_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "runtime/status.h"
#include "runtime/worker_pool.h"

namespace newsgrid {

// The status message for a request that is not a valid message of its type
// (bad wire format, or a string field that is not UTF-8): INVALID_ARGUMENT.
inline constexpr char kUnparsableRequestMessage[] =
    "the request is not a valid message (malformed, or a string field is not valid UTF-8)";

// The RPC's deadline, or now + `fallback` when the caller set none.
absl::Time RpcDeadline(const grpc::ServerContextBase& ctx, absl::Duration fallback);

template <typename Fn>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* ctx, WorkerPool& workers,
                                   Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto task = std::make_shared<std::decay_t<Fn>>(std::forward<Fn>(fn));
  const bool queued = workers.TrySubmit([reactor, ctx, task] {
    if (ctx->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
      return;
    }
    reactor->Finish(ToGrpcStatus((*task)()));
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "server is overloaded; retry with backoff"));
  }
  return reactor;
}

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_RPC_H_
