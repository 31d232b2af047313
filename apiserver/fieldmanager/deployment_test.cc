// Server-side apply on the built-in apps/v1 Deployment, as kubectl users meet it.
#include <gtest/gtest.h>

#include "api/schema.h"
#include "apiserver/fieldmanager/fieldmanager.h"

namespace kubes::apiserver::fieldmanager {
namespace {

constexpr int64_t kT0 = 1700000000;

const api::TypeSchema* Deployment() {
  const api::TypeSchema* t = api::SchemaRegistry::BuiltIn().FindKind("apps", "v1", "Deployment");
  EXPECT_NE(t, nullptr);
  return t;
}

// A Deployment configuration; `containers`, `labels` and `extra_spec` are JSON text.
Json Config(const std::string& containers, const std::string& labels = R"({"app":"web"})",
            const std::string& extra_spec = "{}") {
  Json d = Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"default"},
    "spec":{"selector":{"matchLabels":{"app":"web"}},
            "template":{"metadata":{"labels":{"app":"web"}},"spec":{}}}})");
  d["metadata"]["labels"] = Json::parse(labels);
  d["spec"]["template"]["spec"]["containers"] = Json::parse(containers);
  d["spec"].update(Json::parse(extra_spec));
  return d;
}

const char kNginx[] = R"([{"name":"nginx","image":"nginx:1.25"}])";

Json FieldsOf(const Json& obj, const std::string& manager) {
  for (const Json& e : obj["metadata"].value("managedFields", Json::array())) {
    if (e.value("manager", "") == manager) return e["fieldsV1"];
  }
  return nullptr;
}

Json MustApply(const Json* live, const Json& config, const std::string& manager, int64_t now, bool force = false) {
  auto r = Apply(live, config, manager, force, Deployment(), "apps/v1", now);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->object : Json();
}

TEST(DeploymentTest, CreateRecordsFieldsLikeKubeApiserver) {
  Json created = UpdateManagedFields(nullptr, Config(kNginx, R"({"app":"web"})", R"({"replicas":2})"),
                                     "kubectl-create", kOperationUpdate, "apps/v1", "", kT0, Deployment());
  const Json& fields = created["metadata"]["managedFields"][0]["fieldsV1"];
  // Non-pointer structs (spec, template) and required lists (containers) always exist in
  // Go, so only their contents are new; the new container and its resources struct are.
  EXPECT_FALSE(fields["f:spec"].contains("."));
  EXPECT_FALSE(fields["f:spec"]["f:template"]["f:spec"]["f:containers"].contains("."));
  EXPECT_EQ(fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"],
            Json::parse(R"({".":{},"f:image":{},"f:name":{},"f:resources":{}})"));
  EXPECT_EQ(fields["f:metadata"], Json::parse(R"({"f:labels":{".":{},"f:app":{}}})"));
  EXPECT_EQ(fields["f:spec"]["f:replicas"], Json::object());
}

TEST(DeploymentTest, TwoManagersConflictOnReplicasUntilForced) {
  Json live = UpdateManagedFields(nullptr, Config(kNginx, R"({"app":"web"})", R"({"replicas":2})"),
                                  "kubectl-client-side-apply", kOperationUpdate, "apps/v1", "", kT0, Deployment());
  Json scaled = Config(kNginx, R"({"app":"web"})", R"({"replicas":5})");

  auto conflict = Apply(&live, scaled, "ci-bot", false, Deployment(), "apps/v1", kT0 + 1);
  ASSERT_EQ(conflict.status().code(), Code::kConflict);
  EXPECT_EQ(conflict.status().message(),
            R"(Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas)");
  ASSERT_EQ(conflict.status().causes().size(), 1u);
  EXPECT_EQ(conflict.status().causes()[0].field, ".spec.replicas");

  Json forced = MustApply(&live, scaled, "ci-bot", kT0 + 1, /*force=*/true);
  EXPECT_EQ(forced["spec"]["replicas"], 5);
  EXPECT_FALSE(FieldsOf(forced, "kubectl-client-side-apply")["f:spec"].contains("f:replicas"));
  EXPECT_TRUE(FieldsOf(forced, "ci-bot")["f:spec"].contains("f:replicas"));
  // The image both set to the same value is now shared.
  const char* image_path = "/f:spec/f:template/f:spec/f:containers/k:{\"name\":\"nginx\"}/f:image";
  EXPECT_TRUE(FieldsOf(forced, "ci-bot").contains(Json::json_pointer(image_path)));
  EXPECT_TRUE(FieldsOf(forced, "kubectl-client-side-apply").contains(Json::json_pointer(image_path)));
}

