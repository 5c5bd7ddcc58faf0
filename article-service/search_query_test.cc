#include "article-service/search_query.h"

#include "gtest/gtest.h"
#include "runtime/status.h"

namespace newsgrid::article {
namespace {

TEST(SearchQueryTest, WordsPrefixesPhrasesNegationAndOr) {
  EXPECT_EQ(*CompileSearchQuery("climate change"), "('climate') & ('change')");
  EXPECT_EQ(*CompileSearchQuery("elect*"), "('elect':*)");
  EXPECT_EQ(*CompileSearchQuery("\"prime minister\" -brexit"),
            "('prime' <-> 'minister') & !('brexit')");
  EXPECT_EQ(*CompileSearchQuery("china OR japan trade"), "(('china') | ('japan')) & ('trade')");
  EXPECT_EQ(*CompileSearchQuery("e-mail"), "('e' <-> 'mail')");
  EXPECT_EQ(*CompileSearchQuery("it's' & | ! :* <-> (x)"), "('it' <-> 's') & ('x')");
}

TEST(SearchQueryTest, Errors) {
  EXPECT_EQ(CompileSearchQuery("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileSearchQuery("-only").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileSearchQuery("&&& !!").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileSearchQuery(std::string(501, 'a')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(CompileSearchQuery("").status())[0].field, "query");
}

}  // namespace
}  // namespace newsgrid::article
