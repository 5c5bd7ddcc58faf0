// Where reader views go: the seam to the trending service. The article
// service calls RecordReaderView for every READER-view GetArticle /
// GetArticleBySlug that found a live article and carries a visitor id
// (request field `visitor_id`, else `x-visitor-id` metadata). Editor reads
// and reads without a visitor id record nothing.
//
// Implementations must not block: they are called on the request path.
//
//   class MySink : public ViewSink {
//     void RecordReaderView(ArticleViewEvent e) override { queue.TryPush(std::move(e)); }
//   };
#ifndef NEWSGRID_ARTICLE_SERVICE_VIEW_SINK_H_
#define NEWSGRID_ARTICLE_SERVICE_VIEW_SINK_H_

#include <string>

#include "absl/time/time.h"
#include "article-service/article_version.h"

namespace newsgrid::article {

// The article version read is shared, not copied: its name, section and
// tags travel with the view at the cost of a reference count.
struct ArticleViewEvent {
  ArticleRef article;
  std::string visitor_id;
  absl::Time time;
};

class ViewSink {
 public:
  virtual ~ViewSink() = default;
  virtual void RecordReaderView(ArticleViewEvent event) = 0;
};

// Drops every view (no --trending_service_addr configured).
class NoopViewSink final : public ViewSink {
 public:
  void RecordReaderView(ArticleViewEvent) override {}
};

}  // namespace newsgrid::article

#endif  // NEWSGRID_ARTICLE_SERVICE_VIEW_SINK_H_
