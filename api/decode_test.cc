#include "api/decode.h"

#include <gtest/gtest.h>

namespace kubes::api {
namespace {

const SchemaRegistry& Reg() { return SchemaRegistry::BuiltIn(); }

TEST(DecodeTest, UnknownFieldsAreReportedWithPathsAndPruned) {
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","bogus":1},
    "spec":{"containers":[{"name":"a","image":"x","imagePullPolicy":"Always","colour":"red"}],"foo":true}})");
  auto report = DecodeCheck(pod, *Reg().FindKind("", "v1", "Pod"));
  EXPECT_EQ(report.unknown_fields,
            (std::vector<std::string>{"metadata.bogus", "spec.containers[0].colour", "spec.foo"}));
  EXPECT_FALSE(pod["spec"].contains("foo"));
  EXPECT_FALSE(pod["spec"]["containers"][0].contains("colour"));
  EXPECT_EQ(pod["spec"]["containers"][0]["image"], "x");
  EXPECT_TRUE(report.type_error.empty());
}

TEST(DecodeTest, FieldsKubesDoesNotActOnAreReportedWhenSet) {
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
    "spec":{"containers":[{"name":"a","image":"x"}],"shareProcessNamespace":true}})");
  EXPECT_EQ(DecodeCheck(pod, *Reg().FindKind("", "v1", "Pod")).unimplemented,
            (std::vector<std::string>{"spec.shareProcessNamespace"}));
  // Switched off, it asks for nothing kubes lacks.
  pod["spec"]["shareProcessNamespace"] = false;
  EXPECT_TRUE(DecodeCheck(pod, *Reg().FindKind("", "v1", "Pod")).unimplemented.empty());
}

TEST(DecodeTest, TypeErrorsReadLikeGo) {
  Json d = Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":"three"}})");
  auto report = DecodeCheck(d, *Reg().FindKind("apps", "v1", "Deployment"));
  EXPECT_EQ(report.type_error,
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32");
}

TEST(DecodeTest, QuantitiesAreChecked) {
  EXPECT_TRUE(IsQuantity("500m"));
  EXPECT_TRUE(IsQuantity("1Gi"));
  EXPECT_TRUE(IsQuantity("1e3"));
  EXPECT_TRUE(IsQuantity("0.5"));
  EXPECT_FALSE(IsQuantity("1GB"));
  EXPECT_FALSE(IsQuantity("abc"));
  EXPECT_FALSE(IsQuantity(""));
  Json pod = Json::parse(R"({"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"lots"}}}]}})");
  auto report = DecodeCheck(pod, *Reg().FindKind("", "v1", "Pod"));
  EXPECT_NE(report.type_error.find("quantities must match"), std::string::npos);
}

TEST(DecodeTest, DefaultsFillMissingScalarsWhereTheParentExists) {
  Json pod = Json::parse(R"({"spec":{"containers":[{"name":"a","image":"x","ports":[{"containerPort":80}]}]}})");
  ApplySchemaDefaults(pod, *Reg().FindKind("", "v1", "Pod"));
  EXPECT_EQ(pod["spec"]["restartPolicy"], "Always");
  EXPECT_EQ(pod["spec"]["terminationGracePeriodSeconds"], 30);
  EXPECT_EQ(pod["spec"]["containers"][0]["terminationMessagePath"], "/dev/termination-log");
  EXPECT_EQ(pod["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
  EXPECT_FALSE(pod.contains("status"));  // absent parents stay absent
}

TEST(DecodeTest, RequiredAndEnum) {
  Json pod = Json::parse(R"({"spec":{"restartPolicy":"Sometimes","containers":[{"image":"x"}]}})");
  validation::ErrorList errs;
  ValidateSchema(pod, *Reg().FindKind("", "v1", "Pod"), validation::Path(), errs);
  std::vector<std::string> got;
  for (auto& e : errs) got.push_back(e.ToString());
  EXPECT_NE(std::find(got.begin(), got.end(), "spec.containers[0].name: Required value"), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(),
                      "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
                      "\"OnFailure\", \"Never\""),
            got.end());
}

TEST(DecodeTest, ImmutableFields) {
  Json old = Json::parse(R"({"spec":{"selector":{"matchLabels":{"app":"a"}}}})");
  Json now = Json::parse(R"({"spec":{"selector":{"matchLabels":{"app":"b"}}}})");
  validation::ErrorList errs;
  ValidateImmutable(now, old, *Reg().FindKind("apps", "v1", "Deployment"), validation::Path(), errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].field, "spec.selector");
}

}  // namespace
}  // namespace kubes::api
