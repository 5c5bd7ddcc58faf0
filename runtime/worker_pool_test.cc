#include "runtime/worker_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace newsgrid {
namespace {

TEST(WorkerPoolTest, RunsEverySubmittedTask) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(4, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ran++; }));
    pool.Shutdown();
  }
  EXPECT_EQ(ran.load(), 500);
}

TEST(WorkerPoolTest, RejectsWhenQueueIsFull) {
  WorkerPool pool(1, 2);
  absl::Notification release;
  absl::Notification started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_FALSE(pool.TrySubmit([] {}));  // queue holds 2
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_EQ(pool.busy(), 1);
  release.Notify();
  pool.Shutdown();
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(WorkerPoolTest, RejectsAfterShutdown) {
  WorkerPool pool(2, 10);
  pool.Shutdown();
  EXPECT_FALSE(pool.TrySubmit([] {}));
}

}  // namespace
}  // namespace newsgrid
