#include "runtime/auth.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace newsgrid {
namespace {

constexpr char kEditorToken[] = "editor-token-0123456789";
constexpr char kIngestToken[] = "ingest-token-0123456789";

std::string WriteTokens(const std::string& text) {
  static int n = 0;
  const std::string path = absl::StrCat(::testing::TempDir(), "/tokens-", getpid(), "-", n++);
  std::ofstream(path) << text;
  return path;
}

TEST(AuthTest, ParsesPrincipalsScopesAndComments) {
  auto entries = ParseTokenFile(absl::StrCat(
      "# newsroom tools\n", "cms articles:write,articles:read_drafts ", kEditorToken,
      "  # the CMS\n\n", "article-service views:write ", kIngestToken, "\n"));
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].principal, "cms");
  EXPECT_TRUE((*entries)[0].scopes.contains("articles:read_drafts"));
  EXPECT_EQ((*entries)[1].digest, DigestToken(kIngestToken));
}

TEST(AuthTest, MalformedLinesAndShortTokensAreRejectedWithTheLine) {
  auto bad = ParseTokenFile("cms articles:write\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1"), absl::string_view::npos);
  EXPECT_FALSE(ParseTokenFile("\ncms articles:write short\n").ok());
}

TEST(AuthTest, MissingUnknownAndUnderScopedTokens) {
  Authorizer auth(WriteTokens(absl::StrCat("cms articles:write ", kEditorToken, "\n")));
  ASSERT_TRUE(auth.enabled());
  EXPECT_EQ(auth.RequireToken("", kScopeArticlesWrite).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.RequireToken("nope-nope-nope-nope", kScopeArticlesWrite).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(auth.RequireToken(kEditorToken, kScopeArticlesWrite).ok());
  absl::Status denied = auth.RequireToken(kEditorToken, kScopeArticlesReadDrafts);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message().find(kEditorToken), absl::string_view::npos);  // never echoed
}

TEST(AuthTest, DisabledWithoutAFile) {
  Authorizer auth("");
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.RequireToken("", kScopeArticlesWrite).ok());
}

TEST(AuthTest, ReloadsWhenTheFileChanges) {
  const std::string path = WriteTokens(absl::StrCat("cms articles:write ", kEditorToken, "\n"));
  Authorizer auth(path, absl::ZeroDuration());
  EXPECT_EQ(auth.RequireToken(kIngestToken, kScopeViewsWrite).code(),
            absl::StatusCode::kUnauthenticated);
  absl::SleepFor(absl::Milliseconds(20));  // a distinct mtime
  std::ofstream(path) << "article-service views:write " << kIngestToken << "\n";
  EXPECT_TRUE(auth.RequireToken(kIngestToken, kScopeViewsWrite).ok());
  EXPECT_EQ(auth.RequireToken(kEditorToken, kScopeArticlesWrite).code(),
            absl::StatusCode::kUnauthenticated);  // rotated out
  // A broken file keeps the previous tokens.
  absl::SleepFor(absl::Milliseconds(20));
  std::ofstream(path) << "garbage\n";
  EXPECT_TRUE(auth.RequireToken(kIngestToken, kScopeViewsWrite).ok());
}

TEST(AuthTest, PeerTokenIsReadFromItsFile) {
  PeerToken none("");
  EXPECT_EQ(none.Get(), "");
  PeerToken token(WriteTokens(absl::StrCat(kIngestToken, "\n")));
  EXPECT_EQ(token.Get(), kIngestToken);
}

}  // namespace
}  // namespace newsgrid
