#include "apiserver/patch/strategic_merge_patch.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "apiserver/patch/patch_util.h"

namespace kubes::apiserver::patch {
namespace {

// A cut-down apps/v1 Deployment with the patch metadata of the real types.
const char* kMetaSchema = R"(package io.k8s.apimachinery.pkg.apis.meta.v1
group meta
version v1
type ObjectMeta "Metadata."
  name             string             1   "Name."
  labels           map[string]string  11  "Labels."
  annotations      map[string]string  12  "Annotations."
  ownerReferences  []OwnerReference   13  merge=uid  "Owners."
  finalizers       []string           14  patch=merge  "Cleanup steps."
type OwnerReference "An owner."
  apiVersion  string  5  "Group and version."
  kind        string  1  "Kind."
  name        string  3  "Name."
  uid         string  4  "UID."
  controller  bool    6  ptr  "Whether the owner manages this object."
type LabelSelector "A label query."
  matchLabels  map[string]string  1  "Labels to match."
)";

const char* kCoreSchema = R"(package io.k8s.api.core.v1
group core
version v1
type PodTemplateSpec "A Pod blueprint."
  metadata  meta.ObjectMeta  1  "Metadata."
  spec      PodSpec          2  "Spec."
type PodSpec "A Pod spec."
  volumes       []Volume           1  merge=name patch=merge,retainKeys  "Volumes."
  containers    []Container        2  merge=name  "Containers."
  nodeSelector  map[string]string  7  "Node labels."
  tolerations   []Toleration       22  "An atomic list."
type Container "A container."
  name   string           1  "Name."
  image  string           2  "Image."
  args   []string         4  "Arguments."
  ports  []ContainerPort  6  merge=containerPort  "Ports."
  env    []EnvVar         7  merge=name  "Environment."
type ContainerPort "A port."
  name           string  1  "Name."
  containerPort  int32   3  "Number."
  protocol       string  4  "Protocol."
type EnvVar "A variable."
  name   string  1  "Name."
  value  string  2  "Value."
type Volume "A volume."
  name       string                 1  "Name."
  emptyDir   EmptyDirVolumeSource   2  ptr  "Scratch space."
  configMap  ConfigMapVolumeSource  3  ptr  "A ConfigMap."
type EmptyDirVolumeSource "Scratch space."
  medium  string  1  "Medium."
type ConfigMapVolumeSource "A ConfigMap."
  name  string  1  "Name."
type Toleration "A toleration."
  key  string  1  "Key."
)";

const char* kAppsSchema = R"(package io.k8s.api.apps.v1
group apps
version v1
type Deployment object "A Deployment."
  metadata  meta.ObjectMeta  1  "Metadata."
  spec      DeploymentSpec   2  "Spec."
type DeploymentSpec "Spec."
  replicas  int32                 1  ptr  "Replicas."
  selector  meta.LabelSelector    2  patch=replace  "Replaced, never merged (as PodDisruptionBudget's)."
  template  core.PodTemplateSpec  3  "Template."
  strategy  DeploymentStrategy    4  patch=retainKeys  "Strategy."
  extra     any                   20  "Free-form JSON."
type DeploymentStrategy "Strategy."
  type           string                   1  "Type."
  rollingUpdate  RollingUpdateDeployment  2  ptr  "Rolling update settings."
type RollingUpdateDeployment "Rolling update settings."
  maxUnavailable  IntOrString  1  ptr  "Max unavailable."
  maxSurge        IntOrString  2  ptr  "Max surge."
)";

const api::TypeSchema& Deployment() {
  static const auto* registry = [] {
    auto parsed = api::SchemaRegistry::Parse({{"meta.schema", kMetaSchema},
                                              {"core.schema", kCoreSchema},
                                              {"apps.schema", kAppsSchema}});
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return std::move(parsed).value().release();
  }();
  return *registry->FindKind("apps", "v1", "Deployment");
}

// True when any object key in `v` is a strategic merge patch directive.
bool HasDirectiveKeys(const Json& v) {
  if (v.is_array()) {
    for (const Json& e : v) {
      if (HasDirectiveKeys(e)) return true;
    }
  }
  if (!v.is_object()) return false;
  for (auto it = v.begin(); it != v.end(); ++it) {
    std::string_view k = it.key();
    if (k == "$patch" || k == "$retainKeys" || k.rfind("$setElementOrder", 0) == 0 ||
        k.rfind("$deleteFromPrimitiveList", 0) == 0 || HasDirectiveKeys(it.value())) {
      return true;
    }
  }
  return false;
}

struct Case {
  const char* name;
  const char* original;
  const char* patch;
  const char* want;
};

