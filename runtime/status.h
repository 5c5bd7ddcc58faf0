// Errors as values: building absl::Status with field violations, and mapping
// absl::Status to grpc::Status (the one status mapper of both services).
//
// INVALID_ARGUMENT errors carry a google.rpc.BadRequest (AIP-193) listing
// every bad field; the mapper puts it in the grpc-status-details-bin trailer
// so clients (and grpcurl) see field paths and reasons.
//
//   FieldViolations v;
//   if (title.empty()) v.Add("article.title", "is required");
//   if (absl::Status s = v.ToStatus(); !s.ok()) return s;
//   ...
//   return ToGrpcStatus(status);
#ifndef NEWSGRID_RUNTIME_STATUS_H_
#define NEWSGRID_RUNTIME_STATUS_H_

#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace newsgrid {

// Type URL under which a serialized google.rpc.BadRequest rides in an
// absl::Status payload.
inline constexpr absl::string_view kBadRequestTypeUrl =
    "type.googleapis.com/google.rpc.BadRequest";

struct FieldViolation {
  std::string field;
  std::string description;
};

// Collects field violations; ToStatus() is OK when there are none.
class FieldViolations {
 public:
  void Add(std::string field, std::string description);
  bool empty() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }
  // INVALID_ARGUMENT whose message lists every violation ("title: is
  // required; tags[3]: is longer than 64 characters") with a BadRequest
  // payload.
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> violations_;
};

// INVALID_ARGUMENT for one field.
absl::Status InvalidFieldError(std::string field, std::string description);

// The field violations carried by `status` (empty if none).
std::vector<FieldViolation> GetFieldViolations(const absl::Status& status);

// absl::Status -> grpc::Status. Codes map one to one; a BadRequest payload
// becomes a google.rpc.Status in the error details. INTERNAL and UNKNOWN
// messages are replaced by a generic text so nothing internal (SQL, paths)
// reaches clients; log the original before mapping.
grpc::Status ToGrpcStatus(const absl::Status& status);

// grpc::Status -> absl::Status (for client calls between the services).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_STATUS_H_
