#include "trending-service/delta_pack.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "runtime/status_macros.h"

namespace newsgrid::trending {
namespace {

constexpr char kCountsTag = 'C';
constexpr char kRaisesTag = 'R';
constexpr char kVersion = 1;
// Counts version 2 adds the engagement of each delta (see the header).
constexpr char kCountsVersion = 2;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

class Reader {
 public:
  explicit Reader(absl::string_view bytes) : in_(bytes) {}
  bool Varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return false;
      const auto b = static_cast<unsigned char>(in_[0]);
      in_.remove_prefix(1);
      v |= uint64_t{b & 0x7fu} << shift;
      if (b < 0x80) return true;
    }
    return false;
  }
  bool Bytes(size_t n, absl::string_view& out) {
    if (in_.size() < n) return false;
    out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Double(double& v) {
    absl::string_view b;
    if (!Bytes(8, b)) return false;
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
    std::memcpy(&v, &bits, 8);
    return true;
  }
  bool Fixed64(uint64_t& v) {
    absl::string_view b;
    if (!Bytes(8, b)) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  absl::string_view in_;
};

void PutFixed64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void PutDouble(std::string& out, double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, 8);
  PutFixed64(out, bits);
}

// The article table of deltas[from, to) (those `take` keeps), and each
// delta's index into it.
template <typename Take>
std::vector<uint32_t> ArticleTable(const std::vector<BucketDelta>& deltas, size_t from, size_t to,
                                   Take take, std::string& out) {
  absl::flat_hash_map<absl::string_view, uint32_t> index;
  std::vector<absl::string_view> order;
  std::vector<uint32_t> of(to - from, 0);
  for (size_t i = from; i < to; ++i) {
    if (!take(deltas[i])) continue;
    auto [it, inserted] = index.try_emplace(deltas[i].article, static_cast<uint32_t>(order.size()));
    if (inserted) order.push_back(deltas[i].article);
    of[i - from] = it->second;
  }
  PutVarint(out, order.size());
  for (absl::string_view a : order) {
    PutVarint(out, a.size());
    out.append(a.data(), a.size());
  }
  return of;
}

// Reads the header (tag and a version up to `max_version`) and the article
// table; *version is the pack's.
absl::Status ReadArticles(Reader& r, char tag, char max_version, absl::string_view bytes,
                          std::vector<absl::string_view>& articles, char* version) {
  if (bytes.size() < 2 || bytes[0] != tag || bytes[1] < kVersion || bytes[1] > max_version) {
    return absl::DataLossError("delta pack: unknown format");
  }
  *version = bytes[1];
  absl::string_view header;
  r.Bytes(2, header);
  uint64_t n = 0;
  if (!r.Varint(n) || n > bytes.size()) return absl::DataLossError("delta pack: bad article count");
  articles.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len = 0;
    absl::string_view a;
    if (!r.Varint(len) || !r.Bytes(len, a)) return absl::DataLossError("delta pack: bad article");
    articles.push_back(a);
  }
  return absl::OkStatus();
}

// A delta's key: its article's index in a table of `articles`, start, width.
bool ReadKeyParts(Reader& r, size_t articles, uint32_t& article, int32_t& start_min,
                  int32_t& width_min) {
  uint64_t a = 0, start = 0, width = 0;
  if (!r.Varint(a) || !r.Varint(start) || !r.Varint(width)) return false;
  if (a >= articles || (width != 1 && width != 60)) return false;
  const int64_t s = UnZigZag(start);
  if (s < INT32_MIN || s > INT32_MAX) return false;
  article = static_cast<uint32_t>(a);
  start_min = static_cast<int32_t>(s);
  width_min = static_cast<int32_t>(width);
  return true;
}

bool ReadKey(Reader& r, const std::vector<absl::string_view>& articles, BucketDelta& d) {
  uint32_t article = 0;
  if (!ReadKeyParts(r, articles.size(), article, d.start_min, d.width_min)) return false;
  d.article = std::string(articles[article]);
  return true;
}

}  // namespace

