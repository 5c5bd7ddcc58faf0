#include "article-service/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace newsgrid::article {
namespace {

TEST(Utf8Test, Validity) {
  EXPECT_TRUE(IsValidUtf8("héllo 东京 \xef\xbf\xbd"));
  EXPECT_FALSE(IsValidUtf8("bad \xff byte"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_EQ(CodepointCount("héllo"), 5u);
}

}  // namespace
}  // namespace newsgrid::article
