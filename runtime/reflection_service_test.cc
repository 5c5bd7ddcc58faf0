#include "runtime/reflection_service.h"

#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"

namespace newsgrid {
namespace {

using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

ServerReflectionResponse Ask(const ReflectionService& s, const ServerReflectionRequest& r) {
  ServerReflectionResponse out;
  s.Answer(r, &out);
  return out;
}

TEST(ReflectionServiceTest, ListsTheGivenServices) {
  ReflectionService s({"news.article.v1.ArticleService", "grpc.health.v1.Health"});
  ServerReflectionRequest r;
  r.set_list_services("");
  ServerReflectionResponse out = Ask(s, r);
  ASSERT_EQ(out.list_services_response().service_size(), 2);
  EXPECT_EQ(out.list_services_response().service(0).name(), "news.article.v1.ArticleService");
}

TEST(ReflectionServiceTest, FileContainingMethodCarriesCommentsAndDependencies) {
  ReflectionService s({});
  ServerReflectionRequest r;
  r.set_file_containing_symbol("news.trending.v1.TrendingService.RecordViews");
  ServerReflectionResponse out = Ask(s, r);
  ASSERT_FALSE(out.has_error_response()) << out.error_response().error_message();
  bool found_comment = false;
  std::set<std::string> names;
  for (const std::string& bytes : out.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    names.insert(file.name());
    for (const auto& loc : file.source_code_info().location()) {
      if (loc.leading_comments().find("client stream") != std::string::npos) found_comment = true;
    }
  }
  EXPECT_TRUE(names.count("news/trending/v1/trending_service.proto"));
  EXPECT_TRUE(names.count("google/protobuf/timestamp.proto"));
  EXPECT_TRUE(found_comment);
}

// Error details travel as google.protobuf.Any; clients decode them (grpcurl
// -format-error) by asking reflection for the file defining the type.
TEST(ReflectionServiceTest, ErrorDetailTypesAreServedBySymbol) {
  ReflectionService s({});
  for (const char* type : {"google.rpc.BadRequest", "google.rpc.BadRequest.FieldViolation",
                           "google.rpc.ErrorInfo", "google.rpc.RetryInfo",
                           "google.rpc.ResourceInfo", "google.rpc.Status"}) {
    SCOPED_TRACE(type);
    ServerReflectionRequest r;
    r.set_file_containing_symbol(type);
    ServerReflectionResponse out = Ask(s, r);
    ASSERT_FALSE(out.has_error_response()) << out.error_response().error_message();
    ASSERT_GE(out.file_descriptor_response().file_descriptor_proto_size(), 1);
    google::protobuf::FileDescriptorProto first;
    ASSERT_TRUE(first.ParseFromString(out.file_descriptor_response().file_descriptor_proto(0)));
    EXPECT_EQ(first.package(), "google.rpc");
  }
}

TEST(ReflectionServiceTest, UnknownSymbolIsNotFound) {
  ReflectionService s({});
  ServerReflectionRequest r;
  r.set_file_containing_symbol("no.such.Thing");
  ServerReflectionResponse out = Ask(s, r);
  EXPECT_EQ(out.error_response().error_code(), 5);
  r.set_file_by_filename("grpc/health/v1/health.proto");
  out = Ask(s, r);
  EXPECT_FALSE(out.has_error_response());
}

}  // namespace
}  // namespace newsgrid