std::string PackCounts(const std::vector<BucketDelta>& deltas, size_t from, size_t to) {
  std::string out = {kCountsTag, kCountsVersion};
  out.reserve(16 + (to - from) * 26);
  const std::vector<uint32_t> of =
      ArticleTable(deltas, from, to, [](const BucketDelta&) { return true; }, out);
  PutVarint(out, to - from);
  for (size_t i = from; i < to; ++i) {
    const BucketDelta& d = deltas[i];
    PutVarint(out, of[i - from]);
    PutVarint(out, ZigZag(d.start_min));
    PutVarint(out, static_cast<uint64_t>(d.width_min));
    PutVarint(out, static_cast<uint64_t>(d.views));
    PutVarint(out, static_cast<uint64_t>(d.visitors));
    PutDouble(out, d.hot);
    PutVarint(out, static_cast<uint64_t>(d.engaged));
    PutVarint(out, d.readers.size());
    const int64_t start_ms = int64_t{d.start_min} * 60'000;
    for (const ReaderPing& p : d.readers) {
      PutFixed64(out, p.reader);
      PutVarint(out, ZigZag(p.time_ms - start_ms));
    }
  }
  return out;
}

std::string PackRaises(const std::vector<BucketDelta>& deltas, size_t from, size_t to) {
  auto has = [](const BucketDelta& d) { return !d.raises.empty(); };
  size_t n = 0;
  for (size_t i = from; i < to; ++i) n += has(deltas[i]);
  if (n == 0) return std::string();
  std::string out = {kRaisesTag, kVersion};
  const std::vector<uint32_t> of = ArticleTable(deltas, from, to, has, out);
  PutVarint(out, n);
  for (size_t i = from; i < to; ++i) {
    const BucketDelta& d = deltas[i];
    if (!has(d)) continue;
    PutVarint(out, of[i - from]);
    PutVarint(out, ZigZag(d.start_min));
    PutVarint(out, static_cast<uint64_t>(d.width_min));
    const std::string sketch = d.raises.Serialize();
    PutVarint(out, sketch.size());
    out.append(sketch);
  }
  return out;
}

namespace {

// One delta of a counts pack as DecodeCounts hands it over: `article`
// indexes the pack's article table; `readers` only when asked for.
struct PackedCount {
  uint32_t article = 0;
  int32_t start_min = 0;
  int32_t width_min = 0;
  CountSummer::Sums counts;
  std::vector<ReaderPing> readers;
};

// The one decoder of counts packs: on_table(articles) once, then
// on_count(const PackedCount&) per delta. Reader pings are decoded only
// `with_readers` (skipped, still checked, otherwise).
template <typename OnTable, typename OnCount>
absl::Status DecodeCounts(absl::string_view bytes, bool with_readers, OnTable on_table,
                          OnCount on_count) {
  Reader r(bytes);
  std::vector<absl::string_view> articles;
  char version = 0;
  RETURN_IF_ERROR(ReadArticles(r, kCountsTag, kCountsVersion, bytes, articles, &version));
  uint64_t n = 0;
  if (!r.Varint(n) || n > bytes.size()) return absl::DataLossError("delta pack: bad count");
  on_table(articles, n);
  PackedCount d;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t views = 0, visitors = 0;
    if (!ReadKeyParts(r, articles.size(), d.article, d.start_min, d.width_min) || !r.Varint(views) ||
        !r.Varint(visitors) || !r.Double(d.counts.hot) || views > (uint64_t{1} << 40) ||
        visitors > views) {
      return absl::DataLossError("delta pack: bad delta");
    }
    d.counts.views = static_cast<int64_t>(views);
    d.counts.visitors = static_cast<int64_t>(visitors);
    d.counts.engaged = 0;
    d.readers.clear();
    if (version >= 2) {
      uint64_t engaged = 0, readers = 0;
      if (!r.Varint(engaged) || !r.Varint(readers) || engaged > (uint64_t{1} << 40) ||
          readers > bytes.size()) {
        return absl::DataLossError("delta pack: bad engagement");
      }
      d.counts.engaged = static_cast<int64_t>(engaged);
      const int64_t start_ms = int64_t{d.start_min} * 60'000;
      for (uint64_t k = 0; k < readers; ++k) {
        ReaderPing p;
        uint64_t offset = 0;
        if (!r.Fixed64(p.reader) || !r.Varint(offset)) {
          return absl::DataLossError("delta pack: bad reader");
        }
        p.time_ms = start_ms + UnZigZag(offset);
        if (with_readers) d.readers.push_back(p);
      }
    }
    on_count(articles, d);
  }
  if (!r.done()) return absl::DataLossError("delta pack: trailing bytes");
  return absl::OkStatus();
}

}  // namespace

