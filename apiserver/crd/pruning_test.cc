#include "apiserver/crd/pruning.h"

#include <gtest/gtest.h>

namespace kubes::crd {
namespace {

struct Case {
  const char* name;
  const char* schema;
  const char* in;
  const char* want;
  std::vector<std::string> pruned;
};

TEST(PruneTest, Table) {
  const char* kCronTab =
      R"({"type":"object","properties":{"spec":{"type":"object","properties":{
           "cronSpec":{"type":"string"},"image":{"type":"string"},"replicas":{"type":"integer"}}}}})";
  const Case cases[] = {
      {"docs: someRandomField is pruned, apiVersion/kind/metadata stay",
       kCronTab,
       R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"my-new-cron-object"},
           "spec":{"cronSpec":"* * * * */5","image":"my-awesome-cron-image","someRandomField":42}})",
       R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"my-new-cron-object"},
           "spec":{"cronSpec":"* * * * */5","image":"my-awesome-cron-image"}})",
       {"spec.someRandomField"}},
      {"docs: preserve-unknown-fields keeps unknown fields but prunes specified ones",
       R"({"type":"object","properties":{"json":{"x-kubernetes-preserve-unknown-fields":true,"type":"object",
            "properties":{"spec":{"type":"object","properties":{"foo":{"type":"string"},"bar":{"type":"string"}}}}}}})",
       R"({"json":{"spec":{"foo":"abc","bar":"def","something":"x"},"status":{"something":"x"}}})",
       R"({"json":{"spec":{"foo":"abc","bar":"def"},"status":{"something":"x"}}})",
       {"json.spec.something"}},
      {"docs: preserve-unknown-fields without a type keeps anything",
       R"({"type":"object","properties":{"json":{"x-kubernetes-preserve-unknown-fields":true}}})",
       R"({"json":{"a":[1,{"b":2}],"c":null}})",
       R"({"json":{"a":[1,{"b":2}],"c":null}})",
       {}},
      {"unknown top-level fields and nested ones, paths sorted",
       kCronTab,
       R"({"zzz":1,"spec":{"x":{"y":1},"image":"i"},"aaa":2})",
       R"({"spec":{"image":"i"}})",
       {"aaa", "spec.x", "zzz"}},
      {"list items are pruned by the items schema",
       R"({"type":"object","properties":{"l":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}}}})",
       R"({"l":[{"name":"a","extra":1},{"name":"b"},{"extra":2}]})",
       R"({"l":[{"name":"a"},{"name":"b"},{}]})",
       {"l[0].extra", "l[2].extra"}},
      {"additionalProperties values are pruned by their schema",
       R"({"type":"object","properties":{"m":{"type":"object","additionalProperties":{"type":"object","properties":{"v":{"type":"string"}}}}}})",
       R"({"m":{"a":{"v":"x","w":"y"},"b":{}}})",
       R"({"m":{"a":{"v":"x"},"b":{}}})",
       {"m.a.w"}},
      {"additionalProperties: true keeps keys but prunes inside objects",
       R"({"type":"object","properties":{"m":{"type":"object","additionalProperties":true}}})",
       R"({"m":{"a":{"x":1},"b":2}})",
       R"({"m":{"a":{},"b":2}})",
       {"m.a.x"}},
      {"an object without properties loses every field",
       R"({"type":"object","properties":{"spec":{"type":"object"}}})",
       R"({"spec":{"a":1,"b":{"c":2}}})",
       R"({"spec":{}})",
       {"spec.a", "spec.b"}},
      {"embedded resources keep apiVersion, kind and metadata",
       R"({"type":"object","properties":{"template":{"type":"object","x-kubernetes-embedded-resource":true,
            "properties":{"spec":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}}})",
       R"({"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"replicas":1,"x":1},"other":1}})",
       R"({"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"replicas":1}}})",
       {"template.other", "template.spec.x"}},
      {"metadata below the root is an ordinary field",
       kCronTab,
       R"({"spec":{"metadata":{"a":1}}})",
       R"({"spec":{}})",
       {"spec.metadata"}},
      {"scalars where objects are expected are left alone", kCronTab, R"({"spec":"text"})", R"({"spec":"text"})", {}},
  };
  for (const auto& c : cases) {
    Json obj = Json::parse(c.in);
    EXPECT_EQ(Prune(obj, Json::parse(c.schema)), c.pruned) << c.name;
    EXPECT_EQ(obj, Json::parse(c.want)) << c.name;
  }
}

TEST(PruneTest, NotResourceRootDropsStrayMetaFieldsSilently) {
  Json obj = Json::parse(R"({"kind":"x","a":1})");
  const Json schema = Json::parse(R"({"type":"object","properties":{"a":{"type":"integer"}}})");
  EXPECT_TRUE(PruneWithOptions(obj, &schema, false).empty());
  EXPECT_EQ(obj, Json::parse(R"({"a":1})"));
}

TEST(PruneTest, NullSchemaPrunesEverything) {
  Json obj = Json::parse(R"({"apiVersion":"v1","a":{"b":1}})");
  EXPECT_EQ(PruneWithOptions(obj, nullptr, true), std::vector<std::string>{"a"});
  EXPECT_EQ(obj, Json::parse(R"({"apiVersion":"v1"})"));
}

TEST(PruneNonNullableNullsTest, DocsDefaultingAndNullableExample) {
  const Json schema = Json::parse(R"({"type":"object","properties":{"spec":{"type":"object","properties":{
      "foo":{"type":"string","nullable":false,"default":"default"},
      "bar":{"type":"string","nullable":true},
      "baz":{"type":"string"}}}}})");
  Json obj = Json::parse(R"({"spec":{"foo":null,"bar":null,"baz":null}})");
  PruneNonNullableNullsWithoutDefaults(obj, &schema);
  // foo waits for its default, bar may be null, baz goes.
  EXPECT_EQ(obj, Json::parse(R"({"spec":{"foo":null,"bar":null}})"));
}

TEST(PruneNonNullableNullsTest, ListsAndMaps) {
  const Json schema = Json::parse(R"({"type":"object","properties":{
      "l":{"type":"array","items":{"type":"object","properties":{"a":{"type":"string"}}}},
      "m":{"type":"object","additionalProperties":{"type":"string"}},
      "free":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}})");
  Json obj = Json::parse(R"({"l":[{"a":null},null],"m":{"k":null},"free":{"x":null}})");
  PruneNonNullableNullsWithoutDefaults(obj, &schema);
  EXPECT_EQ(obj, Json::parse(R"({"l":[{},null],"m":{},"free":{"x":null}})"));
}

}  // namespace
}  // namespace kubes::crd
