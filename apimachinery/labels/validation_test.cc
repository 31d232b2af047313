#include "apimachinery/labels/validation.h"

#include <gtest/gtest.h>

#include "apimachinery/gostrings.h"

namespace kubes::labels {
namespace {

TEST(ValidationTest, QualifiedNames) {
  const std::pair<std::string, bool> cases[] = {
      {"a", true},
      {"A", true},
      {"app.kubernetes.io/name", true},
      {"k8s.io/My_Name-1.x", true},
      {"1-2", true},
      {std::string(63, 'a'), true},
      {std::string(253, 'a') + "/a", true},
      {"", false},
      {"-a", false},
      {"a_", false},
      {"a b", false},
      {std::string(64, 'a'), false},
      {std::string(254, 'a') + "/a", false},
      {"/a", false},
      {"a/", false},
      {"a/b/c", false},
      {"Upper.com/a", false},
      {"a..b/c", false},
      {"-a.com/b", false},
  };
  for (const auto& [name, valid] : cases) {
    EXPECT_EQ(IsQualifiedName(name).empty(), valid) << name;
  }
}

TEST(ValidationTest, LabelValues) {
  const std::pair<std::string, bool> cases[] = {
      {"", true}, {"a", true}, {"My_Value-1.2", true}, {std::string(63, 'z'), true},
      {"-a", false}, {"a.", false}, {"a/b", false}, {"é", false}, {std::string(64, 'z'), false},
  };
  for (const auto& [value, valid] : cases) {
    EXPECT_EQ(IsValidLabelValue(value).empty(), valid) << value;
  }
  // Too long and badly formed: both problems are reported.
  EXPECT_EQ(IsValidLabelValue(std::string(64, 'z') + "-").size(), 2u);
}

TEST(ValidationTest, DNS1123Subdomains) {
  const std::pair<std::string, bool> cases[] = {
      {"example.com", true}, {"a", true}, {"a-b.c-d", true}, {"0.1.2", true},
      {"", false}, {"A.com", false}, {"a..b", false}, {".a", false}, {"a.", false}, {"a-.b", false},
      {"a_b", false},
  };
  for (const auto& [value, valid] : cases) {
    EXPECT_EQ(IsDNS1123Subdomain(value).empty(), valid) << value;
  }
}

TEST(GoStringsTest, QuoteMatchesStrconvQuote) {
  const std::pair<std::string, std::string> cases[] = {
      {"", R"("")"},
      {"abc", R"("abc")"},
      {"a\"b\\c", R"("a\"b\\c")"},
      {"\n\t\r\a\b\f\v", R"("\n\t\r\a\b\f\v")"},
      {std::string("\0\x01\x7f", 3), R"("\x00\x01\x7f")"},
      {"\xff", R"("\xff")"},
      {"\xc3", R"("\xc3")"},              // truncated sequence
      {"\xc0\xaf", R"("\xc0\xaf")"},      // overlong
      {"\xed\xa0\x80", R"("\xed\xa0\x80")"},  // surrogate
      {"h\xc3\xa9", "\"h\xc3\xa9\""},     // é prints as itself
      {"\xc2\x85", R"("\u0085")"},        // C1 control
      {"\xef\xbf\xbd", "\"\xef\xbf\xbd\""},  // a real U+FFFD prints as itself
      {"\xf3\xa0\x80\x81", R"("\U000e0001")"},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(gostrings::Quote(in), out);
  }
}

TEST(GoStringsTest, DecodeRune) {
  EXPECT_EQ(gostrings::DecodeRune("").size, 0u);
  EXPECT_EQ(gostrings::DecodeRune("a").rune, U'a');
  EXPECT_EQ(gostrings::DecodeRune("\xe2\x82\xac").rune, U'\u20ac');
  EXPECT_EQ(gostrings::DecodeRune("\xe2\x82\xac").size, 3u);
  EXPECT_EQ(gostrings::DecodeRune("\xf0\x9f\x98\x80").rune, U'\U0001F600');
  EXPECT_EQ(gostrings::DecodeRune("\xf4\x90\x80\x80").size, 1u);  // past U+10FFFF
  std::string encoded;
  gostrings::AppendRune(encoded, U'\U0001F600');
  EXPECT_EQ(encoded, "\xf0\x9f\x98\x80");
}

}  // namespace
}  // namespace kubes::labels
