#include "runtime/server.h"

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace newsgrid {
namespace {

// Taking two locks in both orders (one thread, so no actual deadlock) is
// what Abseil's deadlock detection reports, and aborts on when it is on, as
// in Debian's build. Server binaries run with it off.
TEST(ConfigureProcessTest, MutexDeadlockDetectionIsOff) {
  ConfigureProcess();
  absl::Mutex a;
  absl::Mutex b;
  {
    absl::MutexLock la(&a);
    absl::MutexLock lb(&b);
  }
  {
    absl::MutexLock lb(&b);
    absl::MutexLock la(&a);
  }
  SUCCEED();
}

// Without ConfigureProcess, the same inversion is reported when the library
// checks lock order at all: the test above is only meaningful if it does.
TEST(ConfigureProcessTest, DetectionIsOnWithoutIt) {
  EXPECT_DEATH(
      {
        absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kAbort);
        absl::Mutex a;
        absl::Mutex b;
        {
          absl::MutexLock la(&a);
          absl::MutexLock lb(&b);
        }
        absl::MutexLock lb(&b);
        absl::MutexLock la(&a);
      },
      "");
}

}  // namespace
}  // namespace newsgrid
