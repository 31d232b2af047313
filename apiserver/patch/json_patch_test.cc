#include "apiserver/patch/json_patch.h"

#include <gtest/gtest.h>

#include <string>

#include "apiserver/patch/patch_util.h"

namespace kubes::apiserver::patch {
namespace {

struct ApplyCase {
  const char* name;
  const char* doc;
  const char* patch;
  const char* want;   // the patched document, or nullptr when the patch must fail
  const char* error;  // for failures: upstream's detailed message
};

const ApplyCase kApplyCases[] = {
    // add
    {"add a label", R"({"metadata":{"labels":{"app":"web"}}})",
     R"([{"op":"add","path":"/metadata/labels/tier","value":"front"}])",
     R"({"metadata":{"labels":{"app":"web","tier":"front"}}})", nullptr},
    {"add replaces an existing member", R"({"a":1})", R"([{"op":"add","path":"/a","value":2}])", R"({"a":2})",
     nullptr},
    {"~1 escapes a slash in an annotation key", R"({"metadata":{"annotations":{}}})",
     R"([{"op":"add","path":"/metadata/annotations/example.com~1owner","value":"me"}])",
     R"({"metadata":{"annotations":{"example.com/owner":"me"}}})", nullptr},
    {"~0 escapes a tilde, decoded left to right", R"({})", R"([{"op":"add","path":"/a~0b~01","value":1}])",
     R"({"a~b~1":1})", nullptr},
    {"- appends to an array", R"({"args":["a"]})", R"([{"op":"add","path":"/args/-","value":"b"}])",
     R"({"args":["a","b"]})", nullptr},
    {"an index inserts before that element", R"({"args":["a","c"]})",
     R"([{"op":"add","path":"/args/1","value":"b"}])", R"({"args":["a","b","c"]})", nullptr},
    {"the index one past the end appends", R"({"args":["a"]})", R"([{"op":"add","path":"/args/1","value":"b"}])",
     R"({"args":["a","b"]})", nullptr},
    {"a missing value adds null", R"({})", R"([{"op":"add","path":"/a"}])", R"({"a":null})", nullptr},
    {"add beyond the end fails", R"({"args":["a"]})", R"([{"op":"add","path":"/args/2","value":"b"}])", nullptr,
     "error in add for path: '/args/2': Unable to access invalid index: 2: invalid index referenced"},
    {"add with a non-numeric index fails", R"({"args":[]})", R"([{"op":"add","path":"/args/x","value":1}])",
     nullptr,
     "error in add for path: '/args/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": "
     "invalid syntax"},
    {"add under a missing parent fails", R"({})", R"([{"op":"add","path":"/spec/replicas","value":1}])", nullptr,
     "add operation does not apply: doc is missing path: \"/spec/replicas\": missing value"},
    {"add cannot target the whole document", R"({})", R"([{"op":"add","path":"","value":{}}])", nullptr,
     "add operation does not apply: doc is missing path: \"\": missing value"},
    {"a path without a leading slash is missing", R"({"a":{}})", R"([{"op":"add","path":"a/b","value":1}])",
     nullptr, "add operation does not apply: doc is missing path: \"a/b\": missing value"},
    {"add without a path", R"({})", R"([{"op":"add","value":1}])", nullptr,
     "add operation failed to decode path: missing value"},
    // remove
    {"remove a label", R"({"metadata":{"labels":{"app":"web","tier":"front"}}})",
     R"([{"op":"remove","path":"/metadata/labels/tier"}])", R"({"metadata":{"labels":{"app":"web"}}})", nullptr},
    {"remove an array element", R"({"args":["a","b","c"]})", R"([{"op":"remove","path":"/args/1"}])",
     R"({"args":["a","c"]})", nullptr},
    {"a negative index counts from the end", R"({"args":["a","b","c"]})", R"([{"op":"remove","path":"/args/-1"}])",
     R"({"args":["a","b"]})", nullptr},
    {"remove a missing member fails", R"({"metadata":{"labels":{}}})",
     R"([{"op":"remove","path":"/metadata/labels/tier"}])", nullptr,
     "error in remove for path: '/metadata/labels/tier': Unable to remove nonexistent key: tier: missing value"},
    {"remove beyond the end fails", R"({"args":["a"]})", R"([{"op":"remove","path":"/args/1"}])", nullptr,
     "error in remove for path: '/args/1': Unable to access invalid index: 1: invalid index referenced"},
    {"remove under a missing parent fails", R"({})", R"([{"op":"remove","path":"/spec/x"}])", nullptr,
     "remove operation does not apply: doc is missing path: \"/spec/x\": missing value"},
    // replace
    {"replace the replica count", R"({"spec":{"replicas":1}})",
     R"([{"op":"replace","path":"/spec/replicas","value":3}])", R"({"spec":{"replicas":3}})", nullptr},
    {"replace of a missing member adds it, as evanphx/json-patch v4 does", R"({"metadata":{"labels":{}}})",
     R"([{"op":"replace","path":"/metadata/labels/new","value":"x"}])",
     R"({"metadata":{"labels":{"new":"x"}}})", nullptr},
    {"replace the whole document", R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])", R"({"b":2})",
     nullptr},
    {"replace the whole document with a scalar fails", R"({"a":1})", R"([{"op":"replace","path":"","value":2}])",
     nullptr, "replace operation value must be object or array"},
    {"replace under a missing parent fails", R"({})", R"([{"op":"replace","path":"/spec/replicas","value":1}])",
     nullptr, "replace operation does not apply: doc is missing path: /spec/replicas: missing value"},
    {"replace beyond the end fails", R"({"args":["a"]})", R"([{"op":"replace","path":"/args/5","value":"b"}])",
     nullptr, "replace operation does not apply: doc is missing key: /args/5: missing value"},
    {"replace with a path that is not a string", R"({})", R"([{"op":"replace","path":7,"value":1}])", nullptr,
     "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string"},
    // move
    {"move renames a label", R"({"labels":{"old":"x"}})",
     R"([{"op":"move","from":"/labels/old","path":"/labels/new"}])", R"({"labels":{"new":"x"}})", nullptr},
    {"move an array element to the end", R"({"args":["a","b","c"]})",
     R"([{"op":"move","from":"/args/0","path":"/args/-"}])", R"({"args":["b","c","a"]})", nullptr},
    {"move from a missing member fails", R"({"labels":{}})",
     R"([{"op":"move","from":"/labels/old","path":"/labels/new"}])", nullptr,
     "error in move for path: 'old': Unable to remove nonexistent key: old: missing value"},
    {"move into its own child fails", R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/c"}])", nullptr,
     "move operation does not apply: doc is missing destination path: /a/c: missing value"},
    {"move without from", R"({})", R"([{"op":"move","path":"/a"}])", nullptr,
     "move operation failed to decode from: operation, missing from field: missing value"},
    // copy
    {"copy a value", R"({"a":{"x":[1]}})", R"([{"op":"copy","from":"/a","path":"/b"}])",
     R"({"a":{"x":[1]},"b":{"x":[1]}})", nullptr},
    {"copy an element within the same array", R"({"l":[1,2]})", R"([{"op":"copy","from":"/l/1","path":"/l/0"}])",
     R"({"l":[2,1,2]})", nullptr},
    {"copy from a missing member copies null", R"({})", R"([{"op":"copy","from":"/nope","path":"/b"}])",
     R"({"b":null})", nullptr},
    {"copy to a missing parent fails", R"({"a":1})", R"([{"op":"copy","from":"/a","path":"/x/y"}])", nullptr,
     "copy operation does not apply: doc is missing destination path: /x/y: missing value"},
    // test
    {"test guards a replace", R"({"metadata":{"resourceVersion":"7"},"spec":{"replicas":1}})",
     R"([{"op":"test","path":"/metadata/resourceVersion","value":"7"},
         {"op":"replace","path":"/spec/replicas","value":2}])",
     R"({"metadata":{"resourceVersion":"7"},"spec":{"replicas":2}})", nullptr},
    {"a failed test stops the patch", R"({"spec":{"replicas":1}})",
     R"([{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":5}])",
     nullptr, "testing value /spec/replicas failed: test failed"},
    {"test compares objects regardless of member order", R"({"a":{"x":1,"y":[1,2]}})",
     R"([{"op":"test","path":"/a","value":{"y":[1,2],"x":1}}])", R"({"a":{"x":1,"y":[1,2]}})", nullptr},
    {"an integer does not equal a float", R"({"a":1})", R"([{"op":"test","path":"/a","value":1.0}])", nullptr,
     "testing value /a failed: test failed"},
    {"a missing member tests equal to null", R"({"a":{}})", R"([{"op":"test","path":"/a/b","value":null}])",
     R"({"a":{}})", nullptr},
    {"test the whole document", R"({"a":1})", R"([{"op":"test","path":"","value":{"a":2}}])", nullptr,
     "testing value  failed: test failed"},
    // malformed operations
    {"unknown op", R"({})", R"([{"op":"frobnicate","path":"/a"}])", nullptr, "Unexpected kind: frobnicate"},
    {"missing op", R"({})", R"([{"path":"/a"}])", nullptr, "Unexpected kind: unknown"},
    {"null operation", R"({})", R"([null])", nullptr, "Unexpected kind: unknown"},
    {"patching an array document", R"([1,2])", R"([{"op":"add","path":"/0","value":0}])", R"([0,1,2])", nullptr},
    {"an empty patch changes nothing", R"({"a":1})", R"([])", R"({"a":1})", nullptr},
};

