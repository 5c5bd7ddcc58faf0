// A fixed set of threads with a bounded queue, for blocking work (libpqxx
// calls) that must never run on gRPC's callback threads.
//
//   WorkerPool pool(/*threads=*/8, /*queue_limit=*/1024);
//   if (!pool.TrySubmit([] { DoBlockingWork(); })) { /* overloaded */ }
//   pool.Shutdown();  // runs what is queued, then joins
#ifndef NEWSGRID_RUNTIME_WORKER_POOL_H_
#define NEWSGRID_RUNTIME_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace newsgrid {

// Names the calling thread (at most 15 characters are kept), so profiles
// and scheduler traces tell the threads of a process apart.
void NameCurrentThread(absl::string_view name);

// Lowers the calling thread's scheduling priority to `nice` (1..19; raising
// it needs privileges, so lower values are left as they are): background
// work then yields the cores to request threads instead of delaying them.
void NiceCurrentThread(int nice);

class WorkerPool {
 public:
  // Threads are named `name` (see NameCurrentThread) and run at `nice`
  // (see NiceCurrentThread; 0: the process's priority).
  WorkerPool(int threads, size_t queue_limit, absl::string_view name = "worker", int nice = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false when the queue is full or the pool is shut down
  // (the caller answers RESOURCE_EXHAUSTED / UNAVAILABLE).
  bool TrySubmit(std::function<void()> task);

  // Stops taking work, finishes everything queued and joins the threads.
  void Shutdown();

  size_t queued() const;
  int busy() const;

 private:
  void Run();

  const size_t queue_limit_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int busy_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_WORKER_POOL_H_
