#include "runtime/status.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace newsgrid {
namespace {

TEST(StatusTest, FieldViolationsBecomeBadRequestDetails) {
  FieldViolations v;
  v.Add("article.title", "is required");
  v.Add("article.tags[3]", "is longer than 64 characters");
  const absl::Status s = v.ToStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "article.title: is required; article.tags[3]: is longer than 64 characters");

  const grpc::Status g = ToGrpcStatus(s);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(g.error_details()));
  EXPECT_EQ(rpc.code(), 3);
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::BadRequest br;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&br));
  ASSERT_EQ(br.field_violations_size(), 2);
  EXPECT_EQ(br.field_violations(0).field(), "article.title");
  EXPECT_EQ(br.field_violations(1).description(), "is longer than 64 characters");
  EXPECT_EQ(GetFieldViolations(s).size(), 2u);
}

TEST(StatusTest, EmptyViolationsAreOk) { EXPECT_TRUE(FieldViolations().ToStatus().ok()); }

TEST(StatusTest, CodesMapOneToOne) {
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::AbortedError("x")).error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("x")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpcStatus(absl::AlreadyExistsError("slug taken")).error_message(), "slug taken");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")).code(),
            absl::StatusCode::kUnavailable);
}

TEST(StatusTest, InternalMessagesDoNotLeak) {
  const grpc::Status g =
      ToGrpcStatus(absl::InternalError("ERROR: relation \"article.articles\" does not exist"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(g.error_message(), "internal error");
}

}  // namespace
}  // namespace newsgrid
