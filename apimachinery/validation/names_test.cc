#include "apimachinery/validation/names.h"

#include <gtest/gtest.h>

namespace kubes::validation {
namespace {

TEST(NamesTest, DNS1123Subdomain) {
  EXPECT_TRUE(IsDNS1123Subdomain("web").empty());
  EXPECT_TRUE(IsDNS1123Subdomain("a.b-c.d").empty());
  EXPECT_FALSE(IsDNS1123Subdomain("Web").empty());
  EXPECT_FALSE(IsDNS1123Subdomain("-web").empty());
  EXPECT_FALSE(IsDNS1123Subdomain("a..b").empty());
  EXPECT_FALSE(IsDNS1123Subdomain("").empty());
  EXPECT_EQ(IsDNS1123Subdomain(std::string(254, 'a'))[0], "must be no more than 253 characters");
}

TEST(NamesTest, QualifiedNameAndLabelValue) {
  EXPECT_TRUE(IsQualifiedName("app").empty());
  EXPECT_TRUE(IsQualifiedName("app.kubernetes.io/name").empty());
  EXPECT_FALSE(IsQualifiedName("/name").empty());
  EXPECT_FALSE(IsQualifiedName("a/b/c").empty());
  EXPECT_FALSE(IsQualifiedName("-x").empty());
  EXPECT_TRUE(IsValidLabelValue("").empty());
  EXPECT_TRUE(IsValidLabelValue("v1.2_x").empty());
  EXPECT_FALSE(IsValidLabelValue("a b").empty());
}

TEST(NamesTest, ObjectMetaMessages) {
  ErrorList errs;
  ValidateObjectMeta(Json{{"name", "Bad_Name"}, {"namespace", "default"}}, true, NameRule::kDNS1123Subdomain,
                     Path("metadata"), errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].field, "metadata.name");
  EXPECT_EQ(errs[0].ToString().substr(0, 50), "metadata.name: Invalid value: \"Bad_Name\": a lowerc");

  errs.clear();
  ValidateObjectMeta(Json::object(), true, NameRule::kDNS1123Subdomain, Path("metadata"), errs);
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0].ToString(), "metadata.name: Required value: name or generateName is required");
  EXPECT_EQ(errs[1].ToString(), "metadata.namespace: Required value");

  errs.clear();
  ValidateObjectMeta(Json{{"generateName", "web-"}, {"namespace", "x"}}, true, NameRule::kDNS1123Subdomain,
                     Path("metadata"), errs);
  EXPECT_TRUE(errs.empty());
}

TEST(NamesTest, InvalidStatusMessage) {
  ErrorList errs = {InvalidValue(Path("spec").Child("replicas"), -1, "must be greater than or equal to 0")};
  Status s = NewInvalid("Deployment.apps", "web", errs);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(),
            "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0");
  EXPECT_EQ(s.details().kind, "Deployment");
  EXPECT_EQ(s.details().group, "apps");
  ASSERT_EQ(s.causes().size(), 1u);
  EXPECT_EQ(s.causes()[0].reason, "FieldValueInvalid");
  EXPECT_EQ(s.causes()[0].field, "spec.replicas");
}

}  // namespace
}  // namespace kubes::validation
