#include "article-service/article_grpc_service.h"

#include "article-service/access_rules.h"
#include "runtime/rpc.h"
#include "runtime/status_macros.h"

namespace newsgrid::article {
namespace {

std::string VisitorFromMetadata(const grpc::CallbackServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("x-visitor-id");
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

grpc::ServerUnaryReactor* Finished(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

}  // namespace

template <typename Req>
grpc::ServerUnaryReactor* ArticleGrpcService::Refuse(grpc::CallbackServerContext* ctx,
                                                     const Req& req) {
  if (const char* scope = RequiredScope(req); scope != nullptr && auth_.enabled()) {
    if (absl::Status s = auth_.Require(*ctx, scope); !s.ok()) {
      return Finished(ctx, ToGrpcStatus(s));
    }
  }
  return nullptr;
}

template <typename Req, typename Resp, typename Method>
grpc::ServerUnaryReactor* ArticleGrpcService::Run(grpc::CallbackServerContext* ctx,
                                                  const Req* req, Resp* resp, Method method) {
  if (grpc::ServerUnaryReactor* refused = Refuse(ctx, *req)) return refused;
  CallContext call{.deadline = RpcDeadline(*ctx, config_.default_rpc_deadline),
                   .visitor_id = VisitorFromMetadata(*ctx)};
  return RunUnary(ctx, workers_, [this, req, resp, method, call]() -> absl::Status {
    ASSIGN_OR_RETURN(*resp, (service_.*method)(*req, call));
    return absl::OkStatus();
  });
}

template <typename Req, typename Method, typename Encode>
grpc::ServerUnaryReactor* ArticleGrpcService::RunRaw(grpc::CallbackServerContext* ctx,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* resp, Method method,
                                                     Encode encode) {
  auto req = std::make_shared<Req>();
  grpc::ByteBuffer bytes(*request);  // parsing consumes the buffer
  if (!grpc::SerializationTraits<Req>::Deserialize(&bytes, req.get()).ok()) {
    return Finished(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                      kUnparsableRequestMessage));
  }
  if (grpc::ServerUnaryReactor* refused = Refuse(ctx, *req)) return refused;
  CallContext call{.deadline = RpcDeadline(*ctx, config_.default_rpc_deadline),
                   .visitor_id = VisitorFromMetadata(*ctx)};
  if constexpr (requires { service_.CachedRead(*req, call); }) {
    if (ArticleRef hit = service_.CachedRead(*req, call)) {
      *resp = ArticleResponse(hit);
      return Finished(ctx, grpc::Status::OK);
    }
  }
  return RunUnary(ctx, workers_, [this, req, resp, method, encode, call]() -> absl::Status {
    ASSIGN_OR_RETURN(auto result, (service_.*method)(*req, call));
    *resp = encode(result);
    return absl::OkStatus();
  });
}

#define NG_ARTICLE_METHOD(Name, Req, Resp)                                                  \
  grpc::ServerUnaryReactor* ArticleGrpcService::Name(grpc::CallbackServerContext* ctx,      \
                                                     const Req* req, Resp* resp) {          \
    return Run(ctx, req, resp, &ArticleService::Name);                                      \
  }

NG_ARTICLE_METHOD(CreateArticle, pb::CreateArticleRequest, Article)
NG_ARTICLE_METHOD(UpdateArticle, pb::UpdateArticleRequest, Article)
NG_ARTICLE_METHOD(DeleteArticle, pb::DeleteArticleRequest, Article)
NG_ARTICLE_METHOD(UndeleteArticle, pb::UndeleteArticleRequest, Article)
NG_ARTICLE_METHOD(BatchGetArticles, pb::BatchGetArticlesRequest, pb::BatchGetArticlesResponse)
NG_ARTICLE_METHOD(PublishArticle, pb::PublishArticleRequest, Article)
NG_ARTICLE_METHOD(UnpublishArticle, pb::UnpublishArticleRequest, Article)
NG_ARTICLE_METHOD(ListRelatedArticles, pb::ListRelatedArticlesRequest,
                  pb::ListRelatedArticlesResponse)
NG_ARTICLE_METHOD(ListArticleRevisions, pb::ListArticleRevisionsRequest,
                  pb::ListArticleRevisionsResponse)

#undef NG_ARTICLE_METHOD

grpc::ServerUnaryReactor* ArticleGrpcService::GetArticle(grpc::CallbackServerContext* ctx,
                                                         const grpc::ByteBuffer* req,
                                                         grpc::ByteBuffer* resp) {
  return RunRaw<pb::GetArticleRequest>(ctx, req, resp, &ArticleService::GetArticle,
                                       [](const ArticleRef& a) { return ArticleResponse(a); });
}

grpc::ServerUnaryReactor* ArticleGrpcService::GetArticleBySlug(grpc::CallbackServerContext* ctx,
                                                               const grpc::ByteBuffer* req,
                                                               grpc::ByteBuffer* resp) {
  return RunRaw<pb::GetArticleBySlugRequest>(
      ctx, req, resp, &ArticleService::GetArticleBySlug,
      [](const ArticleRef& a) { return ArticleResponse(a); });
}

grpc::ServerUnaryReactor* ArticleGrpcService::ListArticles(grpc::CallbackServerContext* ctx,
                                                           const grpc::ByteBuffer* req,
                                                           grpc::ByteBuffer* resp) {
  return RunRaw<pb::ListArticlesRequest>(ctx, req, resp, &ArticleService::ListArticles,
                                         [](const ArticlePage& p) { return ListResponse(p); });
}

grpc::ServerUnaryReactor* ArticleGrpcService::SearchArticles(grpc::CallbackServerContext* ctx,
                                                             const grpc::ByteBuffer* req,
                                                             grpc::ByteBuffer* resp) {
  return RunRaw<pb::SearchArticlesRequest>(
      ctx, req, resp, &ArticleService::SearchArticles,
      [](const SearchResultsPage& p) { return SearchResponse(p); });
}

}  // namespace newsgrid::article
