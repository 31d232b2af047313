#include "apiserver/fieldmanager/fieldpath.h"

#include <gtest/gtest.h>

namespace kubes::apiserver::fieldmanager {
namespace {

PathElement F(const std::string& name) { return PathElement::Field(name); }
PathElement K(const std::string& name, Json value) { return PathElement::Key({{name, std::move(value)}}); }
PathElement V(Json value) { return PathElement::Value(std::move(value)); }

// Builds a set from fieldsV1 text, failing the test if it does not parse.
Set FromV1(const std::string& text) {
  auto s = Set::FromFieldsV1(Json::parse(text));
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : Set();
}

TEST(PathElementTest, SerializeAndString) {
  struct Case {
    PathElement pe;
    std::string serialized, string;
  };
  std::vector<Case> cases = {
      {F("spec"), "f:spec", ".spec"},
      {K("name", "nginx"), R"(k:{"name":"nginx"})", R"([name="nginx"])"},
      {PathElement::Key({{"protocol", "TCP"}, {"containerPort", 80}}), R"(k:{"containerPort":80,"protocol":"TCP"})",
       R"([containerPort=80,protocol="TCP"])"},
      {V("example.com/x"), R"(v:"example.com/x")", R"([="example.com/x"])"},
      {V(3), "v:3", "[=3]"},
      {V(1.5), "v:1.5", "[=1.5]"},
      {V("<&>"), R"(v:"\u003c\u0026\u003e")", R"([="<&>"])"},
      {PathElement::Index(4), "i:4", "[4]"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.pe.Serialize(), c.serialized);
    EXPECT_EQ(c.pe.String(), c.string);
    auto back = PathElement::Parse(c.serialized);
    ASSERT_TRUE(back.ok()) << c.serialized << ": " << back.status().ToString();
    ASSERT_TRUE(back->has_value()) << c.serialized;
    EXPECT_EQ(**back, c.pe) << c.serialized;
  }
}

TEST(PathElementTest, ParseErrorsAndUnknownTypes) {
  for (const char* bad : {"", "f", "fx", "k:[1]", "k:{", "v:", "i:x", "i:"}) {
    EXPECT_FALSE(PathElement::Parse(bad).ok()) << bad;
  }
  auto unknown = PathElement::Parse("z:anything");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST(PathElementTest, OrderIsFieldsKeysValuesIndexes) {
  std::vector<PathElement> sorted = {F("a"), F("b"), K("name", "a"), K("name", "b"), V(2), V(10), V("a"),
                                     V(true), PathElement::Index(0)};
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    EXPECT_LT(sorted[i].Compare(sorted[i + 1]), 0) << sorted[i].String() << " vs " << sorted[i + 1].String();
    EXPECT_GT(sorted[i + 1].Compare(sorted[i]), 0);
  }
  EXPECT_EQ(V(2).Compare(V(2.0)), 0);  // numbers compare by value
}

TEST(SetTest, ToJSONMatchesUpstreamBytes) {
  Set s;
  s.Insert({F("metadata"), F("labels")});
  s.Insert({F("metadata"), F("labels"), F("app")});
  s.Insert({F("spec"), F("containers"), K("name", "nginx")});
  s.Insert({F("spec"), F("containers"), K("name", "nginx"), F("name")});
  s.Insert({F("spec"), F("containers"), K("name", "nginx"), F("image")});
  s.Insert({F("metadata"), F("finalizers"), V("example.com/x")});
  EXPECT_EQ(s.ToJSON(),
            R"({"f:metadata":{"f:finalizers":{"v:\"example.com/x\"":{}},"f:labels":{".":{},"f:app":{}}},)"
            R"("f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}}})");
  EXPECT_EQ(Set().ToJSON(), "{}");
  // The Json form holds the same tree and reads back to the same set.
  EXPECT_EQ(s.ToFieldsV1(), Json::parse(s.ToJSON()));
  EXPECT_EQ(FromV1(s.ToJSON()), s);
}

