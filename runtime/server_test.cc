#include "runtime/server.h"

#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace newsgrid {
namespace {

// Two locks taken in both orders (one thread, so no actual deadlock): what
// Abseil's deadlock detection reports, and aborts on when it is on, as in
// Debian's build.
void TakeTwoLocksInBothOrders() {
  absl::Mutex a;
  absl::Mutex b;
  {
    absl::MutexLock la(&a);
    absl::MutexLock lb(&b);
  }
  absl::MutexLock lb(&b);
  absl::MutexLock la(&a);
}

TEST(ConfigureProcessTest, MutexDeadlockDetectionIsOff) {
  // In a child process, as the servers run: the inversion passes unnoticed
  // and the process exits normally instead of aborting.
  EXPECT_EXIT(
      {
        ConfigureProcess();
        TakeTwoLocksInBothOrders();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

// Without ConfigureProcess the same inversion aborts: the test above is only
// meaningful where the library checks lock order at all.
TEST(ConfigureProcessTest, DetectionIsOnWithoutIt) {
  EXPECT_DEATH(
      {
        absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kAbort);
        TakeTwoLocksInBothOrders();
      },
      "");
}

}  // namespace
}  // namespace newsgrid
