#include "apiserver/fieldmanager/typed.h"

#include <gtest/gtest.h>

#include "apiserver/fieldmanager/test_schema.h"

namespace kubes::apiserver::fieldmanager {
namespace {

using testing::V1;
using testing::Widget;

Type WidgetType() { return Type::Object(Widget()); }

TEST(ToFieldSetTest, Table) {
  struct Case {
    std::string name, object, fields;
    bool untyped = false;
  };
  std::vector<Case> cases = {
      {"scalar", R"({"spec":{"replicas":3}})", R"({"f:spec":{"f:replicas":{}}})"},
      {"granular map keys", R"({"metadata":{"labels":{"app":"x"}}})", R"({"f:metadata":{"f:labels":{"f:app":{}}}})"},
      {"empty map is a member", R"({"metadata":{"labels":{}}})", R"({"f:metadata":{"f:labels":{}}})"},
      {"null is a member", R"({"spec":{"replicas":null}})", R"({"f:spec":{"f:replicas":{}}})"},
      {"atomic map", R"({"spec":{"selector":{"a":"b"}}})", R"({"f:spec":{"f:selector":{}}})"},
      {"atomic list", R"({"spec":{"args":["a"]}})", R"({"f:spec":{"f:args":{}}})"},
      {"atomic struct", R"({"spec":{"ref":{"a":"x"}}})", R"({"f:spec":{"f:ref":{}}})"},
      {"list-map with key default", R"({"spec":{"ports":[{"port":80}]}})",
       R"({"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}}}})"},
      {"list-map by merge key", R"({"spec":{"items":[{"name":"a","value":"1"}]}})",
       R"({"f:spec":{"f:items":{"k:{\"name\":\"a\"}":{".":{},"f:name":{},"f:value":{}}}}})"},
      {"set", R"({"metadata":{"finalizers":["b","a"]}})",
       R"({"f:metadata":{"f:finalizers":{"v:\"a\"":{},"v:\"b\"":{}}}})"},
      {"empty granular list owns nothing", R"({"metadata":{"finalizers":[]}})", "{}"},
      {"untyped field", R"({"spec":{"data":{"x":{"y":1},"l":[1]}}})",
       R"({"f:spec":{"f:data":{"f:l":{},"f:x":{".":{},"f:y":{}}}}})"},
      {"unknown field is untyped", R"({"spec":{"unknown":{"a":1}}})",
       R"({"f:spec":{"f:unknown":{".":{},"f:a":{}}}})"},
      {"duplicated item owned whole", R"({"spec":{"items":[{"name":"a","value":"1"},{"name":"a"}]}})",
       R"({"f:spec":{"f:items":{"k:{\"name\":\"a\"}":{}}}})"},
      {"no schema", R"({"spec":{"a":[1,2],"b":{"c":1}}})", R"({"f:spec":{".":{},"f:a":{},"f:b":{".":{},"f:c":{}}}})",
       true},
  };
  for (const Case& c : cases) {
    auto set = ToFieldSet(Json::parse(c.object), c.untyped ? Type::Untyped() : WidgetType());
    ASSERT_TRUE(set.ok()) << c.name << ": " << set.status().ToString();
    EXPECT_EQ(set->ToJSON(), V1(c.fields).ToJSON()) << c.name;
  }
}

TEST(ToFieldSetTest, Errors) {
  struct Case {
    std::string object, error;
  };
  std::vector<Case> cases = {
      {R"({"spec":{"items":[{"name":"a"},{"name":"a"}]}})",
       R"(.spec.items: duplicate entries for key [name="a"])"},
      {R"({"spec":{"items":[{"value":"1"}]}})",
       R"(.spec.items: element 0: associative list with keys has an element that omits all key fields ["name"])"
       R"( (and doesn't have default values for any key fields))"},
      {R"({"metadata":{"finalizers":[{"a":1}]}})",
       ".metadata.finalizers: element 0: associative list without keys has an element that's a map type"},
      {R"({"spec":{"items":["x"]}})",
       ".spec.items: element 0: associative list with keys may not have non-map elements"},
  };
  for (const Case& c : cases) {
    auto set = ToFieldSet(Json::parse(c.object), WidgetType(), /*reject_duplicates=*/true);
    ASSERT_FALSE(set.ok()) << c.object;
    EXPECT_EQ(set.status().message(), c.error);
  }
}

