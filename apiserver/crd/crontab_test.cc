// The CronTab walk-through of the Kubernetes documentation ("Extend the Kubernetes API
// with CustomResourceDefinitions"), run through the same steps the CRD apiserver takes:
// check the schema, then prune, default and validate each object.
#include <gtest/gtest.h>

#include "apiserver/crd/crd_schema.h"
#include "apiserver/crd/defaulting.h"
#include "apiserver/crd/pruning.h"
#include "apiserver/crd/validation.h"

namespace kubes::crd {
namespace {

const Json kSchema = Json::parse(R"({"type":"object","properties":{"spec":{"type":"object","properties":{
    "cronSpec":{"type":"string","pattern":"^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$","default":"5 0 * * *"},
    "image":{"type":"string"},
    "replicas":{"type":"integer","minimum":1,"maximum":10,"default":1}}}}})");

// Decode-time steps, then validation: what a create request goes through.
validation::ErrorList Admit(Json& obj, std::vector<std::string>* unknown = nullptr) {
  std::vector<std::string> pruned = Prune(obj, kSchema);
  if (unknown) *unknown = pruned;
  PruneNonNullableNullsWithoutDefaults(obj, &kSchema);
  ApplyDefaults(obj, kSchema);
  validation::ErrorList errs;
  Validate(obj, kSchema, validation::Path(), errs);
  return errs;
}

TEST(CronTabTest, SchemaIsStructural) { EXPECT_TRUE(CheckStructural(kSchema).ok()); }

TEST(CronTabTest, InvalidObjectIsRejectedWithUpstreamMessages) {
  Json obj =
      Json::parse(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"my-new-cron-object"},
      "spec":{"cronSpec":"* * * *","image":"my-awesome-cron-image","replicas":15}})");
  const auto errs = Admit(obj);
  const Status s = validation::NewInvalid("CronTab.stable.example.com", "my-new-cron-object", errs);
  EXPECT_EQ(s.message(),
            "CronTab.stable.example.com \"my-new-cron-object\" is invalid: ["
            "spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body should match "
            "'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', "
            "spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10]");
  EXPECT_EQ(s.HttpCode(), 422);
}

TEST(CronTabTest, ValidObjectIsAccepted) {
  Json obj =
      Json::parse(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"my-new-cron-object"},
      "spec":{"cronSpec":"* * * * */5","image":"my-awesome-cron-image","replicas":5}})");
  EXPECT_TRUE(Admit(obj).empty());
}

TEST(CronTabTest, UnknownFieldIsPrunedAndReported) {
  Json obj =
      Json::parse(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"my-new-cron-object"},
      "spec":{"cronSpec":"* * * * */5","image":"my-awesome-cron-image","someRandomField":42}})");
  std::vector<std::string> unknown;
  EXPECT_TRUE(Admit(obj, &unknown).empty());
  EXPECT_EQ(unknown, std::vector<std::string>{"spec.someRandomField"});
  EXPECT_FALSE(obj["spec"].contains("someRandomField"));
}

TEST(CronTabTest, DefaultsAreAppliedBeforeValidation) {
  Json obj =
      Json::parse(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"my-new-cron-object"},
      "spec":{"image":"my-awesome-cron-image"}})");
  EXPECT_TRUE(Admit(obj).empty());
  EXPECT_EQ(obj["spec"], Json::parse(R"({"cronSpec":"5 0 * * *","image":"my-awesome-cron-image","replicas":1})"));
}

}  // namespace
}  // namespace kubes::crd
