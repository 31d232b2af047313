#include "pki/base64.h"

#include <gtest/gtest.h>

namespace kubes::pki {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  struct Case {
    std::string data, std, url;
  };
  const Case cases[] = {
      {"", "", ""},
      {"f", "Zg==", "Zg"},
      {"fo", "Zm8=", "Zm8"},
      {"foo", "Zm9v", "Zm9v"},
      {"foob", "Zm9vYg==", "Zm9vYg"},
      {"fooba", "Zm9vYmE=", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
      {std::string("\xfb\xff\xfe", 3), "+//+", "-__-"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Base64Encode(c.data), c.std) << c.data;
    EXPECT_EQ(Base64UrlEncode(c.data), c.url) << c.data;
    EXPECT_EQ(Base64Decode(c.std), c.data) << c.std;
    EXPECT_EQ(Base64UrlDecode(c.url), c.data) << c.url;
  }
}

TEST(Base64Test, DecodeRejectsNonCanonicalText) {
  const char* bad_std[] = {"Zg", "Zg=", "Zh==", "Z===", "====", "Zm9v!A==", "-__-", "Zg==Zg=="};
  for (const char* text : bad_std) EXPECT_FALSE(Base64Decode(text).has_value()) << text;
  const char* bad_url[] = {"Zg==", "Z", "Zh", "Zm9", "+//+", "Zm9v.", "Zm 9v"};
  for (const char* text : bad_url) EXPECT_FALSE(Base64UrlDecode(text).has_value()) << text;
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm\0v", 4)).has_value());
}

}  // namespace
}  // namespace kubes::pki
