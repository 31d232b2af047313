#include "apimachinery/resource/quantity.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <limits>
#include <optional>
#include <vector>
#include <string>

namespace kubes::resource {
namespace {

using Json = nlohmann::json;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(QuantityTest, ValueAndMilliValueRoundUp) {
  struct Case {
    std::string in;
    std::optional<int64_t> value, milli;
  };
  std::vector<Case> cases = {
      {"1", 1, 1000},
      {"500m", 1, 500},
      {"0.1", 1, 100},
      {"1.5", 2, 1500},
      {"100m", 1, 100},
      {"0.0001", 1, 1},  // rounds up, as Quantity.MilliValue
      {"0", 0, 0},
      {"1Ki", 1024, 1024000},
      {"1Gi", 1073741824, 1073741824000},
      {"1.5Gi", 1610612736, 1610612736000},
      {"128974848", 128974848, 128974848000},
      {"129e6", 129000000, 129000000000},
      {"129M", 129000000, 129000000000},
      {"123Mi", 128974848, 128974848000},
      {"1e3", 1000, 1000000},
      {"1E3", 1000, 1000000},
      {"1E", 1000000000000000000, kMax},  // exa; its milli value does not fit
      {"2k", 2000, 2000000},
      {"5n", 1, 1},
      {"3u", 1, 1},
      {"+2", 2, 2000},
      {"-2", -2, -2000},
      {".5", 1, 500},
      {"5.", 5, 5000},
      {"16Ei", kMax, kMax},
      {"1e100000", kMax, kMax},
      {"1e-100000", 1, 1},
      {"0.000000000000000000000000000000000000000001", 1, 1},
      {"123456789012345678901234567890123456789012", kMax, kMax},
      {"", std::nullopt, std::nullopt},
      {"abc", std::nullopt, std::nullopt},
      {"1GB", std::nullopt, std::nullopt},
      {"1 Gi", std::nullopt, std::nullopt},
      {"1..2", std::nullopt, std::nullopt},
      {"1e", std::nullopt, std::nullopt},
      {"1e+", std::nullopt, std::nullopt},
      {".", std::nullopt, std::nullopt},
      {"m", std::nullopt, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(QuantityValue(std::string_view(c.in)), c.value);
    EXPECT_EQ(QuantityMilliValue(std::string_view(c.in)), c.milli);
  }
  // Inside objects: strings, or numbers leniently.
  EXPECT_EQ(QuantityMilliValue(Json("250m")), 250);
  EXPECT_EQ(QuantityMilliValue(Json(2)), 2000);
  EXPECT_EQ(QuantityMilliValue(Json(0.5)), 500);
  EXPECT_EQ(QuantityValue(Json::object()), 0);
  EXPECT_EQ(QuantityValue(Json("bad")), 0);
}

}  // namespace
}  // namespace kubes::resource
