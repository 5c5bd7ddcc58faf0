#include "article-service/article_domain.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

std::vector<std::string> ViolationFields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : GetFieldViolations(s)) out.push_back(v.field);
  return out;
}

Article Valid() {
  Article a;
  a.set_title("Élections: what changed");
  a.set_body("Some **words** here.");
  a.set_section(" World ");
  a.add_tags("China");
  a.add_tags(" china ");
  a.add_authors("Ada Lovelace");
  return a;
}

Article Stored() {
  Article a = PrepareNewArticle(Valid(), kNow)->article;
  a.set_name("articles/7");
  a.set_etag(ComputeEtag(7, 1));
  return a;
}

TEST(ArticleNameTest, ParsesAndRejects) {
  EXPECT_EQ(*ParseArticleName("articles/42", "name"), 42);
  EXPECT_EQ(ArticleName(42), "articles/42");
  for (const char* bad : {"", "articles/", "articles/x", "articles/-1", "posts/1", "articles/0"}) {
    absl::StatusOr<int64_t> id = ParseArticleName(bad, "name");
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(ViolationFields(id.status()), ElementsAre("name")) << bad;
  }
}

TEST(PrepareNewArticleTest, DerivesFieldsAndSlug) {
  absl::StatusOr<NewArticle> n = PrepareNewArticle(Valid(), kNow);
  ASSERT_TRUE(n.ok()) << n.status();
  const Article& a = n->article;
  EXPECT_TRUE(n->slug_derived);
  EXPECT_EQ(a.slug(), "elections-what-changed");
  EXPECT_EQ(a.section(), "world");
  EXPECT_THAT(a.tags(), ElementsAre("china"));
  EXPECT_EQ(a.plain_text(), "Some words here.");
  EXPECT_EQ(a.excerpt(), "Some words here.");
  EXPECT_EQ(a.word_count(), 3);
  EXPECT_EQ(a.reading_time().seconds(), 60);
  EXPECT_EQ(a.reading_time_text(), "1 min read");
  EXPECT_EQ(a.state(), Article::DRAFT);
  EXPECT_EQ(a.revision(), 1);
  EXPECT_EQ(a.body_format(), news::article::v1::MARKDOWN);
  EXPECT_EQ(FromProtoTime(a.create_time()), kNow);
  EXPECT_FALSE(a.has_publish_time());
}

TEST(PrepareNewArticleTest, IgnoresOutputOnlyFieldsAndKeepsCustomExcerpt) {
  Article in = Valid();
  in.set_state(Article::PUBLISHED);
  in.set_revision(99);
  in.set_slug("my-slug");
  in.set_custom_excerpt("Custom.");
  absl::StatusOr<NewArticle> n = PrepareNewArticle(in, kNow);
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->slug_derived);
  EXPECT_EQ(n->article.slug(), "my-slug");
  EXPECT_EQ(n->article.state(), Article::DRAFT);
  EXPECT_EQ(n->article.revision(), 1);
  EXPECT_EQ(n->article.excerpt(), "Custom.");
}

TEST(ValidationTest, EveryRuleNamesItsField) {
  Article a;
  a.set_slug("Bad Slug");
  a.set_subtitle(std::string(501, 's'));
  a.set_body(std::string((1 << 20) + 1, 'b'));
  a.set_custom_excerpt(std::string(501, 'e'));
  for (int i = 0; i < 21; ++i) a.add_authors("x");
  a.add_authors("");
  a.set_section(std::string(101, 's'));
  a.add_tags(std::string(65, 't'));
  a.mutable_feature_image()->set_url("ftp://example.com/a.png");
  a.mutable_feature_image()->set_alt(std::string(501, 'a'));
  a.set_body_format(static_cast<news::article::v1::BodyFormat>(9));
  absl::StatusOr<NewArticle> n = PrepareNewArticle(a, kNow);
  ASSERT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolationFields(n.status()),
              ElementsAre("article.title", "article.slug", "article.subtitle", "article.body",
                          "article.body_format", "article.custom_excerpt", "article.authors",
                          "article.authors[21]", "article.section", "article.tags[0]",
                          "article.feature_image.url", "article.feature_image.alt"));
}