const Case kCases[] = {
    // ---- what kubectl sends
    {"kubectl set image: change one container's image",
     R"({"spec":{"template":{"spec":{"containers":[
          {"name":"web","image":"nginx:1.25","env":[{"name":"A","value":"1"}]},
          {"name":"log","image":"busybox"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[
          {"name":"web","image":"nginx:1.27","env":[{"name":"A","value":"1"}]},
          {"name":"log","image":"busybox"}]}}}})"},
    {"kubectl patch: add an env var (without $setElementOrder new items go first)",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"}]}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"B","value":"2"}]}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[
          {"name":"web","env":[{"name":"B","value":"2"},{"name":"A","value":"1"}]}]}}}})"},
    {"kubectl apply: add an env var, order set by $setElementOrder",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"}]}]}}}})",
     R"({"spec":{"template":{"spec":{
          "$setElementOrder/containers":[{"name":"web"}],
          "containers":[{"name":"web","$setElementOrder/env":[{"name":"A"},{"name":"B"}],
                         "env":[{"name":"B","value":"2"}]}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[
          {"name":"web","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}}})"},
    {"kubectl apply: delete a container with $patch: delete",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web"},{"name":"log"}]}}}})",
     R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],
          "containers":[{"$patch":"delete","name":"log"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web"}]}}}})"},
    {"$setElementOrder reorders without changing items",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"a"},{"name":"log","image":"b"}]}}}})",
     R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"log"},{"name":"web"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"log","image":"b"},{"name":"web","image":"a"}]}}}})"},
    {"$setElementOrder keeps server-only items near their old neighbours",
     R"({"spec":{"template":{"spec":{"containers":[
          {"name":"1","image":"a"},{"name":"2"},{"name":"7"},{"name":"9"},{"name":"8"},{"name":"3"},{"name":"4"}]}}}})",
     R"({"spec":{"template":{"spec":{
          "$setElementOrder/containers":[{"name":"2"},{"name":"1"},{"name":"4"},{"name":"3"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[
          {"name":"2"},{"name":"1","image":"a"},{"name":"7"},{"name":"9"},{"name":"8"},{"name":"4"},{"name":"3"}]}}}})"},
    {"kubectl apply adds a container; the server-only sidecar stays last",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"sidecar"}]}}}})",
     R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"c"}],
          "containers":[{"name":"c"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"c"},{"name":"sidecar"}]}}}})"},
    {"kubectl apply swaps a container; the new one takes the deleted one's slot, after the sidecar",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"d"},{"name":"sidecar"}]}}}})",
     R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"c"}],
          "containers":[{"name":"c"},{"$patch":"delete","name":"d"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"sidecar"},{"name":"c"}]}}}})"},
    {"kubectl label app-: null deletes a label", R"({"metadata":{"labels":{"app":"web","tier":"front"}}})",
     R"({"metadata":{"labels":{"tier":null}}})", R"({"metadata":{"labels":{"app":"web"}}})"},
    {"kubectl scale: a scalar is replaced", R"({"spec":{"replicas":1}})", R"({"spec":{"replicas":3}})",
     R"({"spec":{"replicas":3}})"},
    {"$retainKeys: strategy RollingUpdate -> Recreate",
     R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}}}})",
     R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}})",
     R"({"spec":{"strategy":{"type":"Recreate"}}})"},
    {"$retainKeys clears keys the patch does not mention",
     R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
     R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
     R"({"spec":{"strategy":{"type":"Recreate"}}})"},
    {"$retainKeys on list items (volumes are merge,retainKeys)",
     R"({"spec":{"template":{"spec":{"volumes":[{"name":"v","emptyDir":{}}]}}}})",
     R"({"spec":{"template":{"spec":{"volumes":[
          {"name":"v","$retainKeys":["configMap","name"],"configMap":{"name":"cm"}}]}}}})",
     R"({"spec":{"template":{"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}}]}}}})"},
    {"finalizers: $deleteFromPrimitiveList", R"({"metadata":{"finalizers":["a","b","c"]}})",
     R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"]}})", R"({"metadata":{"finalizers":["a","c"]}})"},
    {"finalizers: $deleteFromPrimitiveList with $setElementOrder", R"({"metadata":{"finalizers":["a","b","c"]}})",
     R"({"metadata":{"$setElementOrder/finalizers":["c","a"],"$deleteFromPrimitiveList/finalizers":["b"]}})",
     R"({"metadata":{"finalizers":["c","a"]}})"},
    {"finalizers merge as a set", R"({"metadata":{"finalizers":["a","b"]}})",
     R"({"metadata":{"finalizers":["c","a"]}})", R"({"metadata":{"finalizers":["c","a","b"]}})"},
    {"$deleteFromPrimitiveList of a missing list adds nothing", R"({"metadata":{}})",
     R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["x"]}})", R"({"metadata":{}})"},
    {"ownerReferences merge by uid",
     R"({"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"A","name":"a","uid":"u1"}]}})",
     R"({"metadata":{"ownerReferences":[{"uid":"u1","controller":true},
                                       {"apiVersion":"v1","kind":"B","name":"b","uid":"u2"}]}})",
     R"({"metadata":{"ownerReferences":[{"apiVersion":"v1","controller":true,"kind":"A","name":"a","uid":"u1"},
                                       {"apiVersion":"v1","kind":"B","name":"b","uid":"u2"}]}})"},
    {"ports merge by an integer key",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"name":"http"}]}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"protocol":"TCP"}]}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[
          {"name":"web","ports":[{"containerPort":80,"name":"http","protocol":"TCP"}]}]}}}})"},
    // ---- lists and maps without merge semantics
    {"a list without a patch strategy is replaced",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","args":["a","b"]}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","args":["c"]}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web","args":["c"]}]}}}})"},
    {"a list of objects without a merge key is replaced",
     R"({"spec":{"template":{"spec":{"tolerations":[{"key":"a"},{"key":"b"}]}}}})",
     R"({"spec":{"template":{"spec":{"tolerations":[{"key":"c"}]}}}})",
     R"({"spec":{"template":{"spec":{"tolerations":[{"key":"c"}]}}}})"},
    {"patch strategy replace: an object is replaced, not merged",
     R"({"spec":{"selector":{"matchLabels":{"a":"1"}}}})", R"({"spec":{"selector":{"matchLabels":{"b":"2"}}}})",
     R"({"spec":{"selector":{"matchLabels":{"b":"2"}}}})"},
    {"type any merges like JSON merge patch",
     R"({"spec":{"extra":{"a":{"b":1,"c":2},"l":[1,2]}}})", R"({"spec":{"extra":{"a":{"c":null,"d":3},"l":[3]}}})",
     R"({"spec":{"extra":{"a":{"b":1,"d":3},"l":[3]}}})"},
    {"unknown fields merge like JSON merge patch", R"({"spec":{"future":{"a":1,"b":[{"name":"x","v":1}]}}})",
     R"({"spec":{"future":{"a":null,"b":[{"name":"x","w":2}]}}})", R"({"spec":{"future":{"b":[{"name":"x","w":2}]}}})"},
    {"an object replaces a scalar, without its nulls", R"({"spec":{"extra":"s"}})",
     R"({"spec":{"extra":{"a":null,"b":1}}})", R"({"spec":{"extra":{"b":1}}})"},
    {"null for a missing key changes nothing", R"({"spec":{}})", R"({"spec":{"paused":null}})", R"({"spec":{}})"},
    // ---- directives
    {"$patch: replace in a list", R"({"spec":{"template":{"spec":{"containers":[{"name":"web"},{"name":"log"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"new","image":"x"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"new","image":"x"}]}}}})"},
    {"$patch: replace in a map", R"({"spec":{"template":{"spec":{"nodeSelector":{"a":"1"}}}}})",
     R"({"spec":{"template":{"spec":{"nodeSelector":{"$patch":"replace","b":"2"}}}}})",
     R"({"spec":{"template":{"spec":{"nodeSelector":{"b":"2"}}}}})"},
    {"$patch: delete in a map empties it", R"({"metadata":{"labels":{"a":"1"}}})",
     R"({"metadata":{"labels":{"$patch":"delete"}}})", R"({"metadata":{"labels":{}}})"},
    {"$patch: delete of an item that is not there", R"({"spec":{"template":{"spec":{"containers":[{"name":"web"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"gone","$patch":"delete"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"web"}]}}}})"},
    {"a new value is applied to nothing: its directives and nulls go", R"({"spec":{}})",
     R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null},
                 "template":{"spec":{"containers":[
                     {"name":"web","image":null,"$setElementOrder/env":[{"name":"A"}],"env":[{"name":"A","value":"1"}]},
                     {"name":"gone","$patch":"delete"}]}}}})",
     R"({"spec":{"strategy":{"type":"Recreate"},
                 "template":{"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"}]}]}}}})"},
    {"a new map with $patch: delete is not created", R"({"metadata":{}})",
     R"({"metadata":{"labels":{"$patch":"delete"}}})", R"({"metadata":{}})"},
    {"a null patch changes nothing", R"({"a":1})", "null", R"({"a":1})"},
    {"$patch: delete at the top empties the object", R"({"a":1})", R"({"$patch":"delete"})", R"({})"},
};

