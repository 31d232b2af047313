#include "apiserver/crd/crd_schema.h"

#include <gtest/gtest.h>

namespace kubes::crd {
namespace {

std::vector<std::string> Errors(const Json& schema, const std::string& path = "") {
  std::vector<std::string> out;
  for (const auto& e : ValidateSchema(schema, validation::Path(path))) out.push_back(e.ToString());
  return out;
}

struct Case {
  const char* name;
  const char* schema;
  std::vector<std::string> want;
};

TEST(CheckStructuralTest, Table) {
  const Case cases[] = {
      {"crontab from the docs",
       R"({"type":"object","properties":{"spec":{"type":"object","properties":{
            "cronSpec":{"type":"string","pattern":"^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
            "image":{"type":"string"},"replicas":{"type":"integer","minimum":1,"maximum":10}}}}})",
       {}},
      {"docs non-structural example 3",
       R"({"properties":{"foo":{"pattern":"abc"},
            "metadata":{"type":"object","properties":{"name":{"type":"string","pattern":"^a"},
              "finalizers":{"type":"array","items":{"type":"string","pattern":"my-finalizer"}}}}},
           "anyOf":[{"properties":{"bar":{"type":"integer","minimum":42}},"required":["bar"],
                     "description":"foo bar object"}]})",
       {"anyOf[0].description: Forbidden: must be empty to be structural",
        "anyOf[0].properties[bar].type: Forbidden: must be empty to be structural",
        "properties[bar]: Required value: because it is defined in anyOf[0].properties[bar]",
        "properties[foo].type: Required value: must not be empty for specified object fields",
        "properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is "
        "implicitly specified",
        "type: Required value: must not be empty at the root"}},
      {"docs structural counterpart of example 3",
       R"({"type":"object","description":"foo bar object","properties":{"foo":{"type":"string","pattern":"abc"},
            "bar":{"type":"integer"},"metadata":{"type":"object","properties":{"name":{"type":"string","pattern":"^a"}}}},
           "anyOf":[{"properties":{"bar":{"minimum":42}},"required":["bar"]}]})",
       {}},
      {"docs non-structural example 2: items only inside allOf",
       R"({"type":"array","allOf":[{"items":{"properties":{"foo":{}}}}]})",
       {"items: Required value: because it is defined in allOf[0].items", "items: Required value: must be specified",
        "type: Invalid value: \"array\": must be object at the root"}},
      {"fields inside allOf must be specified outside",
       R"({"type":"object","properties":{"l":{"type":"array","items":{"type":"object"}}},
           "allOf":[{"properties":{"l":{"items":{"properties":{"foo":{}}}}}}]})",
       {"properties[l].items.properties[foo]: Required value: because it is defined in "
        "allOf[0].properties[l].items.properties[foo]"}},
      {"array without items",
       R"({"type":"object","properties":{"tags":{"type":"array"}}})",
       {"properties[tags].items: Required value: must be specified"}},
      {"item without type",
       R"({"type":"object","properties":{"tags":{"type":"array","items":{}}}})",
       {"properties[tags].items.type: Required value: must not be empty for specified array items"}},
      {"root must be an object",
       R"({"type":"string"})",
       {"type: Invalid value: \"string\": must be object at the root"}},
      {"additionalProperties at the root",
       R"({"type":"object","additionalProperties":{"type":"string"}})",
       {"additionalProperties: Forbidden: must not be used at the root"}},
      {"$ref is refused without structural noise",
       R"({"type":"object","properties":{"foo":{"$ref":"#/definitions/x"}}})",
       {"properties[foo].$ref: Forbidden: $ref is not supported"}},
      {"root nullable",
       R"({"type":"object","nullable":true})",
       {"nullable: Forbidden: nullable cannot be true at the root"}},
      {"uniqueItems",
       R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"},"uniqueItems":true}}})",
       {"properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity "
        "becomes quadratic"}},
      {"additionalProperties next to properties",
       R"({"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string"}},
            "additionalProperties":{"type":"string"}}}})",
       {"properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"}},
      {"unknown type",
       R"({"type":"object","properties":{"a":{"type":"strin"}}})",
       {"properties[a].type: Unsupported value: \"strin\": supported values: \"array\", \"boolean\", \"integer\", "
        "\"number\", \"object\", \"string\""}},
      {"metadata may restrict name only",
       R"({"type":"object","properties":{"metadata":{"type":"object","properties":{"name":{"type":"string","maxLength":20}}}}})",
       {}},
      {"default in top-level metadata",
       R"({"type":"object","properties":{"metadata":{"type":"object","default":{"name":"x"}}}})",
       {"properties[metadata].default: Forbidden: must not be set in top-level metadata"}},
      {"default with unknown fields",
       R"({"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string"}},"default":{"a":"x","b":"y"}}}})",
       {"properties[spec].default: Invalid value: map[string]interface {}{\"a\":\"x\", \"b\":\"y\"}: must not have "
        "unknown fields"}},
      {"default that does not validate",
       R"({"type":"object","properties":{"replicas":{"type":"integer","maximum":10,"default":20},
            "name":{"type":"integer","default":"x"}}})",
       {"properties[name].default: Invalid value: \"string\":  in body must be of type integer: \"string\"",
        "properties[replicas].default: Invalid value: 20:  in body should be less than or equal to 10"}},
      {"int-or-string patterns",
       R"({"type":"object","properties":{"a":{"x-kubernetes-int-or-string":true},
            "b":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]},
            "c":{"x-kubernetes-int-or-string":true,"allOf":[{"anyOf":[{"type":"integer"},{"type":"string"}]},{"pattern":"^[0-9]+%?$"}]}}})",
       {}},
      {"int-or-string with preserve-unknown-fields",
       R"({"type":"object","properties":{"a":{"x-kubernetes-int-or-string":true,"x-kubernetes-preserve-unknown-fields":true}}})",
       {"properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if "
        "x-kubernetes-int-or-string is true"}},
      {"embedded resource needs type object",
       R"({"type":"object","properties":{"foo":{"x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}}})",
       {"properties[foo].type: Required value: must be object if x-kubernetes-embedded-resource is true"}},
      {"embedded resource without fields or preserve",
       R"({"type":"object","properties":{"foo":{"type":"object","x-kubernetes-embedded-resource":true}}})",
       {"properties[foo].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true "
        "without x-kubernetes-preserve-unknown-fields"}},
      {"list-type map without keys",
       R"({"type":"object","properties":{"ports":{"type":"array","x-kubernetes-list-type":"map",
            "items":{"type":"object","properties":{"name":{"type":"string"}}}}}})",
       {"properties[ports].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is "
        "map"}},
      {"list-map key neither required nor defaulted",
       R"({"type":"object","properties":{"ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name","missing"],
            "items":{"type":"object","properties":{"name":{"type":"string"}}}}}})",
       {"properties[ports].x-kubernetes-list-map-keys: Invalid value: []string{\"name\", \"missing\"}: entries must "
        "all be names of item properties",
        "properties[ports].items.properties[name].default: Required value: this property is in "
        "x-kubernetes-list-map-keys, so it must have a default or be a required property"}},
      {"list-type on a non-array",
       R"({"type":"object","properties":{"a":{"type":"string","x-kubernetes-list-type":"set"}}})",
       {"properties[a].type: Invalid value: \"string\": must be array if x-kubernetes-list-type is specified"}},
      {"unknown list-type",
       R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"bag"}}})",
       {"properties[a].x-kubernetes-list-type: Unsupported value: \"bag\": supported values: \"atomic\", \"set\", "
        "\"map\""}},
      {"validation rule without rule",
       R"({"type":"object","x-kubernetes-validations":[{"message":"x"}]})",
       {"x-kubernetes-validations[0].rule: Required value: rule is not specified"}},
      {"wrongly typed keyword",
       R"({"type":"object","properties":{"a":{"type":5}}})",
       {"properties[a].type: Invalid value: 5: must be a string"}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Errors(Json::parse(c.schema)), c.want) << c.name;
  }
}

