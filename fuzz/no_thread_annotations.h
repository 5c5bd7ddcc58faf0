// Force-included in the clang fuzz build only: turns absl's lock
// annotations into no-ops. Clang resolves their arguments (GCC ignores
// them), and one header names a member of a type completed only in its .cc;
// static lock analysis is not what the fuzzers are for.
#pragma once
#include "absl/base/thread_annotations.h"
#undef ABSL_EXCLUSIVE_LOCKS_REQUIRED
#define ABSL_EXCLUSIVE_LOCKS_REQUIRED(...)
#undef ABSL_SHARED_LOCKS_REQUIRED
#define ABSL_SHARED_LOCKS_REQUIRED(...)
#undef ABSL_LOCKS_EXCLUDED
#define ABSL_LOCKS_EXCLUDED(...)