TEST(CompareTest, Table) {
  struct Case {
    std::string name, lhs, rhs, removed, modified, added;
  };
  std::vector<Case> cases = {
      {"modified scalar", R"({"spec":{"replicas":1}})", R"({"spec":{"replicas":2}})", "{}",
       R"({"f:spec":{"f:replicas":{}}})", "{}"},
      {"equal", R"({"spec":{"replicas":1}})", R"({"spec":{"replicas":1.0}})", "{}", "{}", "{}"},
      // metadata is a non-pointer struct: it always exists, so only labels is new.
      {"new map", "{}", R"({"metadata":{"labels":{"app":"x"}}})", "{}", "{}",
       R"({"f:metadata":{"f:labels":{".":{},"f:app":{}}}})"},
      {"new item with non-pointer struct", "{}", R"({"spec":{"items":[{"name":"a"}]}})", "{}", "{}",
       R"({"f:spec":{"f:items":{".":{},"k:{\"name\":\"a\"}":{".":{},"f:inner":{},"f:name":{}}}}})"},
      {"new required list", "{}", R"({"spec":{"template":{"containers":[{"name":"a"}]}}})", "{}", "{}",
       R"({"f:spec":{"f:template":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:inner":{},"f:name":{}}}}}})"},
      {"new pointer struct", "{}", R"({"spec":{"extra":{"a":"x"}}})", "{}", "{}",
       R"({"f:spec":{"f:extra":{".":{},"f:a":{}}}})"},
      {"removed key", R"({"metadata":{"labels":{"a":"1","b":"2"}}})", R"({"metadata":{"labels":{"a":"1"}}})",
       R"({"f:metadata":{"f:labels":{"f:b":{}}}})", "{}", "{}"},
      {"set item added", R"({"metadata":{"finalizers":["a"]}})", R"({"metadata":{"finalizers":["a","b"]}})", "{}",
       "{}", R"({"f:metadata":{"f:finalizers":{"v:\"b\"":{}}}})"},
      {"atomic list", R"({"spec":{"args":["a"]}})", R"({"spec":{"args":["b"]}})", "{}", R"({"f:spec":{"f:args":{}}})",
       "{}"},
      {"empty map removed", R"({"metadata":{"labels":{}}})", R"({"metadata":{}})",
       R"({"f:metadata":{"f:labels":{}}})", "{}", "{}"},
      {"item field changed", R"({"spec":{"items":[{"name":"a","value":"1"}]}})",
       R"({"spec":{"items":[{"name":"a","value":"2"}]}})", "{}",
       R"({"f:spec":{"f:items":{"k:{\"name\":\"a\"}":{"f:value":{}}}}})", "{}"},
  };
  for (const Case& c : cases) {
    auto cmp = Compare(Json::parse(c.lhs), Json::parse(c.rhs), WidgetType());
    ASSERT_TRUE(cmp.ok()) << c.name << ": " << cmp.status().ToString();
    EXPECT_EQ(cmp->removed.ToJSON(), V1(c.removed).ToJSON()) << c.name;
    EXPECT_EQ(cmp->modified.ToJSON(), V1(c.modified).ToJSON()) << c.name;
    EXPECT_EQ(cmp->added.ToJSON(), V1(c.added).ToJSON()) << c.name;
  }
}

