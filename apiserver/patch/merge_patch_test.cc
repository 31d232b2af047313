#include "apiserver/patch/merge_patch.h"

#include <gtest/gtest.h>

namespace kubes::apiserver::patch {
namespace {

struct Case {
  const char* name;
  const char* original;
  const char* patch;
  const char* want;
};

const Case kCases[] = {
    // The examples of RFC 7386 appendix A (those the apiserver accepts).
    {"replace a member", R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
    {"add a member", R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
    {"null deletes", R"({"a":"b"})", R"({"a":null})", R"({})"},
    {"null deletes only that member", R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
    {"a scalar replaces an array", R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
    {"an array replaces a scalar", R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
    {"objects merge recursively", R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
    {"arrays are replaced, never merged", R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
    {"an array patch replaces an array document", R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
    {"an array patch replaces an object document", R"({"a":"b"})", R"(["c"])", R"(["c"])"},
    {"existing nulls are left alone", R"({"e":null})", R"({"a":1})", R"({"a":1,"e":null})"},
    {"an object patch over an array document", R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
    {"nulls inside new objects are dropped", R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
    // What kubectl sends.
    {"kubectl label: add and remove labels", R"({"metadata":{"labels":{"app":"web","tier":"front"}}})",
     R"({"metadata":{"labels":{"tier":null,"env":"prod"}}})", R"({"metadata":{"labels":{"app":"web","env":"prod"}}})"},
    {"a container list is replaced whole",
     R"({"spec":{"containers":[{"name":"web","image":"nginx:1.25"},{"name":"log","image":"busybox"}]}})",
     R"({"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}})",
     R"({"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}})"},
    // evanphx/json-patch v4 details.
    {"nulls in objects inside a new array are dropped, null elements stay", R"({})",
     R"({"a":[{"x":null,"y":1},null]})", R"({"a":[{"y":1},null]})"},
    {"a new object replaces a scalar, without its nulls", R"({"a":"s"})", R"({"a":{"b":null,"c":1}})",
     R"({"a":{"c":1}})"},
    {"an empty patch changes nothing", R"({"a":1})", R"({})", R"({"a":1})"},
};

TEST(MergePatchTest, Apply) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    auto got = MergePatch(Json::parse(c.original), Json::parse(c.patch));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->dump(), Json::parse(c.want).dump());
  }
}

TEST(MergePatchTest, RejectsPatchesThatAreNotDocuments) {
  // RFC 7386 would let these replace the whole target; kube-apiserver answers 400.
  for (const char* patch : {"null", "\"bar\"", "1", "true"}) {
    SCOPED_TRACE(patch);
    auto got = MergePatch(Json::parse(R"({"a":"foo"})"), Json::parse(patch));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), Code::kBadRequest);
    EXPECT_EQ(got.status().message(), "Invalid JSON Patch");
  }
  auto null_doc = MergePatch(Json(nullptr), Json::parse(R"({"a":1})"));
  ASSERT_FALSE(null_doc.ok());
  EXPECT_EQ(null_doc.status().message(), "Invalid JSON Document");
}

TEST(MergePatchTest, RejectsTooDeepNesting) {
  Json deep = Json::object();
  for (int i = 0; i < 1500; ++i) deep = Json{{"n", std::move(deep)}};
  auto got = MergePatch(Json::object(), deep);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace kubes::apiserver::patch