TEST(ValidationTest, Utf8TitleLengthInCharactersAndTooManyTags) {
  Article a = Valid();
  std::string title;
  for (int i = 0; i < 300; ++i) title += "é";  // 600 bytes, 300 characters: fine
  a.set_title(title);
  EXPECT_TRUE(PrepareNewArticle(a, kNow).ok());
  a.set_title(title + "é");
  EXPECT_THAT(ViolationFields(PrepareNewArticle(a, kNow).status()), ElementsAre("article.title"));
  a.set_title("bad \xff");
  EXPECT_THAT(ViolationFields(PrepareNewArticle(a, kNow).status()), ElementsAre("article.title"));
  a.set_title("ok");
  for (int i = 0; i < 33; ++i) a.add_tags("t" + std::to_string(i));
  EXPECT_THAT(ViolationFields(PrepareNewArticle(a, kNow).status()), ElementsAre("article.tags"));
}

TEST(UpdateMaskTest, EmptyMaskMeansPopulatedFields) {
  Article patch;
  patch.set_title("New");
  patch.add_tags("x");
  patch.set_state(Article::PUBLISHED);  // output only: ignored
  absl::StatusOr<std::vector<std::string>> paths =
      ResolveUpdateMask(patch, google::protobuf::FieldMask());
  ASSERT_TRUE(paths.ok());
  EXPECT_THAT(*paths, ElementsAre("title", "tags"));
}

TEST(UpdateMaskTest, UnknownAndOutputOnlyPathsAreNamed) {
  google::protobuf::FieldMask mask;
  mask.add_paths("title");
  mask.add_paths("colour");
  mask.add_paths("state");
  absl::Status s = ResolveUpdateMask(Article(), mask).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolationFields(s), ElementsAre("update_mask.paths[1]", "update_mask.paths[2]"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("colour"));
}

TEST(UpdateMaskTest, StarMeansEveryEditableField) {
  google::protobuf::FieldMask mask;
  mask.add_paths("*");
  absl::StatusOr<std::vector<std::string>> paths = ResolveUpdateMask(Article(), mask);
  ASSERT_TRUE(paths.ok());
  EXPECT_EQ(paths->size(), 10u);
}

TEST(ApplyUpdateTest, ChangesMaskedFieldsBumpsRevisionKeepsPublishTime) {
  const Article current = ApplyPublish(Stored(), std::nullopt, kNow)->article;
  Article patch;
  patch.set_title("Other");
  patch.set_subtitle("ignored: not in the mask");
  const absl::Time later = kNow + absl::Minutes(5);
  absl::StatusOr<Change> c = ApplyUpdate(current, patch, {"title"}, later);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->noop);
  EXPECT_EQ(c->action, "update");
  EXPECT_THAT(c->changed_fields, ElementsAre("title"));
  EXPECT_EQ(c->article.title(), "Other");
  EXPECT_EQ(c->article.subtitle(), "");
  EXPECT_EQ(c->article.slug(), current.slug());  // slugs do not follow titles
  EXPECT_EQ(c->article.revision(), current.revision() + 1);
  EXPECT_EQ(FromProtoTime(c->article.update_time()), later);
  EXPECT_EQ(c->article.publish_time().seconds(), current.publish_time().seconds());
  EXPECT_EQ(c->article.state(), Article::PUBLISHED);
}

TEST(ApplyUpdateTest, SameValuesAreNoopAndInvalidResultIsRejected) {
  const Article current = Stored();
  Article patch;
  patch.set_title(current.title());
  absl::StatusOr<Change> same = ApplyUpdate(current, patch, {"title"}, kNow);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->noop);
  absl::StatusOr<Change> cleared = ApplyUpdate(current, Article(), {"title"}, kNow);
  EXPECT_THAT(ViolationFields(cleared.status()), ElementsAre("article.title"));
}

TEST(ApplyUpdateTest, BodyChangeRederivesText) {
  Article patch;
  patch.set_body("<p>Hello <b>there</b></p>");
  patch.set_body_format(news::article::v1::HTML);
  absl::StatusOr<Change> c = ApplyUpdate(Stored(), patch, {"body", "body_format"}, kNow);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->article.plain_text(), "Hello there");
  EXPECT_EQ(c->article.word_count(), 2);
  EXPECT_THAT(c->changed_fields, ElementsAre("body", "body_format"));
}

