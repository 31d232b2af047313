#include "apiserver/crd/validation.h"

#include <gtest/gtest.h>

namespace kubes::crd {
namespace {

// A schema whose spec has the one property under test.
Json SpecWith(const char* name, const char* property, const char* extra = "") {
  return Json::parse(std::string(R"({"type":"object","properties":{"spec":{"type":"object",)") + extra +
                     R"("properties":{")" + name + R"(":)" + property + "}}}}");
}

std::vector<std::string> Errors(const Json& obj, const Json& schema, const std::string& path = "") {
  validation::ErrorList errs;
  Validate(obj, schema, validation::Path(path), errs);
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.ToString());
  return out;
}

struct Case {
  const char* name;
  Json schema;
  const char* obj;
  std::vector<std::string> want;
};

TEST(ValidateTest, Table) {
  const Case cases[] = {
      {"type",
       SpecWith("replicas", R"({"type":"integer"})"),
       R"({"spec":{"replicas":"string"}})",
       {R"(spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string")"}},
      {"an integral float is an integer",
       SpecWith("replicas", R"({"type":"integer"})"),
       R"({"spec":{"replicas":3.0}})",
       {}},
      {"a fraction is not",
       SpecWith("replicas", R"({"type":"integer"})"),
       R"({"spec":{"replicas":1.5}})",
       {R"(spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number")"}},
      {"an integer is a number", SpecWith("ratio", R"({"type":"number","maximum":2})"), R"({"spec":{"ratio":2}})", {}},
      {"enum",
       SpecWith("size", R"({"type":"string","enum":["small","large"]})"),
       R"({"spec":{"size":"huge"}})",
       {R"(spec.size: Unsupported value: "huge": supported values: "small", "large")"}},
      {"numeric enum",
       SpecWith("n", R"({"type":"integer","enum":[1,2]})"),
       R"({"spec":{"n":3}})",
       {R"(spec.n: Unsupported value: 3: supported values: "1", "2")"}},
      {"required",
       SpecWith("name", R"({"type":"string"})", R"("required":["name"],)"),
       R"({"spec":{}})",
       {"spec.name: Required value"}},
      {"maximum",
       SpecWith("count", R"({"type":"integer","maximum":10})"),
       R"({"spec":{"count":11}})",
       {"spec.count: Invalid value: 11: spec.count in body should be less than or equal to 10"}},
      {"maximum with a float value",
       SpecWith("count", R"({"type":"number","maximum":10})"),
       R"({"spec":{"count":10.5}})",
       {"spec.count: Invalid value: 10.5: spec.count in body should be less than or equal to 10"}},
      {"exclusive minimum",
       SpecWith("count", R"({"type":"integer","minimum":0,"exclusiveMinimum":true})"),
       R"({"spec":{"count":0}})",
       {"spec.count: Invalid value: 0: spec.count in body should be greater than 0"}},
      {"multipleOf",
       SpecWith("n", R"({"type":"integer","multipleOf":5})"),
       R"({"spec":{"n":7}})",
       {"spec.n: Invalid value: 7: spec.n in body should be a multiple of 5"}},
      {"maxLength",
       SpecWith("name", R"({"type":"string","maxLength":3})"),
       R"({"spec":{"name":"abcd"}})",
       {"spec.name: Too long: may not be more than 3 bytes"}},
      {"maxLength counts runes",
       SpecWith("name", R"({"type":"string","maxLength":3})"),
       R"({"spec":{"name":"äöü"}})",
       {}},
      {"minLength",
       SpecWith("name", R"({"type":"string","minLength":2})"),
       R"({"spec":{"name":"a"}})",
       {R"(spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long)"}},
      {"pattern",
       SpecWith("v", R"({"type":"string","pattern":"^v[0-9]+$"})"),
       R"({"spec":{"v":"x1"}})",
       {R"(spec.v: Invalid value: "x1": spec.v in body should match '^v[0-9]+$')"}},
      {"pattern finds a match anywhere",
       SpecWith("v", R"({"type":"string","pattern":"[0-9]"})"),
       R"({"spec":{"v":"ab3c"}})",
       {}},
      {"maxItems",
       SpecWith("tags", R"({"type":"array","items":{"type":"string"},"maxItems":2})"),
       R"({"spec":{"tags":["a","b","c"]}})",
       {"spec.tags: Too many: 3: must have at most 2 items"}},
      {"minItems",
       SpecWith("tags", R"({"type":"array","items":{"type":"string"},"minItems":1})"),
       R"({"spec":{"tags":[]}})",
       {"spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"}},
      {"items",
       SpecWith("tags", R"({"type":"array","items":{"type":"string"}})"),
       R"({"spec":{"tags":["a",2]}})",
       {R"(spec.tags[1]: Invalid value: "integer": spec.tags[1] in body must be of type string: "integer")"}},
      {"uniqueItems",
       SpecWith("tags", R"({"type":"array","items":{"type":"string"},"uniqueItems":true})"),
       R"({"spec":{"tags":["a","a"]}})",
       {R"(spec.tags: Invalid value: "": spec.tags in body shouldn't contain duplicates)"}},
      {"maxProperties",
       SpecWith("m", R"({"type":"object","additionalProperties":{"type":"string"},"maxProperties":1})"),
       R"({"spec":{"m":{"a":"x","b":"y"}}})",
       {"spec.m: Too many: 2: must have at most 1 items"}},
      {"minProperties",
       SpecWith("m", R"({"type":"object","additionalProperties":{"type":"string"},"minProperties":2})"),
       R"({"spec":{"m":{"a":"x"}}})",
       {"spec.m: Invalid value: 1: spec.m in body should have at least 2 properties"}},
      {"additionalProperties values",
       SpecWith("m", R"({"type":"object","additionalProperties":{"type":"integer"}})"),
       R"({"spec":{"m":{"a":"x"}}})",
       {R"(spec.m.a: Invalid value: "string": spec.m.a in body must be of type integer: "string")"}},
      {"null is not a string",
       SpecWith("s", R"({"type":"string"})"),
       R"({"spec":{"s":null}})",
       {R"(spec.s: Invalid value: "null": spec.s in body must be of type string: "null")"}},
      {"unless nullable", SpecWith("s", R"({"type":"string","nullable":true})"), R"({"spec":{"s":null}})", {}},
      {"int-or-string takes an integer",
       SpecWith("port", R"({"x-kubernetes-int-or-string":true})"),
       R"({"spec":{"port":80}})",
       {}},
      {"int-or-string takes a string",
       SpecWith("port", R"({"x-kubernetes-int-or-string":true})"),
       R"({"spec":{"port":"http"}})",
       {}},
      {"int-or-string refuses a boolean",
       SpecWith("port", R"({"x-kubernetes-int-or-string":true})"),
       R"({"spec":{"port":true}})",
       {R"(spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean")"}},
      {"date-time format",
       SpecWith("at", R"({"type":"string","format":"date-time"})"),
       R"({"spec":{"at":"yesterday"}})",
       {R"(spec.at: Invalid value: "yesterday": spec.at in body must be of type date-time: "yesterday")"}},
      {"valid date-time",
       SpecWith("at", R"({"type":"string","format":"date-time"})"),
       R"({"spec":{"at":"2024-02-29T10:00:00Z"}})",
       {}},
      {"int32 is not range-checked",
       SpecWith("n", R"({"type":"integer","format":"int32"})"),
       R"({"spec":{"n":10000000000}})",
       {}},
      {"anyOf",
       SpecWith("a", R"({"type":"string"},"b":{"type":"string"})",
                R"("anyOf":[{"required":["a"]},{"required":["b"]}],)"),
       R"({"spec":{}})",
       {R"(<nil>: Invalid value: "": "spec" must validate at least one schema (anyOf))", "spec.a: Required value"}},
      {"oneOf with two matches",
       SpecWith("a", R"({"type":"string"})", R"("oneOf":[{"minProperties":1},{"required":["a"]}],)"),
       R"({"spec":{"a":"x"}})",
       {R"(<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found 2 valid alternatives)"}},
      {"allOf",
       SpecWith("n", R"({"type":"integer","allOf":[{"minimum":5}]})"),
       R"({"spec":{"n":3}})",
       {"spec.n: Invalid value: 3: spec.n in body should be greater than or equal to 5",
        R"(<nil>: Invalid value: "": "spec.n" must validate all the schemas (allOf). None validated)"}},
      {"not",
       SpecWith("n", R"({"type":"integer","not":{"enum":[0]}})"),
       R"({"spec":{"n":0}})",
       {R"(<nil>: Invalid value: "": "spec.n" must not validate the schema (not))"}},
      {"list-type set",
       SpecWith("tags", R"({"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"set"})"),
       R"({"spec":{"tags":["a","b","a","a"]}})",
       {R"(spec.tags[2]: Duplicate value: "a")"}},
      {"list-type map",
       SpecWith("ports", R"({"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
                             "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"port":{"type":"integer"}}}})"),
       R"({"spec":{"ports":[{"name":"a","port":1},{"name":"b","port":2},{"name":"a","port":3}]}})",
       {R"(spec.ports[2]: Duplicate value: {"name":"a"})"}},
      {"list-type map with two keys",
       SpecWith("ports",
                R"({"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["port","protocol"],
                             "items":{"type":"object","properties":{"port":{"type":"integer"},"protocol":{"type":"string"}}}})"),
       R"({"spec":{"ports":[{"port":80,"protocol":"TCP"},{"port":80,"protocol":"UDP"},{"port":80,"protocol":"TCP"}]}})",
       {R"(spec.ports[2]: Duplicate value: {"port":80,"protocol":"TCP"})"}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Errors(Json::parse(c.obj), c.schema), c.want) << c.name;
  }
}

TEST(ValidateTest, StatusIsValidatedUnderItsPath) {
  const Json status_schema = Json::parse(R"({"type":"object","properties":{"replicas":{"type":"integer"}}})");
  EXPECT_EQ(Errors(Json::parse(R"({"replicas":"x"})"), status_schema, "status"),
            std::vector<std::string>{
                R"(status.replicas: Invalid value: "string": replicas in body must be of type integer: "string")"});
}

TEST(ValidateTest, CauseReasons) {
  validation::ErrorList errs;
  Validate(Json::parse(R"({"spec":{}})"), SpecWith("name", R"({"type":"string"})", R"("required":["name"],)"),
           validation::Path(), errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].Reason(), "FieldValueRequired");
  EXPECT_EQ(errs[0].field, "spec.name");
}

TEST(CELWarningsTest, OneWarningPerRuleLocation) {
  const Json schema = Json::parse(R"({"type":"object","x-kubernetes-validations":[{"rule":"true"}],
      "properties":{"spec":{"type":"object","x-kubernetes-validations":[{"rule":"self.a <= self.b"},{"rule":"true"}],
        "properties":{"l":{"type":"array","items":{"type":"string","x-kubernetes-validations":[{"rule":"self != ''"}]}}}}}})");
  EXPECT_EQ(CELWarnings(schema),
            (std::vector<std::string>{"CEL validation rules are not evaluated by kubes",
                                      "spec: CEL validation rules are not evaluated by kubes",
                                      "spec.l[*]: CEL validation rules are not evaluated by kubes"}));
  EXPECT_TRUE(CELWarnings(SpecWith("a", R"({"type":"string"})")).empty());
}

}  // namespace
}  // namespace kubes::crd
