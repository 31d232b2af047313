#include "apiserver/crd/defaulting.h"

#include <gtest/gtest.h>

#include "apiserver/crd/pruning.h"

namespace kubes::crd {
namespace {

struct Case {
  const char* name;
  const char* schema;
  const char* in;
  const char* want;
};

constexpr const char* kCronTab = R"({"type":"object","properties":{"spec":{"type":"object","properties":{
    "cronSpec":{"type":"string","pattern":"^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$","default":"5 0 * * *"},
    "image":{"type":"string"},
    "replicas":{"type":"integer","minimum":1,"maximum":10,"default":1}}}}})";

TEST(ApplyDefaultsTest, Table) {
  const Case cases[] = {
      {"docs: cronSpec and replicas are defaulted", kCronTab,
       R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"my-new-cron-object"},
           "spec":{"image":"my-awesome-cron-image"}})",
       R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"my-new-cron-object"},
           "spec":{"cronSpec":"5 0 * * *","image":"my-awesome-cron-image","replicas":1}})"},
      {"set values are kept", kCronTab, R"({"spec":{"cronSpec":"* * * * *","replicas":3}})",
       R"({"spec":{"cronSpec":"* * * * *","replicas":3}})"},
      {"a missing object is not created", kCronTab, R"({"metadata":{"name":"x"}})", R"({"metadata":{"name":"x"}})"},
      {"a non-nullable null takes the default", kCronTab, R"({"spec":{"replicas":null}})",
       R"({"spec":{"cronSpec":"5 0 * * *","replicas":1}})"},
      {"a nullable null stays",
       R"({"type":"object","properties":{"a":{"type":"string","nullable":true,"default":"x"}}})", R"({"a":null})",
       R"({"a":null})"},
      {"a defaulted object gets its own defaults",
       R"({"type":"object","properties":{"spec":{"type":"object","default":{},"properties":{"replicas":{"type":"integer","default":1}}}}})",
       R"({})", R"({"spec":{"replicas":1}})"},
      {"list items are defaulted, null items replaced",
       R"({"type":"object","properties":{"l":{"type":"array","items":{"type":"object","default":{"n":"d"},
            "properties":{"n":{"type":"string"},"p":{"type":"integer","default":80}}}}}})",
       R"({"l":[{"n":"a"},null]})", R"({"l":[{"n":"a","p":80},{"n":"d","p":80}]})"},
      {"map values are defaulted",
       R"({"type":"object","properties":{"m":{"type":"object","additionalProperties":{"type":"object",
            "properties":{"p":{"type":"integer","default":80}}}}}})",
       R"({"m":{"a":{},"b":null}})", R"({"m":{"a":{"p":80},"b":null}})"},
      {"default: null is no default", R"({"type":"object","properties":{"a":{"type":"string","default":null}}})",
       R"({})", R"({})"},
  };
  for (const auto& c : cases) {
    Json obj = Json::parse(c.in);
    ApplyDefaults(obj, Json::parse(c.schema));
    EXPECT_EQ(obj, Json::parse(c.want)) << c.name;
  }
}

TEST(ApplyDefaultsTest, DocsDefaultingAndNullable) {
  // Upstream prunes non-nullable nulls first, then defaults.
  const Json schema = Json::parse(R"({"type":"object","properties":{"spec":{"type":"object","properties":{
      "foo":{"type":"string","nullable":false,"default":"default"},
      "bar":{"type":"string","nullable":true},
      "baz":{"type":"string"}}}}})");
  Json obj = Json::parse(R"({"spec":{"foo":null,"bar":null,"baz":null}})");
  PruneNonNullableNullsWithoutDefaults(obj, &schema);
  ApplyDefaults(obj, schema);
  EXPECT_EQ(obj, Json::parse(R"({"spec":{"foo":"default","bar":null}})"));
}

TEST(ValidateDefaultsTest, CronTabDefaultsAreValid) {
  EXPECT_TRUE(ValidateDefaults(Json::parse(kCronTab), validation::Path()).empty());
}

TEST(ValidateDefaultsTest, EmbeddedKindMustBeAString) {
  const Json schema =
      Json::parse(R"({"type":"object","properties":{"t":{"type":"object","x-kubernetes-embedded-resource":true,
      "x-kubernetes-preserve-unknown-fields":true,"default":{"kind":5}}}})");
  auto errs = ValidateDefaults(schema, validation::Path());
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].ToString(), "properties[t].default.kind: Invalid value: 5: must be a string");
}

}  // namespace
}  // namespace kubes::crd
