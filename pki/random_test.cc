#include "pki/random.h"

#include <gtest/gtest.h>

namespace kubes::pki {
namespace {

TEST(RandomTest, BootstrapTokenIs64HexDigitsAndFresh) {
  Result<std::string> a = RandomHexToken();
  Result<std::string> b = RandomHexToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos) << *a;
  EXPECT_NE(*a, *b);
}

TEST(RandomTest, SizeIsBounded) {
  EXPECT_EQ(RandomHexToken(0).status().code(), Code::kInvalid);
  EXPECT_EQ(RandomHexToken(4097).status().code(), Code::kInvalid);
  Result<std::string> one = RandomHexToken(1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 2u);
}

}  // namespace
}  // namespace kubes::pki