absl::Status UnpackCounts(absl::string_view bytes, std::vector<BucketDelta>& out) {
  return DecodeCounts(
      bytes, /*with_readers=*/true,
      [&](const std::vector<absl::string_view>&, uint64_t n) { out.reserve(out.size() + n); },
      [&](const std::vector<absl::string_view>& articles, const PackedCount& c) {
        BucketDelta d;
        d.article = std::string(articles[c.article]);
        d.start_min = c.start_min;
        d.width_min = c.width_min;
        d.views = c.counts.views;
        d.visitors = c.counts.visitors;
        d.hot = c.counts.hot;
        d.engaged = c.counts.engaged;
        d.readers = c.readers;
        out.push_back(std::move(d));
      });
}

absl::Status CountSummer::Add(absl::string_view pack) {
  return DecodeCounts(
      pack, /*with_readers=*/false,
      [&](const std::vector<absl::string_view>& articles, uint64_t) {
        // A pack names each article once: interned here, once per pack.
        pack_ids_.resize(articles.size());
        for (size_t i = 0; i < articles.size(); ++i) {
          auto it = ids_.find(articles[i]);
          if (it == ids_.end()) {
            names_.emplace_back(articles[i]);
            buckets_.emplace_back();
            it = ids_.emplace(names_.back(), static_cast<uint32_t>(names_.size() - 1)).first;
          }
          pack_ids_[i] = it->second;
        }
      },
      [&](const std::vector<absl::string_view>&, const PackedCount& c) {
        auto& buckets = buckets_[pack_ids_[c.article]];
        auto b = std::find_if(buckets.begin(), buckets.end(), [&](const Bucket& b) {
          return b.start_min == c.start_min && b.width_min == c.width_min;
        });
        if (b == buckets.end()) {
          b = buckets.insert(buckets.end(), Bucket{c.start_min, c.width_min, {}});
          ++size_;
        }
        b->sums.Add(c.counts);
      });
}

std::vector<CountSummer::Row> CountSummer::SortedRows() const {
  std::vector<uint32_t> ids(names_.size());
  for (uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return names_[a] < names_[b]; });
  std::vector<Row> rows;
  rows.reserve(size_);
  for (uint32_t id : ids) {
    const size_t first = rows.size();
    for (const Bucket& b : buckets_[id]) rows.push_back({&names_[id], b.start_min, b.width_min, &b.sums});
    std::sort(rows.begin() + static_cast<ptrdiff_t>(first), rows.end(), [](const Row& a, const Row& b) {
      return std::tie(a.start_min, a.width_min) < std::tie(b.start_min, b.width_min);
    });
  }
  return rows;
}

absl::Status UnpackRaises(absl::string_view bytes, std::vector<BucketDelta>& out) {
  if (bytes.empty()) return absl::OkStatus();
  Reader r(bytes);
  std::vector<absl::string_view> articles;
  char version = 0;
  RETURN_IF_ERROR(ReadArticles(r, kRaisesTag, kVersion, bytes, articles, &version));
  uint64_t n = 0;
  if (!r.Varint(n) || n > bytes.size()) return absl::DataLossError("delta pack: bad count");
  for (uint64_t i = 0; i < n; ++i) {
    BucketDelta d;
    uint64_t len = 0;
    absl::string_view sketch;
    if (!ReadKey(r, articles, d) || !r.Varint(len) || !r.Bytes(len, sketch)) {
      return absl::DataLossError("delta pack: bad raises");
    }
    ASSIGN_OR_RETURN(d.raises, Hll::Parse(sketch));
    out.push_back(std::move(d));
  }
  if (!r.done()) return absl::DataLossError("delta pack: trailing bytes");
  return absl::OkStatus();
}

}  // namespace newsgrid::trending
