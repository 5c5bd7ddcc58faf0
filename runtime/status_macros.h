// Early returns on errors, so that a chain of fallible steps reads as the
// steps: RETURN_IF_ERROR for an absl::Status, ASSIGN_OR_RETURN for an
// absl::StatusOr<T> whose value is wanted.
//
//   absl::StatusOr<Article> ArticleService::Publish(const CallContext& c, ...) {
//     RETURN_IF_ERROR(CheckEtag(current, etag));
//     ASSIGN_OR_RETURN(Article stored, store_.Update(c, next));
//     return stored;
//   }
//
// Both return the error as it is (no annotation), from a function returning
// absl::Status or any absl::StatusOr<U>.
#ifndef NEWSGRID_RUNTIME_STATUS_MACROS_H_
#define NEWSGRID_RUNTIME_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RETURN_IF_ERROR(expr)                                         \
  do {                                                                \
    if (::absl::Status ng_status_ = (expr); !ng_status_.ok()) {       \
      return ng_status_;                                              \
    }                                                                 \
  } while (false)

// `lhs` may declare a variable (ASSIGN_OR_RETURN(auto x, F())) or name one.
#define ASSIGN_OR_RETURN(lhs, expr) \
  NG_ASSIGN_OR_RETURN_IMPL_(NG_STATUS_MACROS_CONCAT_(ng_statusor_, __LINE__), lhs, expr)

#define NG_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)       \
  auto statusor = (expr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = *std::move(statusor)

#define NG_STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define NG_STATUS_MACROS_CONCAT_(a, b) NG_STATUS_MACROS_CONCAT_INNER_(a, b)

#endif  // NEWSGRID_RUNTIME_STATUS_MACROS_H_