TEST(JsonPatchTest, Apply) {
  for (const auto& c : kApplyCases) {
    SCOPED_TRACE(c.name);
    auto patch = JsonPatch::Decode(Json::parse(c.patch));
    ASSERT_TRUE(patch.ok()) << patch.status().ToString();
    auto got = patch->Apply(Json::parse(c.doc));
    if (c.want != nullptr) {
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(got->dump(), Json::parse(c.want).dump());
    } else {
      ASSERT_FALSE(got.ok()) << "got " << got->dump();
      EXPECT_EQ(got.status().code(), Code::kInvalid);
      EXPECT_EQ(got.status().message(), c.error);
    }
  }
}

TEST(JsonPatchTest, DecodeRejectsWrongShapes) {
  struct Case {
    const char* patch;
    const char* error;
  };
  const Case cases[] = {
      {R"({"op":"add"})", "json: cannot unmarshal object into Go value of type jsonpatch.Patch"},
      {R"("add")", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"},
      {R"([1])", "json: cannot unmarshal number into Go value of type jsonpatch.Operation"},
      {R"([[]])", "json: cannot unmarshal array into Go value of type jsonpatch.Operation"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.patch);
    auto got = JsonPatch::Decode(Json::parse(c.patch));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), Code::kBadRequest);
    EXPECT_EQ(got.status().message(), c.error);
  }
  auto null_patch = JsonPatch::Decode(Json(nullptr));
  ASSERT_TRUE(null_patch.ok());
  EXPECT_EQ(null_patch->size(), 0u);
}

