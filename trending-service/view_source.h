// Where views come from. The gRPC handlers (RecordView / RecordViews) are
// one source; another transport, such as a consumer of a Kafka topic of
// view events partitioned by article, would be a ViewSource pushing into
// the same ViewSink, with the same rules and the same flush tickets.
//
//   class KafkaViewSource : public ViewSource {
//     absl::Status Start(ViewSink& sink) override { ... sink.Record(view, &ticket) ... }
//   };
#ifndef NEWSGRID_TRENDING_SERVICE_VIEW_SOURCE_H_
#define NEWSGRID_TRENDING_SERVICE_VIEW_SOURCE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "trending-service/ingest_rules.h"

namespace newsgrid::trending {

struct RawView;
struct Verdict;

// Takes views in (implemented by Ingestor).
class ViewSink {
 public:
  virtual ~ViewSink() = default;
  // Applies the counting rules; raises *ticket to the view's flush ticket.
  virtual Verdict Record(const RawView& view, uint64_t* ticket) = 0;
};

// A producer of views running on its own threads.
class ViewSource {
 public:
  virtual ~ViewSource() = default;
  virtual absl::Status Start(ViewSink& sink) = 0;
  virtual void Stop() = 0;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_VIEW_SOURCE_H_
