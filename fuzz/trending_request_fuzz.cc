// libFuzzer target: the trending service's request validation and ingest
// rules. The input is a serialized request (first byte picks which):
// GetTrendingRequest through QueryFromProto, or a RecordViewsRequest whose
// events go through the Ingestor into an in-memory store, as RecordViews
// does (every event gets a verdict; nothing crashes, counts never go down).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "news/trending/v1/trending_service.pb.h"
#include "runtime/clock.h"
#include "trending-service/ingestor.h"
#include "trending-service/trending_queries.h"

namespace {

namespace t = newsgrid::trending;
namespace pb = ::news::trending::v1;

struct World {
  newsgrid::FakeClock clock{absl::FromUnixSeconds(1714565250)};
  t::ViewStore store{{}, clock};
  t::VisitorHasher hasher{"fuzz-secret"};
  t::Ingestor ingestor{store, clock, hasher,
                       {.max_views_per_visitor_per_minute = 50,
                        .max_views_per_source_per_minute = 100,
                        .rate_limit_max_keys = 4096}};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* w = new World;
  if (size == 0) return 0;
  const char* body = reinterpret_cast<const char*>(data + 1);
  const int len = static_cast<int>(size - 1);
  if (data[0] % 2 == 0) {
    pb::GetTrendingRequest req;
    if (!req.ParseFromArray(body, len)) return 0;
    auto q = t::QueryFromProto(req, absl::Hours(24 * 7));
    if (!q.ok() && q.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    if (q.ok() && (q->limit < 1 || q->limit > 100)) std::abort();
    return 0;
  }
  pb::RecordViewsRequest req;
  if (!req.ParseFromArray(body, len)) return 0;
  uint64_t ticket = 0;
  for (const pb::ViewEvent& e : req.events()) {
    t::ArticleMetadata metadata;
    t::RawView v = t::ViewFromProto(e, metadata);
    v.source = e.referrer();  // any caller string
    const t::Verdict verdict = w->ingestor.Record(v, &ticket);
    if (verdict.outcome == t::Outcome::kAccepted && verdict.reason != t::RejectReason::kNone) {
      std::abort();
    }
  }
  w->clock.Advance(absl::Seconds(1));
  return 0;
}
