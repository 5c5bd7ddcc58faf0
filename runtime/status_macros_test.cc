#include "runtime/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace newsgrid {
namespace {

absl::Status Step(bool ok, int& calls) {
  ++calls;
  return ok ? absl::OkStatus() : absl::NotFoundError("step failed");
}

absl::Status TwoSteps(bool first, bool second, int& calls) {
  RETURN_IF_ERROR(Step(first, calls));
  RETURN_IF_ERROR(Step(second, calls));
  return absl::OkStatus();
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtTheFirstError) {
  int calls = 0;
  EXPECT_TRUE(TwoSteps(true, true, calls).ok());
  EXPECT_EQ(calls, 2);
  calls = 0;
  absl::Status s = TwoSteps(false, true, calls);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "step failed");
  EXPECT_EQ(calls, 1);
}

absl::StatusOr<std::unique_ptr<std::string>> Make(bool ok) {
  if (!ok) return absl::InvalidArgumentError("no");
  return std::make_unique<std::string>("made");
}

absl::StatusOr<size_t> LengthOf(bool ok) {
  ASSIGN_OR_RETURN(std::unique_ptr<std::string> s, Make(ok));  // move-only values
  ASSIGN_OR_RETURN(auto again, Make(ok));                       // twice in one scope
  return s->size() + again->size();
}

TEST(StatusMacrosTest, AssignOrReturnDeclaresOrReturnsTheError) {
  absl::StatusOr<size_t> n = LengthOf(true);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 8u);
  EXPECT_EQ(LengthOf(false).status().code(), absl::StatusCode::kInvalidArgument);
}

absl::Status AssignToExisting(std::string& out) {
  ASSIGN_OR_RETURN(auto p, Make(true));
  ASSIGN_OR_RETURN(out, absl::StatusOr<std::string>(*p + "!"));
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnAssignsToAnExistingVariable) {
  std::string out;
  ASSERT_TRUE(AssignToExisting(out).ok());
  EXPECT_EQ(out, "made!");
}

}  // namespace
}  // namespace newsgrid