TEST(MergeTest, Table) {
  struct Case {
    std::string name, lhs, rhs, out;
  };
  std::vector<Case> cases = {
      {"scalar wins, others kept", R"({"spec":{"replicas":1,"args":["x"]}})", R"({"spec":{"replicas":2}})",
       R"({"spec":{"replicas":2,"args":["x"]}})"},
      {"atomic list replaced", R"({"spec":{"args":["a","b"]}})", R"({"spec":{"args":["c"]}})",
       R"({"spec":{"args":["c"]}})"},
      {"atomic map replaced", R"({"spec":{"selector":{"a":"1"}}})", R"({"spec":{"selector":{"b":"2"}}})",
       R"({"spec":{"selector":{"b":"2"}}})"},
      {"granular map merged", R"({"metadata":{"labels":{"a":"1"}}})", R"({"metadata":{"labels":{"b":"2"}}})",
       R"({"metadata":{"labels":{"a":"1","b":"2"}}})"},
      {"list-map merged by key", R"({"spec":{"items":[{"name":"a","value":"1"},{"name":"b","value":"2"}]}})",
       R"({"spec":{"items":[{"name":"b","value":"3"},{"name":"c"}]}})",
       R"({"spec":{"items":[{"name":"a","value":"1"},{"name":"b","value":"3"},{"name":"c"}]}})"},
      {"list-map reordered", R"({"spec":{"items":[{"name":"a"},{"name":"b"},{"name":"c"}]}})",
       R"({"spec":{"items":[{"name":"c"},{"name":"a"}]}})",
       R"({"spec":{"items":[{"name":"b"},{"name":"c"},{"name":"a"}]}})"},
      {"set merged", R"({"metadata":{"finalizers":["a","b"]}})", R"({"metadata":{"finalizers":["c","a"]}})",
       R"({"metadata":{"finalizers":["c","a","b"]}})"},
      {"null removes", R"({"spec":{"replicas":1,"args":["a"]}})", R"({"spec":{"replicas":null}})",
       R"({"spec":{"args":["a"]}})"},
      {"into nothing", "{}", R"({"spec":{"replicas":1}})", R"({"spec":{"replicas":1}})"},
  };
  for (const Case& c : cases) {
    auto out = Merge(Json::parse(c.lhs), Json::parse(c.rhs), WidgetType());
    ASSERT_TRUE(out.ok()) << c.name << ": " << out.status().ToString();
    EXPECT_EQ(*out, Json::parse(c.out)) << c.name << ": got " << out->dump();
  }
  auto dup = Merge(Json::object(), Json::parse(R"({"spec":{"items":[{"name":"a"},{"name":"a"}]}})"), WidgetType());
  EXPECT_EQ(dup.status().message(), R"(.spec.items: duplicate entries for key [name="a"])");
  // Duplicates already stored are tolerated.
  auto live_dup = Merge(Json::parse(R"({"spec":{"items":[{"name":"a","value":"1"},{"name":"a"}]}})"),
                        Json::parse(R"({"spec":{"replicas":1}})"), WidgetType());
  ASSERT_TRUE(live_dup.ok()) << live_dup.status().ToString();
  EXPECT_EQ((*live_dup)["spec"]["items"].size(), 2u);
}

TEST(RemoveItemsTest, Table) {
  struct Case {
    std::string name, object, remove, out;
  };
  std::vector<Case> cases = {
      {"one key", R"({"metadata":{"labels":{"a":"1","b":"2"}}})", R"({"f:metadata":{"f:labels":{"f:a":{}}}})",
       R"({"metadata":{"labels":{"b":"2"}}})"},
      {"emptied containers go", R"({"metadata":{"labels":{"a":"1"}}})", R"({"f:metadata":{"f:labels":{"f:a":{}}}})",
       "{}"},
      {"list item", R"({"spec":{"items":[{"name":"a"},{"name":"b"}]}})",
       R"({"f:spec":{"f:items":{"k:{\"name\":\"a\"}":{}}}})", R"({"spec":{"items":[{"name":"b"}]}})"},
      {"field of an item", R"({"spec":{"items":[{"name":"a","value":"1"}]}})",
       R"({"f:spec":{"f:items":{"k:{\"name\":\"a\"}":{"f:value":{}}}}})", R"({"spec":{"items":[{"name":"a"}]}})"},
      {"whole struct", R"({"spec":{"template":{"image":"x"},"replicas":1}})", R"({"f:spec":{"f:template":{}}})",
       R"({"spec":{"replicas":1}})"},
      {"set item", R"({"metadata":{"finalizers":["a","b"]}})", R"({"f:metadata":{"f:finalizers":{"v:\"a\"":{}}}})",
       R"({"metadata":{"finalizers":["b"]}})"},
  };
  for (const Case& c : cases) {
    Json out = RemoveItems(Json::parse(c.object), V1(c.remove), WidgetType());
    EXPECT_EQ(out, Json::parse(c.out)) << c.name << ": got " << out.dump();
  }
}

TEST(EnsureNamedFieldsAreMembersTest, AddsStructFieldsOnly) {
  Set s = V1(R"({"f:spec":{"f:template":{"f:image":{}},"f:data":{"f:x":{"f:y":{}}}},
                 "f:metadata":{"f:labels":{"f:a":{}}}})");
  EXPECT_EQ(EnsureNamedFieldsAreMembers(s, WidgetType()).ToJSON(),
            V1(R"({"f:metadata":{".":{},"f:labels":{".":{},"f:a":{}}},
                   "f:spec":{".":{},"f:data":{".":{},"f:x":{"f:y":{}}},"f:template":{".":{},"f:image":{}}}})")
                .ToJSON());
}

}  // namespace
}  // namespace kubes::apiserver::fieldmanager