TEST(StrategicMergePatchTest, Apply) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    auto got = StrategicMergePatch(Json::parse(c.original), Json::parse(c.patch), Deployment());
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->dump(), Json::parse(c.want).dump());
    EXPECT_FALSE(HasDirectiveKeys(*got)) << got->dump();
  }
}

struct ErrorCase {
  const char* name;
  const char* original;
  const char* patch;
  Code code;
  const char* message;
};

const ErrorCase kErrorCases[] = {
    {"a list item without its merge key", R"({"spec":{"template":{"spec":{"containers":[{"name":"web"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"image":"nginx"}]}}}})", Code::kInternal,
     "map: map[image:nginx] does not contain declared merge key: name"},
    {"$patch: delete without the merge key", R"({"spec":{"template":{"spec":{"containers":[{"name":"web"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"$patch":"delete"}]}}}})", Code::kInternal,
     "map: map[$patch:delete] does not contain declared merge key: name"},
    {"an unknown $patch in a map", R"({"metadata":{"labels":{}}})", R"({"metadata":{"labels":{"$patch":"frob"}}})",
     Code::kInternal, "unknown patch type: frob in map: map[$patch:frob]"},
    {"$patch: merge in a list", R"({"spec":{"template":{"spec":{"containers":[{"name":"web"}]}}}})",
     R"({"spec":{"template":{"spec":{"containers":[{"$patch":"merge"}]}}}})", Code::kInternal,
     "merging lists cannot yet be specified in the patch"},
    {"$retainKeys that is not a list", R"({"spec":{"strategy":{}}})",
     R"({"spec":{"strategy":{"$retainKeys":"type"}}})", Code::kBadRequest, "invalid patch format of retainKeys"},
    {"$retainKeys that drops a key the patch sets", R"({"spec":{"strategy":{}}})",
     R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{"maxSurge":1}}}})", Code::kBadRequest,
     "invalid patch format of retainKeys"},
    {"$setElementOrder without a list name", R"({"metadata":{}})", R"({"metadata":{"$setElementOrder":[]}})",
     Code::kBadRequest, "invalid patch format of setElementOrder list"},
    {"$deleteFromPrimitiveList without a list name", R"({"metadata":{"finalizers":["a"]}})",
     R"({"metadata":{"$deleteFromPrimitiveListfinalizers":["a"]}})", Code::kBadRequest,
     "invalid patch format of primitive list"},
    {"$setElementOrder that contradicts the patch list",
     R"({"spec":{"template":{"spec":{"containers":[{"name":"a"}]}}}})",
     R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"b"}]}}}})",
     Code::kInternal,
     "The order in patch list:\n[map[name:b]]\n doesn't match $setElementOrder list:\n[map[name:a]]\n"},
    {"lists of lists", R"({"spec":{"extra":[[1]]}})", R"({"spec":{"$deleteFromPrimitiveList/extra":[[1]]}})",
     Code::kInvalid, kRejectedRequestMessage},
    {"mixed element types", R"({"metadata":{"finalizers":["a"]}})", R"({"metadata":{"finalizers":[1]}})",
     Code::kInternal, "list element types are not identical: [[a] [1]]"},
    {"a patch that is not an object", R"({})", R"([1])", Code::kBadRequest,
     "json: cannot unmarshal array into Go value of type map[string]interface {}"},
    {"an original that is not an object", R"([])", R"({})", Code::kBadRequest, "invalid JSON document"},
};

