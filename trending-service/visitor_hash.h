// Privacy-preserving visitor identity: visitor ids are never stored, only a
// keyed hash whose key changes every UTC day.
//
// The day key is SipHash-derived from a server secret (--visitor_salt_secret,
// shared by all replicas so their sketches merge) and the date "YYYY-MM-DD";
// the visitor hash is SipHash-2-4(day key, visitor id). Without the secret
// the hashes cannot be linked to ids, and hashes of two different days
// cannot be linked to each other, so no visitor is followed across days.
// Consequences, by design: a visitor seen on two days counts as two unique
// visitors in windows spanning midnight, and the dedup window restarts at
// midnight UTC.
//
//   VisitorHasher hasher("server-secret");
//   uint64_t h = hasher.Hash("cookie-123", view_time);
#ifndef NEWSGRID_TRENDING_SERVICE_VISITOR_HASH_H_
#define NEWSGRID_TRENDING_SERVICE_VISITOR_HASH_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace newsgrid::trending {

// SipHash-2-4 of `data` under the 128-bit key (k0, k1). Stable across
// processes and builds (unlike absl::Hash), which replicas rely on.
uint64_t SipHash24(uint64_t k0, uint64_t k1, absl::string_view data);

class VisitorHasher {
 public:
  explicit VisitorHasher(absl::string_view secret);

  // The salted hash of `visitor_id` for the UTC day of `when`.
  uint64_t Hash(absl::string_view visitor_id, absl::Time when) const;

  // Days since the Unix epoch (UTC) of `when`: the salt period.
  static int64_t UtcDay(absl::Time when);

 private:
  struct DayKey {
    uint64_t k0;
    uint64_t k1;
  };
  DayKey KeyForDay(int64_t day) const;

  uint64_t id_;  // keys the per-thread day-key cache
  uint64_t secret_k0_;
  uint64_t secret_k1_;
};

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_VISITOR_HASH_H_
