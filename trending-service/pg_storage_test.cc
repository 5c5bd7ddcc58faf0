// The parts of pg_storage.h that need no PostgreSQL: the seen_log encoding
// of the dedup marks (pg_storage_pg_test.cc has the rest).
#include "trending-service/pg_storage.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace newsgrid::trending {
namespace {

TEST(SeenMarksEncodingTest, RoundTripsAndRejectsPartialRecords) {
  const std::vector<SeenMark> marks = {{0, 0}, {~uint64_t{0}, -1}, {0x0123456789abcdef, 1'714'565'250'123'456'789}};
  const std::string bytes = EncodeSeenMarks(marks.data(), marks.size());
  EXPECT_EQ(bytes.size(), 48u);
  std::vector<SeenMark> back = {{9, 9}};  // decoding appends
  ASSERT_TRUE(DecodeSeenMarks(bytes, back).ok());
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(std::vector<SeenMark>(back.begin() + 1, back.end()), marks);
  EXPECT_EQ(DecodeSeenMarks(absl::string_view(bytes).substr(0, 20), back).code(),
            absl::StatusCode::kDataLoss);
}

// The layout is what other replicas and restarts read back: little-endian
// key, then little-endian Unix nanoseconds, 16 bytes a mark.
TEST(SeenMarksEncodingTest, LittleEndianKeyThenNanoseconds) {
  const SeenMark mark{0x0102030405060708, 0x1112131415161718};
  const std::string bytes = EncodeSeenMarks(&mark, 1);
  ASSERT_EQ(bytes.size(), 16u);
  EXPECT_EQ(bytes, std::string("\x08\x07\x06\x05\x04\x03\x02\x01"
                               "\x18\x17\x16\x15\x14\x13\x12\x11", 16));
  std::vector<SeenMark> back;
  ASSERT_TRUE(DecodeSeenMarks("", back).ok());
  EXPECT_TRUE(back.empty());
}

}  // namespace
}  // namespace newsgrid::trending