TEST(SetTest, FromFieldsV1) {
  Set s = FromV1(R"({"f:a":{},"f:b":{".":{},"f:c":{}},"f:d":{"f:e":{}},"x:future":{},"f:f":{"y:z":{}}})");
  EXPECT_TRUE(s.Has({F("a")}));
  EXPECT_TRUE(s.Has({F("b")}));
  EXPECT_TRUE(s.Has({F("b"), F("c")}));
  EXPECT_FALSE(s.Has({F("d")}));  // a parent without "." is not a member
  EXPECT_TRUE(s.Has({F("d"), F("e")}));
  EXPECT_TRUE(s.Has({F("f")}));  // only unknown children: the node itself is the member
  EXPECT_EQ(s.Size(), 5u);
  EXPECT_TRUE(Set::FromFieldsV1(nullptr)->Empty());
  for (const char* bad : {R"([])", R"({"f:a":1})", R"({"k:nope":{}})", R"({"q":{}})"}) {
    EXPECT_FALSE(Set::FromFieldsV1(Json::parse(bad)).ok()) << bad;
  }
}

TEST(SetTest, Operations) {
  struct Case {
    std::string name, a, b, union_, intersection, difference, recursive_difference;
  };
  std::vector<Case> cases = {
      {"disjoint", R"({"f:a":{}})", R"({"f:b":{}})", R"({"f:a":{},"f:b":{}})", "{}", R"({"f:a":{}})",
       R"({"f:a":{}})"},
      {"shared leaf", R"({"f:a":{},"f:b":{}})", R"({"f:b":{}})", R"({"f:a":{},"f:b":{}})", R"({"f:b":{}})",
       R"({"f:a":{}})", R"({"f:a":{}})"},
      {"nested", R"({"f:s":{"f:x":{},"f:y":{}}})", R"({"f:s":{"f:y":{},"f:z":{}}})",
       R"({"f:s":{"f:x":{},"f:y":{},"f:z":{}}})", R"({"f:s":{"f:y":{}}})", R"({"f:s":{"f:x":{}}})",
       R"({"f:s":{"f:x":{}}})"},
      // A member of b does not remove a's paths below it, except recursively.
      {"parent minus child", R"({"f:s":{".":{},"f:x":{}}})", R"({"f:s":{}})", R"({"f:s":{".":{},"f:x":{}}})",
       R"({"f:s":{}})", R"({"f:s":{"f:x":{}}})", "{}"},
  };
  for (const Case& c : cases) {
    Set a = FromV1(c.a), b = FromV1(c.b);
    EXPECT_EQ(a.Union(b).ToJSON(), FromV1(c.union_).ToJSON()) << c.name;
    EXPECT_EQ(a.Intersection(b).ToJSON(), FromV1(c.intersection).ToJSON()) << c.name;
    EXPECT_EQ(a.Difference(b).ToJSON(), FromV1(c.difference).ToJSON()) << c.name;
    EXPECT_EQ(a.RecursiveDifference(b).ToJSON(), FromV1(c.recursive_difference).ToJSON()) << c.name;
  }
}

TEST(SetTest, IterateVisitsMembersBeforeChildren) {
  Set s = FromV1(R"({"f:spec":{"f:replicas":{},"f:template":{"f:x":{}}},"f:z":{}})");
  std::vector<std::string> paths;
  s.Iterate([&](const Path& p) { paths.push_back(PathString(p)); });
  EXPECT_EQ(paths, (std::vector<std::string>{".z", ".spec.replicas", ".spec.template.x"}));
}

TEST(ValueTest, OrderAndGoEncoding) {
  std::vector<Json> sorted = {-1, 2.5, 3, "a", "b", false, true, Json::array({1}), Json::object({{"a", 1}}), nullptr};
  for (size_t i = 0; i + 1 < sorted.size(); ++i) EXPECT_LT(CompareValues(sorted[i], sorted[i + 1]), 0) << i;
  EXPECT_EQ(GoJSON(Json::parse(R"({"b":[1,2.5,"x\n"],"a":null,"c":1e-7})")),
            R"({"a":null,"b":[1,2.5,"x\n"],"c":1e-7})");
  EXPECT_EQ(GoQuote("say \"hi\"\t"), R"("say \"hi\"\t")");
  EXPECT_EQ(ValueString(Json(1000000.0)), "1e+06");
  EXPECT_EQ(NestingDepth(Json::parse(R"({"a":[{"b":1}]})")), 3u);
}

}  // namespace
}  // namespace kubes::apiserver::fieldmanager