TEST(ApplyUpdateTest, DeletedArticleIsFailedPrecondition) {
  Article deleted = ApplyDelete(Stored(), kNow)->article;
  Article patch;
  patch.set_title("x");
  EXPECT_EQ(ApplyUpdate(deleted, patch, {"title"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(EtagTest, MismatchIsAborted) {
  const Article a = Stored();
  EXPECT_TRUE(CheckEtag(a, "").ok());
  EXPECT_TRUE(CheckEtag(a, a.etag()).ok());
  EXPECT_EQ(CheckEtag(a, ComputeEtag(7, 2)).code(), absl::StatusCode::kAborted);
  EXPECT_NE(ComputeEtag(7, 1), ComputeEtag(7, 2));
  EXPECT_NE(ComputeEtag(7, 1), ComputeEtag(8, 1));
}

TEST(StateMachineTest, PublishNowScheduleAndVisibility) {
  const Article draft = Stored();
  EXPECT_FALSE(IsLive(draft, kNow));
  absl::StatusOr<Change> now = ApplyPublish(draft, std::nullopt, kNow);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->action, "publish");
  EXPECT_EQ(now->article.state(), Article::PUBLISHED);
  EXPECT_TRUE(IsLive(now->article, kNow));
  // A past publish_time means now.
  absl::StatusOr<Change> past = ApplyPublish(draft, kNow - absl::Hours(1), kNow);
  EXPECT_EQ(FromProtoTime(past->article.publish_time()), kNow);

  const absl::Time at = kNow + absl::Hours(2);
  absl::StatusOr<Change> sched = ApplyPublish(draft, at, kNow);
  ASSERT_TRUE(sched.ok());
  EXPECT_EQ(sched->action, "schedule");
  EXPECT_EQ(sched->article.state(), Article::SCHEDULED);
  EXPECT_FALSE(IsLive(sched->article, kNow));
  EXPECT_TRUE(IsLive(sched->article, at));
  Article seen = sched->article;
  ApplyEffectiveState(&seen, at);
  EXPECT_EQ(seen.state(), Article::PUBLISHED);

  // Publishing a live article again changes nothing; scheduling it is refused.
  EXPECT_TRUE(ApplyPublish(now->article, std::nullopt, kNow)->noop);
  EXPECT_EQ(ApplyPublish(now->article, at, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A scheduled article can be published now or rescheduled.
  EXPECT_EQ(ApplyPublish(sched->article, std::nullopt, kNow)->article.state(), Article::PUBLISHED);
  EXPECT_EQ(ApplyPublish(sched->article, at + absl::Hours(1), kNow)->article.state(),
            Article::SCHEDULED);
}

TEST(StateMachineTest, UnpublishDeleteUndelete) {
  const Article published = ApplyPublish(Stored(), std::nullopt, kNow)->article;
  absl::StatusOr<Change> un = ApplyUnpublish(published, kNow);
  ASSERT_TRUE(un.ok());
  EXPECT_EQ(un->article.state(), Article::DRAFT);
  EXPECT_FALSE(un->article.has_publish_time());
  EXPECT_EQ(ApplyUnpublish(un->article, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<Change> del = ApplyDelete(published, kNow);
  ASSERT_TRUE(del.ok());
  EXPECT_TRUE(del->article.has_delete_time());
  EXPECT_EQ(del->article.state(), Article::PUBLISHED);  // deletion is orthogonal
  EXPECT_FALSE(IsLive(del->article, kNow));
  EXPECT_EQ(ApplyDelete(del->article, kNow).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyPublish(del->article, std::nullopt, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyUnpublish(del->article, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<Change> undel = ApplyUndelete(del->article, kNow);
  ASSERT_TRUE(undel.ok());
  EXPECT_TRUE(IsLive(undel->article, kNow));
  EXPECT_EQ(ApplyUndelete(undel->article, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace newsgrid::article
