#include "runtime/reflection_service.h"

#include <set>

#include "google/protobuf/descriptor.pb.h"
#include "runtime/logging.h"

namespace newsgrid {

using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

ReflectionService::ReflectionService(std::vector<std::string> services)
    : services_(std::move(services)), pool_(std::make_unique<google::protobuf::DescriptorPool>()) {
  google::protobuf::FileDescriptorSet set;
  const std::string_view bytes = EmbeddedDescriptorSet();
  if (!set.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    NG_LOG_ERROR("embedded descriptor set does not parse; reflection will be empty");
    return;
  }
  // --include_imports lists dependencies before their dependents.
  for (const auto& file : set.file()) {
    if (pool_->BuildFile(file) == nullptr) {
      NG_LOG_ERROR("embedded descriptor does not build", {{"file", file.name()}});
    }
  }
}

void ReflectionService::AddFileWithDependencies(const google::protobuf::FileDescriptor* file,
                                                ServerReflectionResponse* response) const {
  std::set<std::string> seen;
  std::vector<const google::protobuf::FileDescriptor*> stack = {file};
  while (!stack.empty()) {
    const google::protobuf::FileDescriptor* f = stack.back();
    stack.pop_back();
    if (!seen.insert(f->name()).second) continue;
    google::protobuf::FileDescriptorProto proto;
    f->CopyTo(&proto);
    f->CopySourceCodeInfoTo(&proto);
    proto.SerializeToString(
        response->mutable_file_descriptor_response()->add_file_descriptor_proto());
    for (int i = 0; i < f->dependency_count(); ++i) stack.push_back(f->dependency(i));
  }
}

void ReflectionService::Answer(const ServerReflectionRequest& request,
                               ServerReflectionResponse* response) const {
  response->set_valid_host(request.host());
  *response->mutable_original_request() = request;
  auto not_found = [response](const std::string& what) {
    response->mutable_error_response()->set_error_code(
        static_cast<int>(grpc::StatusCode::NOT_FOUND));
    response->mutable_error_response()->set_error_message(what + " not found");
  };
  switch (request.message_request_case()) {
    case ServerReflectionRequest::kListServices:
      for (const std::string& name : services_) {
        response->mutable_list_services_response()->add_service()->set_name(name);
      }
      return;
    case ServerReflectionRequest::kFileByFilename: {
      const auto* file = pool_->FindFileByName(request.file_by_filename());
      if (file == nullptr) return not_found("file " + request.file_by_filename());
      return AddFileWithDependencies(file, response);
    }
    case ServerReflectionRequest::kFileContainingSymbol: {
      const auto* file = pool_->FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) return not_found("symbol " + request.file_containing_symbol());
      return AddFileWithDependencies(file, response);
    }
    case ServerReflectionRequest::kFileContainingExtension: {
      const auto& ext = request.file_containing_extension();
      const auto* type = pool_->FindMessageTypeByName(ext.containing_type());
      const auto* field =
          type == nullptr ? nullptr : pool_->FindExtensionByNumber(type, ext.extension_number());
      if (field == nullptr) return not_found("extension of " + ext.containing_type());
      return AddFileWithDependencies(field->file(), response);
    }
    case ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const auto* type = pool_->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) return not_found("type " + request.all_extension_numbers_of_type());
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool_->FindAllExtensions(type, &extensions);
      auto* out = response->mutable_all_extension_numbers_response();
      out->set_base_type_name(type->full_name());
      for (const auto* e : extensions) out->add_extension_number(e->number());
      return;
    }
    default:
      response->mutable_error_response()->set_error_code(
          static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
      response->mutable_error_response()->set_error_message("unsupported reflection request");
  }
}

namespace {

// Reads a request, writes its answer, repeats until the client half-closes.
class ReflectionReactor final
    : public grpc::ServerBidiReactor<ServerReflectionRequest, ServerReflectionResponse> {
 public:
  explicit ReflectionReactor(const ReflectionService* service) : service_(service) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    response_.Clear();
    service_->Answer(request_, &response_);
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::UNKNOWN, "write failed"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  const ReflectionService* service_;
  ServerReflectionRequest request_;
  ServerReflectionResponse response_;
};

}  // namespace

grpc::ServerBidiReactor<ServerReflectionRequest, ServerReflectionResponse>*
ReflectionService::ServerReflectionInfo(grpc::CallbackServerContext* /*context*/) {
  return new ReflectionReactor(this);
}

}  // namespace newsgrid
