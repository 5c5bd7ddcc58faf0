#include "article-service/page_token.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "runtime/status.h"

namespace newsgrid::article {
namespace {

TEST(PageTokenTest, RoundTrips) {
  PageTokenCodec codec("secret");
  const std::string fp = QueryFingerprint({"list", "section = world", "title"});
  const std::string token = codec.Encode(fp, {.key = "a|b:c", .id = 42, .offset = 7});
  absl::StatusOr<PageCursor> c = codec.Decode(fp, token);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->key, "a|b:c");
  EXPECT_EQ(c->id, 42);
  EXPECT_EQ(c->offset, 7);
}

TEST(PageTokenTest, OtherQueryOrSecretIsRejected) {
  PageTokenCodec codec("secret");
  const std::string token = codec.Encode(QueryFingerprint({"list", "a"}), {.key = "k", .id = 1});
  for (const std::string& fp : {QueryFingerprint({"list", "b"}), QueryFingerprint({"lista", ""}),
                                QueryFingerprint({"search", "a"})}) {
    absl::StatusOr<PageCursor> c = codec.Decode(fp, token);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    ASSERT_EQ(GetFieldViolations(c.status()).size(), 1u);
    EXPECT_EQ(GetFieldViolations(c.status())[0].field, "page_token");
  }
  EXPECT_FALSE(PageTokenCodec("other").Decode(QueryFingerprint({"list", "a"}), token).ok());
}

TEST(PageTokenTest, TamperingAndGarbageAreRejected) {
  PageTokenCodec codec("secret");
  const std::string fp = QueryFingerprint({"list"});
  const std::string token = codec.Encode(fp, {.key = "k", .id = 1});
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  raw.back() = raw.back() == '9' ? '8' : '9';  // move the cursor
  EXPECT_FALSE(codec.Decode(fp, absl::WebSafeBase64Escape(raw)).ok());
  EXPECT_FALSE(codec.Decode(fp, "not a token!").ok());
  EXPECT_FALSE(codec.Decode(fp, "").ok());
  EXPECT_FALSE(codec.Decode(fp, "abcd").ok());
  EXPECT_FALSE(codec.Decode(fp, std::string(5000, 'a')).ok());
}

}  // namespace
}  // namespace newsgrid::article