TEST(JsonPatchTest, ApplyJsonPatchAnswersLikeTheApiserver) {
  const Json doc = Json::parse(R"({"spec":{"replicas":1}})");

  auto ok = ApplyJsonPatch(doc, Json::parse(R"([{"op":"replace","path":"/spec/replicas","value":2}])"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)["spec"]["replicas"], 2);

  // A failed operation: 422 with the generic message kubectl shows.
  auto failed = ApplyJsonPatch(doc, Json::parse(R"([{"op":"test","path":"/spec/replicas","value":9}])"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kInvalid);
  EXPECT_EQ(failed.status().HttpCode(), 422);
  EXPECT_EQ(failed.status().message(), kRejectedRequestMessage);

  // A body that is not a patch: 400 with the decoding message.
  auto malformed = ApplyJsonPatch(doc, Json::parse(R"({"op":"add"})"));
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), Code::kBadRequest);

  // Too many operations: 413.
  Json many = Json::array();
  for (size_t i = 0; i <= kMaxJsonPatchOperations; ++i) many.push_back({{"op", "test"}, {"path", "/spec"}});
  auto too_many = ApplyJsonPatch(doc, many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), Code::kRequestEntityTooLarge);
  EXPECT_EQ(too_many.status().message(), "The allowed maximum operations in a JSON patch is 10000, got 10001");
}

TEST(JsonPatchTest, FailedPatchLeavesTheInputUntouched) {
  const Json doc = Json::parse(R"({"a":1,"b":2})");
  auto patch = JsonPatch::Decode(Json::parse(R"([{"op":"remove","path":"/a"},{"op":"remove","path":"/zzz"}])"));
  ASSERT_TRUE(patch.ok());
  EXPECT_FALSE(patch->Apply(doc).ok());
  EXPECT_EQ(doc.dump(), R"({"a":1,"b":2})");
}

TEST(JsonPatchTest, CopiesAreLimitedInSize) {
  Json doc = {{"big", std::string(kMaxJsonPatchCopyBytes / 2, 'x')}};
  auto patch = JsonPatch::Decode(Json::parse(
      R"([{"op":"copy","from":"/big","path":"/c1"},{"op":"copy","from":"/big","path":"/c2"}])"));
  ASSERT_TRUE(patch.ok());
  auto got = patch->Apply(doc);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("Unable to complete the copy, the accumulated size increase of copy is "),
            std::string::npos)
      << got.status().message();
}

// Builds {"n":{"n":...}} nested `depth` levels deep.
Json Nested(size_t depth) {
  Json v = Json::object();
  for (size_t i = 1; i < depth; ++i) v = Json{{"n", std::move(v)}};
  return v;
}

TEST(JsonPatchTest, NestingIsBounded) {
  // The patch itself: array, operation object, then the value.
  Json too_deep = Json::array({{{"op", "add"}, {"path", "/a"}, {"value", Nested(kMaxNestingDepth - 1)}}});
  EXPECT_EQ(JsonPatch::Decode(too_deep).status().code(), Code::kBadRequest);

  // A value that fits in the patch but would nest too deep where it lands.
  Json value = Nested(kMaxNestingDepth - 2);
  auto patch = JsonPatch::Decode(Json::array({{{"op", "add"}, {"path", "/a/b/x"}, {"value", value}}}));
  ASSERT_TRUE(patch.ok()) << patch.status().ToString();
  auto got = patch->Apply(Json::parse(R"({"a":{"b":{}}})"));
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("nest deeper than"), std::string::npos) << got.status().message();

  auto shallower = JsonPatch::Decode(Json::array({{{"op", "add"}, {"path", "/a/x"}, {"value", value}}}));
  ASSERT_TRUE(shallower.ok());
  EXPECT_TRUE(shallower->Apply(Json::parse(R"({"a":{}})")).ok());
}

}  // namespace
}  // namespace kubes::apiserver::patch