TEST(DeploymentTest, RemovingAContainerOnlyTheApplierOwnedDeletesIt) {
  const char* two = R"([{"name":"nginx","image":"nginx:1.25"},{"name":"sidecar","image":"busybox"}])";
  Json v1 = MustApply(nullptr, Config(two), "app", kT0);
  Json v2 = MustApply(&v1, Config(kNginx), "app", kT0 + 1);
  EXPECT_EQ(v2["spec"]["template"]["spec"]["containers"], Json::parse(kNginx));

  // When another applier also manages the sidecar, it stays.
  Json w2 = MustApply(&v1, Config(R"([{"name":"sidecar","image":"busybox"}])"), "mesh", kT0 + 1);
  Json w3 = MustApply(&w2, Config(kNginx), "app", kT0 + 2);
  EXPECT_EQ(w3["spec"]["template"]["spec"]["containers"], Json::parse(two));
}

TEST(DeploymentTest, LabelsAreOwnedKeyByKey) {
  Json v1 = MustApply(nullptr, Config(kNginx, R"({"app":"web","team":"a"})"), "app", kT0);
  Json v2 = MustApply(&v1, Config(kNginx, R"({"app":"web","tier":"front"})"), "ops", kT0 + 1);
  EXPECT_EQ(v2["metadata"]["labels"], Json::parse(R"({"app":"web","team":"a","tier":"front"})"));
  EXPECT_EQ(FieldsOf(v2, "ops")["f:metadata"], Json::parse(R"({"f:labels":{"f:app":{},"f:tier":{}}})"));
  Json v3 = MustApply(&v2, Config(kNginx, R"({"app":"web"})"), "app", kT0 + 2);
  EXPECT_EQ(v3["metadata"]["labels"], Json::parse(R"({"app":"web","tier":"front"})"));
  // Changing a label another manager set is a conflict.
  auto conflict = Apply(&v3, Config(kNginx, R"({"app":"web","tier":"back"})"), "app", false, Deployment(),
                        "apps/v1", kT0 + 3);
  EXPECT_EQ(conflict.status().message(),
            R"(Apply failed with 1 conflict: conflict with "ops": .metadata.labels.tier)");
}

TEST(DeploymentTest, FinalizersAreASet) {
  Json with_a = Config(kNginx);
  with_a["metadata"]["finalizers"] = {"example.com/a"};
  Json with_b = Config(kNginx);
  with_b["metadata"]["finalizers"] = {"example.com/b"};
  Json v1 = MustApply(nullptr, with_a, "one", kT0);
  Json v2 = MustApply(&v1, with_b, "two", kT0 + 1);
  EXPECT_EQ(v2["metadata"]["finalizers"], Json::parse(R"(["example.com/a","example.com/b"])"));
  EXPECT_EQ(FieldsOf(v2, "two")["f:metadata"]["f:finalizers"], Json::parse(R"({"v:\"example.com/b\"":{}})"));
  Json v3 = MustApply(&v2, Config(kNginx), "one", kT0 + 2);
  EXPECT_EQ(v3["metadata"]["finalizers"], Json::parse(R"(["example.com/b"])"));
}

}  // namespace
}  // namespace kubes::apiserver::fieldmanager
