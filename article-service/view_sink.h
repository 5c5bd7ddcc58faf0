// Where reader views go: the seam to the trending service. The article
// service calls RecordReaderView for every READER-view GetArticle /
// GetArticleBySlug that found a live article and carries a visitor id
// (request field `visitor_id`, else `x-visitor-id` metadata). Editor reads
// and reads without a visitor id record nothing.
//
// Implementations must not block: they are called on the request path.
//
//   class MySink : public ViewSink {
//     void RecordReaderView(const ArticleViewEvent& e) override { queue.TryPush(e); }
//   };
#ifndef NEWSGRID_ARTICLE_SERVICE_VIEW_SINK_H_
#define NEWSGRID_ARTICLE_SERVICE_VIEW_SINK_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace newsgrid::article {

struct ArticleViewEvent {
  std::string article_name;  // "articles/{id}"
  std::string visitor_id;
  std::string section;
  std::vector<std::string> tags;
  absl::Time time;
};

class ViewSink {
 public:
  virtual ~ViewSink() = default;
  virtual void RecordReaderView(const ArticleViewEvent& event) = 0;
};

// Drops every view (no --trending_service_addr configured).
class NoopViewSink final : public ViewSink {
 public:
  void RecordReaderView(const ArticleViewEvent&) override {}
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_VIEW_SINK_H_
