// Article-service workloads modelled on a news site: readers (Zipf-hot
// article reads, list pages, search) and editors (create, update, publish).
// Readers share one corpus of N published articles, created by the first
// Setup of a run (or loaded from --article_names_file, so later runs reuse
// it).
#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/loadgen/workload.h"
#include "bench/loadgen/zipf.h"
#include "news/article/v1/article_service.grpc.pb.h"
#include "runtime/status_macros.h"

namespace newsgrid::bench {
namespace {

namespace av1 = news::article::v1;
using av1::ArticleService;

constexpr const char* kWords[] = {
    "election", "minister", "parliament", "budget", "inflation", "market", "energy", "climate",
    "storm", "flood", "harvest", "railway", "airport", "strike", "union", "court", "verdict",
    "police", "border", "summit", "treaty", "ceasefire", "refugees", "hospital", "vaccine",
    "research", "university", "students", "teachers", "museum", "festival", "concert", "film",
    "novel", "football", "league", "final", "record", "champion", "coach", "startup", "bank",
    "shares", "profits", "exports", "tariffs", "housing", "rents", "mayor", "council", "city",
    "village", "river", "coast", "island", "mountain", "forest", "wildlife", "ocean", "satellite",
    "rocket", "telescope", "battery", "software", "privacy", "network", "outage", "drought",
    "wildfire", "heatwave", "protest", "reform", "pension", "taxes", "wages", "jobs", "factory",
    "port", "shipping", "fuel", "prices", "voters", "campaign", "debate", "senate", "governor",
    "report", "inquiry", "scandal", "investigation", "witness", "trial", "appeal", "ruling"};
constexpr size_t kWordCount = std::size(kWords);
constexpr const char* kSections[] = {"world", "politics", "business", "technology",
                                     "science", "sport", "culture", "climate"};

std::string Words(std::mt19937_64& rng, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += kWords[rng() % kWordCount];
  }
  return out;
}

// A plausible article (markdown body of 300-700 words), deterministic by seed.
av1::Article MakeArticle(uint64_t seed) {
  std::mt19937_64 rng(seed);
  av1::Article a;
  std::string title = Words(rng, 6 + static_cast<int>(rng() % 5));
  title[0] = static_cast<char>(std::toupper(title[0]));
  a.set_title(title);
  a.set_subtitle(Words(rng, 14));
  std::string body;
  const int paragraphs = 5 + static_cast<int>(rng() % 6);
  for (int p = 0; p < paragraphs; ++p) absl::StrAppend(&body, Words(rng, 60 + static_cast<int>(rng() % 20)), ".\n\n");
  a.set_body(body);
  a.set_body_format(av1::MARKDOWN);
  a.add_authors(absl::StrCat("Reporter ", rng() % 40));
  a.set_section(kSections[rng() % std::size(kSections)]);
  for (int t = 0; t < 3; ++t) a.add_tags(kWords[rng() % kWordCount]);
  return a;
}

std::string RunId() { return absl::StrCat(ThreadRng()() % 1000000000); }

// The articles readers read: created and published once per process (or
// loaded from the names file).
absl::StatusOr<std::vector<std::string>> Corpus(const WorkloadOptions& o,
                                                const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  static absl::Mutex mu;
  static std::vector<std::string>* cached = nullptr;
  absl::MutexLock lock(&mu);
  if (cached && cached->size() >= static_cast<size_t>(o.articles)) return *cached;
  std::vector<std::string> names;
  if (!o.article_names_file.empty()) {
    std::ifstream in(o.article_names_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) names.push_back(line);
    }
    if (names.size() >= static_cast<size_t>(o.articles)) {
      names.resize(o.articles);
      cached = new std::vector<std::string>(names);
      return names;
    }
  }
  names.assign(o.articles, "");
  auto stub = ArticleService::NewStub(channels[0]);
  const std::string run = RunId();
  absl::Status s = ParallelFor(o.articles, o.setup_concurrency, [&](int64_t i) -> absl::Status {
    av1::CreateArticleRequest create;
    *create.mutable_article() = MakeArticle(static_cast<uint64_t>(i) * 7919 + 1);
    create.mutable_article()->set_slug(absl::StrCat("bench-", run, "-", i));
    create.set_request_id(absl::StrCat("bench-", run, "-", i));
    create.set_actor("loadgen");
    av1::Article created;
    grpc::ClientContext c1;
    c1.set_deadline(absl::ToChronoTime(absl::Now() + o.deadline));
    if (auto st = stub->CreateArticle(&c1, create, &created); !st.ok()) return ToAbsl(st, "CreateArticle");
    av1::PublishArticleRequest publish;
    publish.set_name(created.name());
    publish.set_actor("loadgen");
    av1::Article published;
    grpc::ClientContext c2;
    c2.set_deadline(absl::ToChronoTime(absl::Now() + o.deadline));
    if (auto st = stub->PublishArticle(&c2, publish, &published); !st.ok()) return ToAbsl(st, "PublishArticle");
    names[i] = created.name();
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(s);
  if (!o.article_names_file.empty()) {
    std::ofstream out(o.article_names_file, std::ios::trunc);
    for (const std::string& n : names) out << n << "\n";
  }
  cached = new std::vector<std::string>(names);
  return names;
}

// Common base: channels and stubs to the article service, and the corpus.
class ArticleWorkload : public Workload {
 public:
  explicit ArticleWorkload(const WorkloadOptions& o) : options_(o), zipf_(o.articles, o.zipf_s) {}
  absl::Status Connect() {
    ASSIGN_OR_RETURN(channels_, MakeChannels(options_.article_addr, options_.channels));
    for (auto& ch : channels_) stubs_.push_back(ArticleService::NewStub(ch));
    return absl::OkStatus();
  }
  absl::Status Setup() override {
    ASSIGN_OR_RETURN(names_, Corpus(options_, channels_));
    return absl::OkStatus();
  }

 protected:
  ArticleService::Stub::async_interface* async(const CallSlot& slot) {
    return stubs_[slot.channel]->async();
  }
  const std::string& HotArticle() { return names_[zipf_(ThreadRng())]; }
  std::string Visitor() { return absl::StrCat("v", ThreadRng()() % options_.visitors); }

  const WorkloadOptions options_;
  ZipfDistribution zipf_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<ArticleService::Stub>> stubs_;
  std::vector<std::string> names_;
};

// A reader opening an article: Zipf-popular, with a visitor id (so the
// service also forwards a view to trending, as in production).
class ReadWorkload : public ArticleWorkload {
 public:
  using ArticleWorkload::ArticleWorkload;
  std::vector<std::string> Methods() const override { return {"ArticleService/GetArticle"}; }
  void Issue(const CallSlot& slot, DoneFn done) override {
    av1::GetArticleRequest req;
    req.set_name(HotArticle());
    req.set_visitor_id(Visitor());
    request_bytes_ += static_cast<int64_t>(req.ByteSizeLong());
    StartUnary<av1::GetArticleRequest, av1::Article>(slot, 0, std::move(req), std::move(done),
        [&](auto* c, auto* rq, auto* rs, auto cb) { async(slot)->GetArticle(c, rq, rs, std::move(cb)); },
        [this](const av1::Article& a) {
          response_bytes_ += static_cast<int64_t>(a.ByteSizeLong());
          ++responses_;
          return int64_t{1};
        });
  }
  // The mean sizes of a read's request and answer (for the echo baseline
  // that carries the same bytes).
  std::map<std::string, int64_t> Counters() const override {
    const int64_t n = std::max<int64_t>(1, responses_.load());
    return {{"mean_request_bytes", request_bytes_.load() / n},
            {"mean_response_bytes", response_bytes_.load() / n}};
  }

 private:
  std::atomic<int64_t> request_bytes_{0};
  std::atomic<int64_t> response_bytes_{0};
  std::atomic<int64_t> responses_{0};
};

// Section fronts and tag pages: the newest 20, filtered half of the time.
// Whole articles (article_list), or the six fields the reader's card pages
// ask for with read_mask (article_list_cards).
class ListWorkload : public ArticleWorkload {
 public:
  explicit ListWorkload(const WorkloadOptions& o, bool cards = false)
      : ArticleWorkload(o), cards_(cards) {}
  std::vector<std::string> Methods() const override { return {"ArticleService/ListArticles"}; }
  void Issue(const CallSlot& slot, DoneFn done) override {
    auto& rng = ThreadRng();
    av1::ListArticlesRequest req;
    req.set_page_size(20);
    if (cards_) {
      for (const char* f :
           {"title", "slug", "excerpt", "reading_time_text", "section", "publish_time"}) {
        req.mutable_read_mask()->add_paths(f);
      }
    }
    const int kind = static_cast<int>(rng() % 10);
    if (kind >= 5 && kind < 8) {
      req.set_filter(absl::StrCat("section = \"", kSections[rng() % std::size(kSections)], "\""));
    } else if (kind >= 8) {
      req.set_filter(absl::StrCat("tags:\"", kWords[rng() % kWordCount], "\""));
    }
    StartUnary<av1::ListArticlesRequest, av1::ListArticlesResponse>(slot, 0, std::move(req), std::move(done),
        [&](auto* c, auto* rq, auto* rs, auto cb) { async(slot)->ListArticles(c, rq, rs, std::move(cb)); });
  }

 private:
  const bool cards_;
};

class CardListWorkload : public ListWorkload {
 public:
  explicit CardListWorkload(const WorkloadOptions& o) : ListWorkload(o, /*cards=*/true) {}
};

// Reader search: one or two words, sometimes a prefix.
class SearchWorkload : public ArticleWorkload {
 public:
  using ArticleWorkload::ArticleWorkload;
  std::vector<std::string> Methods() const override { return {"ArticleService/SearchArticles"}; }
  void Issue(const CallSlot& slot, DoneFn done) override {
    auto& rng = ThreadRng();
    av1::SearchArticlesRequest req;
    std::string query = kWords[rng() % kWordCount];
    if (rng() % 2) absl::StrAppend(&query, " ", kWords[rng() % kWordCount]);
    if (rng() % 5 == 0) query = absl::StrCat(std::string(kWords[rng() % kWordCount]).substr(0, 4), "*");
    req.set_query(query);
    req.set_page_size(10);
    StartUnary<av1::SearchArticlesRequest, av1::SearchArticlesResponse>(slot, 0, std::move(req), std::move(done),
        [&](auto* c, auto* rq, auto* rs, auto cb) { async(slot)->SearchArticles(c, rq, rs, std::move(cb)); });
  }
};

// Editors: create drafts, update articles, publish drafts, in the
// --write_mix proportions. `article_create` is the pure-create variant.
class WriteWorkload : public ArticleWorkload {
 public:
  enum Op { kCreate = 0, kUpdate = 1, kPublish = 2 };
  WriteWorkload(const WorkloadOptions& o, bool create_only = false) : ArticleWorkload(o), run_(RunId()) {
    weights_ = {1, 0, 0};
    if (!create_only) {
      for (absl::string_view part : absl::StrSplit(o.write_mix, ',')) {
        std::pair<std::string, std::string> kv = absl::StrSplit(part, ':');
        int w = 0;
        if (!absl::SimpleAtoi(kv.second, &w)) continue;
        if (kv.first == "create") weights_[kCreate] = w;
        if (kv.first == "update") weights_[kUpdate] = w;
        if (kv.first == "publish") weights_[kPublish] = w;
      }
    }
  }
  absl::Status Setup() override {
    // Only updates need existing articles.
    return weights_[kUpdate] > 0 ? ArticleWorkload::Setup() : absl::OkStatus();
  }
  std::vector<std::string> Methods() const override {
    return {"ArticleService/CreateArticle", "ArticleService/UpdateArticle",
            "ArticleService/PublishArticle"};
  }
  void Issue(const CallSlot& slot, DoneFn done) override {
    auto& rng = ThreadRng();
    const int total = weights_[0] + weights_[1] + weights_[2];
    int pick = static_cast<int>(rng() % std::max(total, 1));
    Op op = pick < weights_[0] ? kCreate : pick < weights_[0] + weights_[1] ? kUpdate : kPublish;
    std::string draft;
    if (op == kPublish && !TakeDraft(&draft)) op = kCreate;
    if (op == kUpdate && names_.empty()) op = kCreate;
    if (op == kCreate) {
      const int64_t i = next_++;
      av1::CreateArticleRequest req;
      *req.mutable_article() = MakeArticle(rng());
      req.mutable_article()->set_slug(absl::StrCat("w-", run_, "-", i));
      req.set_request_id(absl::StrCat("w-", run_, "-", i));
      req.set_actor("editor");
      StartUnary<av1::CreateArticleRequest, av1::Article>(slot, kCreate, std::move(req), std::move(done),
          [&](auto* c, auto* rq, auto* rs, auto cb) { async(slot)->CreateArticle(c, rq, rs, std::move(cb)); },
          [this](const av1::Article& a) { AddDraft(a.name()); return int64_t{1}; });
    } else if (op == kUpdate) {
      av1::UpdateArticleRequest req;
      req.mutable_article()->set_name(names_[rng() % names_.size()]);
      req.mutable_article()->set_subtitle(Words(rng, 14));
      req.mutable_update_mask()->add_paths("subtitle");
      req.set_actor("editor");
      StartUnary<av1::UpdateArticleRequest, av1::Article>(slot, kUpdate, std::move(req), std::move(done),
          [&](auto* c, auto* rq, auto* rs, auto cb) { async(slot)->UpdateArticle(c, rq, rs, std::move(cb)); });
    } else {
      av1::PublishArticleRequest req;
      req.set_name(draft);
      req.set_actor("editor");
      StartUnary<av1::PublishArticleRequest, av1::Article>(slot, kPublish, std::move(req), std::move(done),
          [&](auto* c, auto* rq, auto* rs, auto cb) { async(slot)->PublishArticle(c, rq, rs, std::move(cb)); });
    }
  }

 private:
  void AddDraft(const std::string& name) {
    if (weights_[kPublish] == 0) return;
    absl::MutexLock lock(&mu_);
    if (drafts_.size() < 100000) drafts_.push_back(name);
  }
  bool TakeDraft(std::string* name) {
    absl::MutexLock lock(&mu_);
    if (drafts_.empty()) return false;
    *name = std::move(drafts_.back());
    drafts_.pop_back();
    return true;
  }

  const std::string run_;
  std::array<int, 3> weights_;
  std::atomic<int64_t> next_{0};
  absl::Mutex mu_;
  std::vector<std::string> drafts_ ABSL_GUARDED_BY(mu_);
};

// Cross-replica staleness: an update acknowledged by replica A
// (--article_addr) until replica B (--article_replica_addr) answers the new
// version. One operation polls B (GetArticle, reader view, back to back)
// until it returns the etag of the update acknowledged just before the
// operation started, so the operation's latency is that staleness; when it
// sees it, it makes the next update (of the next hot article) before
// finishing. B has each article cached before it is updated (the previous
// operation's polls read it), so what is measured is B's invalidation, not
// a cold read. Run it closed-loop with concurrency 1 and a count.
class StalenessWorkload : public ArticleWorkload {
 public:
  explicit StalenessWorkload(const WorkloadOptions& o) : ArticleWorkload(o) {}
  absl::Status Connect() {
    if (options_.article_replica_addr.empty()) {
      return absl::InvalidArgumentError("article_staleness needs --article_replica_addr");
    }
    RETURN_IF_ERROR(ArticleWorkload::Connect());
    ASSIGN_OR_RETURN(auto replica, MakeChannels(options_.article_replica_addr, 1));
    replica_ = ArticleService::NewStub(replica[0]);
    writer_ = ArticleService::NewStub(channels_[0]);
    return absl::OkStatus();
  }
  absl::Status Setup() override {
    RETURN_IF_ERROR(ArticleWorkload::Setup());
    // Every article B will see updated is cached on B first.
    for (size_t i = 0; i < std::min<size_t>(kArticles, names_.size()); ++i) {
      av1::GetArticleRequest get;
      get.set_name(names_[i]);
      av1::Article a;
      grpc::ClientContext c;
      c.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
      if (auto st = replica_->GetArticle(&c, get, &a); !st.ok()) return ToAbsl(st, "GetArticle on B");
    }
    return Update();
  }
  std::vector<std::string> Methods() const override {
    return {"staleness: update acknowledged by A until B answers it"};
  }
  void Issue(const CallSlot& slot, DoneFn done) override { Poll(slot, std::move(done)); }

 private:
  static constexpr size_t kArticles = 10;

  // Updates the next article on A and remembers the acknowledged etag.
  absl::Status Update() {
    av1::UpdateArticleRequest req;
    const std::string& name = names_[next_++ % std::min<size_t>(kArticles, names_.size())];
    req.mutable_article()->set_name(name);
    req.mutable_article()->set_subtitle(absl::StrCat("Revised ", next_.load(), ": ", Words(ThreadRng(), 8)));
    req.mutable_update_mask()->add_paths("subtitle");
    req.set_actor("staleness");
    av1::Article updated;
    grpc::ClientContext c;
    c.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
    if (auto st = writer_->UpdateArticle(&c, req, &updated); !st.ok()) {
      return ToAbsl(st, "UpdateArticle on A");
    }
    absl::MutexLock lock(&mu_);
    target_name_ = name;
    target_etag_ = updated.etag();
    return absl::OkStatus();
  }

  void Poll(const CallSlot& slot, DoneFn done) {
    av1::GetArticleRequest req;
    std::string want;
    {
      absl::MutexLock lock(&mu_);
      req.set_name(target_name_);
      want = target_etag_;
    }
    auto call = std::make_shared<DoneFn>(std::move(done));
    StartUnary<av1::GetArticleRequest, av1::Article>(slot, 0, std::move(req),
        [this, slot, call, want](int, const grpc::Status& status, int64_t seen) {
          if (!status.ok()) {
            (*call)(0, status, 1);
            return;
          }
          if (seen == 0) {  // still the old version: ask again
            Poll(slot, std::move(*call));
            return;
          }
          // Seen: the next update (blocking, off the measured time of the
          // next operation, which starts once this one is done).
          absl::Status next = Update();
          (*call)(0, next.ok() ? grpc::Status::OK
                               : grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(next.message())),
                  1);
        },
        [&](auto* c, auto* rq, auto* rs, auto cb) { replica_->async()->GetArticle(c, rq, rs, std::move(cb)); },
        [want](const av1::Article& a) { return int64_t{a.etag() == want ? 1 : 0}; });
  }

  std::unique_ptr<ArticleService::Stub> replica_;
  std::unique_ptr<ArticleService::Stub> writer_;
  std::atomic<uint64_t> next_{0};
  absl::Mutex mu_;
  std::string target_name_ ABSL_GUARDED_BY(mu_);
  std::string target_etag_ ABSL_GUARDED_BY(mu_);
};

class CreateWorkload : public WriteWorkload {
 public:
  explicit CreateWorkload(const WorkloadOptions& o) : WriteWorkload(o, /*create_only=*/true) {}
};

}  // namespace

void RegisterArticleWorkloads(std::map<std::string, WorkloadFactory>& registry) {
  registry["article_read"] = MakeConnected<ReadWorkload>;
  registry["article_list"] = MakeConnected<ListWorkload>;
  registry["article_list_cards"] = MakeConnected<CardListWorkload>;
  registry["article_search"] = MakeConnected<SearchWorkload>;
  registry["article_create"] = MakeConnected<CreateWorkload>;
  registry["editor_writes"] = MakeConnected<WriteWorkload>;
  registry["article_staleness"] = MakeConnected<StalenessWorkload>;
}

}  // namespace newsgrid::bench
