#include "article-service/response_wire.h"

#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace newsgrid::article {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

// The response as pieces: small bytes written here (tags, lengths, short
// fields) and shared article slices, in order. The small bytes all go into
// one buffer that becomes one slice; the pieces reference parts of it.
class WireBuilder {
 public:
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      head_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    head_.push_back(static_cast<char>(v));
  }
  void Tag(uint32_t field, WireType type) { Varint((field << 3) | type); }
  void Bytes(uint32_t field, const std::string& s) {
    if (s.empty()) return;  // proto3: a default value is not written
    Tag(field, kLengthDelimited);
    Varint(s.size());
    head_.append(s);
  }
  void Double(uint32_t field, double d) {
    if (d == 0) return;
    Tag(field, kFixed64);
    char b[8];
    std::memcpy(b, &d, 8);  // little-endian, as the wire format
    head_.append(b, 8);
  }
  void Int32(uint32_t field, int32_t v) {
    if (v == 0) return;
    Tag(field, kVarint);
    Varint(static_cast<uint64_t>(static_cast<int64_t>(v)));  // negative: 10 bytes
  }
  // A shared article as the value of a length-delimited field.
  void Article(uint32_t field, const ArticleRef& a) {
    Tag(field, kLengthDelimited);
    Varint(a->serialized().size());
    Shared(a->serialized());
  }
  // An article cut down to a read mask's fields (written, not shared).
  void Article(uint32_t field, const std::string& filtered) {
    Tag(field, kLengthDelimited);
    Varint(filtered.size());
    head_.append(filtered);
  }
  void Shared(const grpc::Slice& slice) {
    Cut();
    pieces_.push_back({0, 0, &slice});
  }

  grpc::ByteBuffer Finish() {
    Cut();
    const grpc::Slice head(head_);
    std::vector<grpc::Slice> slices;
    slices.reserve(pieces_.size());
    for (const Piece& p : pieces_) {
      if (p.shared != nullptr) {
        slices.push_back(*p.shared);
      } else {
        slices.push_back(head.sub(p.begin, p.end));
      }
    }
    return grpc::ByteBuffer(slices.data(), slices.size());
  }

 private:
  struct Piece {
    size_t begin, end;          // part of head_, or
    const grpc::Slice* shared;  // a shared slice (alive until Finish)
  };
  // Ends the current run of small bytes.
  void Cut() {
    if (head_.size() > cut_) pieces_.push_back({cut_, head_.size(), nullptr});
    cut_ = head_.size();
  }

  std::string head_;
  size_t cut_ = 0;
  std::vector<Piece> pieces_;
};

absl::string_view Bytes(const ArticleRef& a) {
  return absl::string_view(reinterpret_cast<const char*>(a->serialized().begin()),
                           a->serialized().size());
}

// Length of a varint.
size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

grpc::ByteBuffer ArticleResponse(const ArticleRef& article) {
  grpc::Slice bytes = article->serialized();
  return grpc::ByteBuffer(&bytes, 1);
}

grpc::ByteBuffer ListResponse(const ArticlePage& page) {
  // ListArticlesResponse: 1 articles, 2 next_page_token, 3 total_size.
  WireBuilder w;
  for (const ArticleRef& a : page.articles) {
    if (page.mask.all()) {
      w.Article(1, a);
    } else {
      w.Article(1, page.mask.Filter(Bytes(a)));
    }
  }
  w.Bytes(2, page.next_page_token);
  if (page.total_size) w.Int32(3, *page.total_size);
  return w.Finish();
}

grpc::ByteBuffer SearchResponse(const SearchResultsPage& page) {
  // SearchArticlesResponse: 1 results, 2 next_page_token, 3 total_size;
  // SearchResult: 1 article, 2 score, 3 snippet.
  WireBuilder w;
  for (const SearchResultRef& r : page.results) {
    std::string filtered;
    if (!page.mask.all()) filtered = page.mask.Filter(Bytes(r.article));
    const size_t article = page.mask.all() ? r.article->serialized().size() : filtered.size();
    size_t size = 1 + VarintSize(article) + article;
    if (r.score != 0) size += 1 + 8;
    if (!r.snippet.empty()) size += 1 + VarintSize(r.snippet.size()) + r.snippet.size();
    w.Tag(1, kLengthDelimited);
    w.Varint(size);
    if (page.mask.all()) {
      w.Article(1, r.article);
    } else {
      w.Article(1, filtered);
    }
    w.Double(2, r.score);
    w.Bytes(3, r.snippet);
  }
  w.Bytes(2, page.next_page_token);
  if (page.total_size) w.Int32(3, *page.total_size);
  return w.Finish();
}

}  // namespace newsgrid::article
