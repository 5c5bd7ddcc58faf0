// gRPC server reflection (grpc.reflection.v1alpha, what grpcurl speaks),
// served from descriptors that keep the .proto comments.
//
// gRPC's own reflection plugin serves the descriptors compiled into the
// binary, which protoc strips of comments; this one serves the descriptor
// set embedded at build time with --include_source_info, so `grpcurl
// describe` shows the documentation of every service, method and field.
//
//   ReflectionService reflection({"news.article.v1.ArticleService",
//                                 "grpc.health.v1.Health"});
//   builder.RegisterService(&reflection);
#ifndef NEWSGRID_RUNTIME_REFLECTION_SERVICE_H_
#define NEWSGRID_RUNTIME_REFLECTION_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace newsgrid {

// The FileDescriptorSet (with source info) of every proto the servers serve.
std::string_view EmbeddedDescriptorSet();

class ReflectionService final
    : public grpc::reflection::v1alpha::ServerReflection::CallbackService {
 public:
  static constexpr char kServiceName[] = "grpc.reflection.v1alpha.ServerReflection";

  // `services`: the full names answered to list_services.
  explicit ReflectionService(std::vector<std::string> services);

  grpc::ServerBidiReactor<grpc::reflection::v1alpha::ServerReflectionRequest,
                          grpc::reflection::v1alpha::ServerReflectionResponse>*
  ServerReflectionInfo(grpc::CallbackServerContext* context) override;

  // Answers one request (public for tests).
  void Answer(const grpc::reflection::v1alpha::ServerReflectionRequest& request,
              grpc::reflection::v1alpha::ServerReflectionResponse* response) const;

 private:
  void AddFileWithDependencies(const google::protobuf::FileDescriptor* file,
                               grpc::reflection::v1alpha::ServerReflectionResponse* response) const;

  const std::vector<std::string> services_;
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
};

}  // namespace newsgrid

#endif  // NEWSGRID_RUNTIME_REFLECTION_SERVICE_H_