TEST(CheckStructuralTest, InvalidPatternIsReported) {
  auto errs = Errors(Json::parse(R"({"type":"object","properties":{"a":{"type":"string","pattern":"(abc"}}})"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind(
                "properties[a].pattern: Invalid value: \"(abc\": must be a valid regular expression, but isn't: ", 0),
            0u)
      << errs[0];
}

TEST(CheckStructuralTest, PathsArePrefixedByTheCaller) {
  EXPECT_EQ(Errors(Json::parse(R"({"properties":{}})"), "spec.versions[0].schema.openAPIV3Schema"),
            std::vector<std::string>{
                "spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root"});
}

TEST(CheckStructuralTest, StatusCarriesCauses) {
  EXPECT_TRUE(CheckStructural(Json::parse(R"({"type":"object"})")).ok());
  Status s = CheckStructural(Json::parse(R"({"properties":{"a":{}}})"));
  ASSERT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(),
            "[properties[a].type: Required value: must not be empty for specified object fields, "
            "type: Required value: must not be empty at the root]");
  ASSERT_EQ(s.causes().size(), 2u);
  EXPECT_EQ(s.causes()[0].field, "properties[a].type");
  EXPECT_EQ(s.causes()[0].reason, "FieldValueRequired");
}

TEST(CheckStructuralTest, DeepNestingIsRefused) {
  Json schema = Json::object();
  for (int i = 0; i < 300; ++i) schema = Json{{"type", "object"}, {"properties", {{"a", schema}}}};
  auto errs = Errors(schema);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("Forbidden: must not be nested more than 256 levels deep"), std::string::npos) << errs[0];
}

TEST(CheckStructuralTest, NonObjectsNeverCrash) {
  for (const char* doc : {"null", "5", "[]", R"({"properties":[1]})", R"({"items":[{"type":1}]})", R"({"allOf":{}})"}) {
    EXPECT_FALSE(CheckStructural(Json::parse(doc)).ok()) << doc;
  }
}

}  // namespace
}  // namespace kubes::crd
