#include "article-service/read_mask.h"

#include <string>
#include <vector>

#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "news/article/v1/article_service.pb.h"
#include "runtime/status.h"

namespace newsgrid::article {
namespace {

namespace pb = ::news::article::v1;
using google::protobuf::FieldMask;
using google::protobuf::util::FieldMaskUtil;
using google::protobuf::util::MessageDifferencer;

FieldMask Mask(std::vector<std::string> paths) {
  FieldMask m;
  for (std::string& p : paths) m.add_paths(std::move(p));
  return m;
}

std::vector<std::string> BadFields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : GetFieldViolations(s)) out.push_back(v.field);
  return out;
}

// Every kind of field: strings, repeated strings, enums, a message, a
// timestamp, a duration, integers.
pb::Article Full() {
  pb::Article a;
  a.set_name("articles/42");
  a.set_slug("storm-hits-coast");
  a.set_title("Storm hits coast");
  a.set_subtitle("Thousands without power");
  a.set_body(std::string(5000, 'b'));
  a.set_body_html("<p>" + std::string(5000, 'h') + "</p>");
  a.set_plain_text(std::string(5000, 'p'));
  a.set_excerpt("The storm reached the coast at dawn.");
  a.add_authors("Ada");
  a.add_authors("Grace");
  a.set_section("climate");
  a.add_tags("storm");
  a.add_tags("coast");
  a.mutable_feature_image()->set_url("https://img.example/s.jpg");
  a.mutable_feature_image()->set_alt("Waves");
  a.set_state(pb::Article::PUBLISHED);
  a.mutable_publish_time()->set_seconds(1700000000);
  a.mutable_reading_time()->set_seconds(240);
  a.set_reading_time_text("4 min read");
  a.set_word_count(900);
  a.set_revision(3);
  a.set_etag("\"3\"");
  return a;
}

TEST(ReadMaskTest, EmptyOrStarIsEverything) {
  for (const FieldMask& m : {Mask({}), Mask({"*"})}) {
    absl::StatusOr<ReadMask> mask = ReadMask::FromProto(m);
    ASSERT_TRUE(mask.ok());
    EXPECT_TRUE(mask->all());
    EXPECT_EQ(mask->Filter(Full().SerializeAsString()), Full().SerializeAsString());
  }
}

TEST(ReadMaskTest, KeepsTheNamedFieldsAndTheName) {
  absl::StatusOr<ReadMask> mask = ReadMask::FromProto(
      Mask({"title", "excerpt", "tags", "feature_image", "publish_time", "reading_time_text",
            "word_count", "state"}));
  ASSERT_TRUE(mask.ok());
  EXPECT_FALSE(mask->all());
  pb::Article got;
  ASSERT_TRUE(got.ParseFromString(mask->Filter(Full().SerializeAsString())));
  // What protobuf's own FieldMaskUtil keeps of the same article, plus name.
  pb::Article want;
  FieldMaskUtil::TrimMessage(Mask({"name", "title", "excerpt", "tags", "feature_image",
                                   "publish_time", "reading_time_text", "word_count", "state"}),
                             &(want = Full()));
  EXPECT_TRUE(MessageDifferencer::Equals(got, want)) << got.DebugString();
  EXPECT_EQ(got.name(), "articles/42");
  EXPECT_EQ(got.tags_size(), 2);
  EXPECT_EQ(got.feature_image().alt(), "Waves");
  EXPECT_TRUE(got.body().empty());
  EXPECT_TRUE(got.body_html().empty());
  EXPECT_LT(got.ByteSizeLong(), 300u);
}

TEST(ReadMaskTest, OnlyTopLevelArticleFields) {
  absl::StatusOr<ReadMask> mask =
      ReadMask::FromProto(Mask({"title", "bogus", "feature_image.url", "*", "Title"}));
  EXPECT_EQ(mask.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BadFields(mask.status()),
            (std::vector<std::string>{"read_mask.paths[1]", "read_mask.paths[2]",
                                      "read_mask.paths[3]", "read_mask.paths[4]"}));
}

TEST(ReadMaskTest, StopsAtBytesThatAreNotFields) {
  absl::StatusOr<ReadMask> mask = ReadMask::FromProto(Mask({"title"}));
  ASSERT_TRUE(mask.ok());
  std::string bytes = Full().SerializeAsString();
  // A length that runs past the end: nothing after it is read.
  bytes += std::string("\x22\x7f", 2);
  pb::Article got;
  ASSERT_TRUE(got.ParseFromString(mask->Filter(bytes)));
  EXPECT_EQ(got.title(), "Storm hits coast");
}

}  // namespace
}  // namespace newsgrid::article
