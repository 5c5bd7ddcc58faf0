#include "runtime/rpc.h"

#include "absl/time/clock.h"

namespace newsgrid {

absl::Time RpcDeadline(const grpc::ServerContextBase& ctx, absl::Duration fallback) {
  const auto deadline = ctx.deadline();
  const absl::Time fallback_time = absl::Now() + fallback;
  if (deadline == std::chrono::system_clock::time_point::max()) return fallback_time;
  const absl::Time t = absl::FromChrono(deadline);
  return t > fallback_time + absl::Hours(24 * 365) ? fallback_time : t;
}

}  // namespace newsgrid
