#include "apiserver/crd/formats.h"

#include <gtest/gtest.h>

namespace kubes::crd {
namespace {

struct Case {
  const char* format;
  const char* value;
  bool valid;
};

TEST(FormatsTest, Table) {
  const Case cases[] = {
      {"date", "2024-02-29", true},
      {"date", "2023-02-29", false},
      {"date", "2024-13-01", false},
      {"date", "2024-1-01", false},
      {"date-time", "2017-09-05T05:20:07Z", true},
      {"date-time", "2017-09-05T05:20:07.123+02:00", true},
      {"datetime", "2017-09-05t05:20:07z", true},
      {"date-time", "2017-09-05T24:00:00Z", false},
      {"date-time", "2017-09-05 05:20:07Z", false},
      {"date-time", "2017-09-05T05:20:07", false},
      {"duration", "1h30m", true},
      {"duration", "1.5s", true},
      {"duration", "-2µs", true},
      {"duration", "0", true},
      {"duration", "3 days", true},
      {"duration", "h", false},
      {"duration", "99999999999h", true},
      {"duration", "99999999999999999999h", false},
      {"duration", "soon", false},
      {"byte", "aGVsbG8=", true},
      {"byte", "aGVsbG8", false},
      {"byte", "", false},
      {"uuid", "123e4567-e89b-12d3-a456-426614174000", true},
      {"uuid", "123E4567E89B12D3A456426614174000", true},
      {"uuid", "123e4567-e89b-12d3-a456", false},
      {"uuid4", "123e4567-e89b-42d3-a456-426614174000", true},
      {"uuid4", "123e4567-e89b-12d3-a456-426614174000", false},
      {"ipv4", "10.0.0.1", true},
      {"ipv4", "010.000.000.001", true},
      {"ipv4", "10.0.0.256", false},
      {"ipv4", "::ffff:10.0.0.1", true},
      {"ipv6", "fe80::1", true},
      {"ipv6", "10.0.0.1", false},
      {"cidr", "10.0.0.0/8", true},
      {"cidr", "fd00::/64", true},
      {"cidr", "10.0.0.0/33", false},
      {"cidr", "10.0.0.0", false},
      {"mac", "00:1a:2b:3c:4d:5e", true},
      {"mac", "00-1A-2B-3C-4D-5E", true},
      {"mac", "001a.2b3c.4d5e", true},
      {"mac", "00:1a:2b:3c:4d", false},
      {"hostname", "example.com", true},
      {"hostname", "localhost", true},
      {"hostname", "-bad.example.com", false},
      {"hostname", "a..b", false},
      {"email", "jane@example.com", true},
      {"email", "Jane Doe <jane@example.com>", true},
      {"email", "jane@", false},
      {"email", "jane.example.com", false},
      {"uri", "https://example.com/a?b=c", true},
      {"uri", "/just/a/path", true},
      {"uri", "mailto:jane@example.com", true},
      {"uri", "relative/path", false},
      {"uri", "http://exa mple.com/", false},
      {"uri", "http://example.com:80x/", false},
      {"hexcolor", "#fff", true},
      {"hexcolor", "#ffff", false},
      {"rgbcolor", "rgb(255, 0, 10)", true},
      {"rgbcolor", "rgb(256,0,0)", false},
      {"isbn10", "0-306-40615-2", true},
      {"isbn13", "978-0-306-40615-7", true},
      {"isbn", "0306406153", false},
      {"creditcard", "4111 1111 1111 1111", true},
      {"creditcard", "4111 1111 1111 1112", false},
      {"ssn", "123-45-6789", true},
      {"ssn", "123456789", false},
      {"bsonobjectid", "507f1f77bcf86cd799439011", true},
      {"bsonobjectid", "507f1f77", false},
      {"password", "anything", true},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(IsCheckedFormat(c.format)) << c.format;
    EXPECT_EQ(FormatValidates(c.format, c.value), c.valid) << c.format << " " << c.value;
  }
}

TEST(FormatsTest, UnsupportedFormatsAreNotChecked) {
  for (const char* f : {"int32", "int64", "float", "double", "", "my-format"}) EXPECT_FALSE(IsCheckedFormat(f)) << f;
}

}  // namespace
}  // namespace kubes::crd