TEST(StrategicMergePatchTest, Errors) {
  for (const auto& c : kErrorCases) {
    SCOPED_TRACE(c.name);
    auto got = StrategicMergePatch(Json::parse(c.original), Json::parse(c.patch), Deployment());
    ASSERT_FALSE(got.ok()) << "got " << got->dump();
    EXPECT_EQ(got.status().code(), c.code) << got.status().ToString();
    EXPECT_EQ(got.status().message(), c.message);
  }
}

TEST(StrategicMergePatchTest, RejectsTooDeepNesting) {
  Json deep = Json::object();
  for (size_t i = 0; i < kMaxNestingDepth + 5; ++i) deep = Json{{"n", std::move(deep)}};
  auto got = StrategicMergePatch(Json::object(), Json{{"spec", {{"extra", deep}}}}, Deployment());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kBadRequest);
}

// The same rules driven by the real, built-in schema.
TEST(StrategicMergePatchTest, BuiltInDeploymentSchema) {
  const api::TypeSchema* deployment = api::SchemaRegistry::BuiltIn().FindKind("apps", "v1", "Deployment");
  ASSERT_NE(deployment, nullptr);
  const Json original = Json::parse(R"({
      "metadata":{"name":"web","finalizers":["a","b"]},
      "spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%"}},
              "template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25"},{"name":"log","image":"b"}]}}}})");
  const Json patch = Json::parse(R"({
      "metadata":{"$deleteFromPrimitiveList/finalizers":["a"]},
      "spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"},
              "template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}})");
  auto got = StrategicMergePatch(original, patch, *deployment);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->dump(), Json::parse(R"({
      "metadata":{"name":"web","finalizers":["b"]},
      "spec":{"strategy":{"type":"Recreate"},
              "template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"},{"name":"log","image":"b"}]}}}})")
                             .dump());
}

}  // namespace
}  // namespace kubes::apiserver::patch
