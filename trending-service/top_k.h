// Top-K selection for the rankings: the best `k` (score, article) pairs of a
// scan over every article, kept in a bounded heap (O(n log k), k <= 100),
// with the one order every replica applies: higher score first, ties by
// article id. ViewStore::Trending scans its shards and feeds this engine;
// nothing here knows about buckets, locks or time.
//
//   TopK top(10);
//   for (...) top.Push(static_cast<double>(views), article_id);
//   std::vector<RankCandidate> best = std::move(top).Sorted();  // best first
//   absl::flat_hash_map<std::string, int> rank = RanksByArticle(best);
//
// Scores that are only bounded cheaply (unique visitors never exceed views)
// go through PushWhileCanRank, which computes the costly score of as few
// candidates as the bound allows.
#ifndef NEWSGRID_TRENDING_SERVICE_TOP_K_H_
#define NEWSGRID_TRENDING_SERVICE_TOP_K_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace newsgrid::trending {

struct RankCandidate {
  double score;
  std::string article;  // {article} id
  // Better first: higher score, then the smaller id (replicas break ties
  // identically).
  bool operator<(const RankCandidate& o) const {
    return score != o.score ? score > o.score : article < o.article;
  }
};

// HOT keys are rounded (relative 7e-7) so that float noise from the order
// in which deltas arrived cannot reorder equal scores: replicas then break
// such ties identically, by name.
inline double HotRankKey(double hot_log) { return std::round(hot_log * 1e6) / 1e6; }

// The best k seen so far, as a heap with the worst on top. Push is inline:
// it runs once per article per ranking scan (a call per article showed in
// the 100k-article micro-benchmark).
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}

  void Push(double score, const std::string& article) {
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push_back(RankCandidate{score, article});
      std::push_heap(heap_.begin(), heap_.end());
      return;
    }
    // Compare before copying the id: most articles do not make the cut.
    const RankCandidate& worst = heap_.front();
    if (score < worst.score || (score == worst.score && !(article < worst.article))) return;
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.back() = RankCandidate{score, article};
    std::push_heap(heap_.begin(), heap_.end());
  }
  size_t k() const { return k_; }
  bool full() const { return heap_.size() == k_; }
  // The score of the k-th best; only while !empty().
  double worst() const { return heap_.front().score; }
  bool empty() const { return heap_.empty(); }
  // Best first.
  std::vector<RankCandidate> Sorted() && {
    std::sort(heap_.begin(), heap_.end());
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<RankCandidate> heap_;  // a max-heap by operator<: the worst on top
};

// A candidate whose score is at most `bound` (e.g. its views, for its
// unique visitors); `ref` locates it for the scorer.
template <typename Ref>
struct BoundedCandidate {
  double bound;
  std::string article;  // {article} id
  Ref ref;
};

// Pushes candidates best bound first, calling `score(candidate)` (returning
// std::optional<double>; nullopt when the candidate is gone) only while it
// can still rank: once the top is full and its worst score beats the next
// bound, no later candidate can enter. Returns how many were scored.
template <typename Ref, typename Score>
size_t PushWhileCanRank(std::vector<BoundedCandidate<Ref>>& candidates, TopK& top, Score&& score) {
  std::sort(candidates.begin(), candidates.end(),
            [](const BoundedCandidate<Ref>& x, const BoundedCandidate<Ref>& y) {
              return x.bound > y.bound;
            });
  size_t scored = 0;
  for (const BoundedCandidate<Ref>& c : candidates) {
    if (top.full() && top.worst() > c.bound) break;
    const std::optional<double> s = score(c);
    ++scored;
    if (s) top.Push(*s, c.article);
  }
  return scored;
}

// 1-based rank of each article of a Sorted() ranking.
absl::flat_hash_map<std::string, int> RanksByArticle(const std::vector<RankCandidate>& sorted);

}  // namespace newsgrid::trending

#endif  // NEWSGRID_TRENDING_SERVICE_TOP_K_H_
