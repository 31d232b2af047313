// The built-in resources: one line each, then the per-kind strategy hooks that
// differ from the defaults (see strategies in registry/core.cc, registry/apps.cc, ...).
#include <cstdio>
#include <cstdlib>

#include "apiserver/printers/printers.h"
#include "apiserver/registry/autoscaling_conversion.h"
#include "apiserver/registry/resource.h"
#include "apiserver/registry/strategies.h"

namespace kubes::apiserver {
namespace {

struct Builtin {
  const char* group;
  const char* version;
  const char* kind;
  const char* resource;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool namespaced;
  std::vector<std::string> subresources;
};

constexpr bool kNamespaced = true;
constexpr bool kCluster = false;

// Order matters for discovery: groups appear in this order (upstream's group
// priority), and the first version of a group is its preferred one. Resources within
// a group version are listed alphabetically by discovery, as upstream does.
const std::vector<Builtin>& Builtins() {
  static const std::vector<Builtin> b = {
      {"", "v1", "Namespace", "namespaces", {"ns"}, {}, kCluster, {"status", "finalize"}},
      {"", "v1", "Node", "nodes", {"no"}, {}, kCluster, {"status", "proxy"}},
      {"", "v1", "Pod", "pods", {"po"}, {"all"}, kNamespaced,
       {"status", "ephemeralcontainers", "log", "exec", "attach", "portforward", "eviction", "binding"}},
      {"", "v1", "PodTemplate", "podtemplates", {}, {}, kNamespaced, {}},
      {"", "v1", "ReplicationController", "replicationcontrollers", {"rc"}, {"all"}, kNamespaced, {"status", "scale"}},
      {"", "v1", "Service", "services", {"svc"}, {"all"}, kNamespaced, {"status"}},
      {"", "v1", "Endpoints", "endpoints", {"ep"}, {}, kNamespaced, {}},
      {"", "v1", "ConfigMap", "configmaps", {"cm"}, {}, kNamespaced, {}},
      {"", "v1", "Secret", "secrets", {}, {}, kNamespaced, {}},
      {"", "v1", "ServiceAccount", "serviceaccounts", {"sa"}, {}, kNamespaced, {"token"}},
      {"", "v1", "Event", "events", {"ev"}, {}, kNamespaced, {}},
      {"", "v1", "PersistentVolume", "persistentvolumes", {"pv"}, {}, kCluster, {"status"}},
      {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", {"pvc"}, {}, kNamespaced, {"status"}},
      {"", "v1", "LimitRange", "limitranges", {"limits"}, {}, kNamespaced, {}},
      {"", "v1", "ResourceQuota", "resourcequotas", {"quota"}, {}, kNamespaced, {"status"}},
      {"apps", "v1", "Deployment", "deployments", {"deploy"}, {"all"}, kNamespaced, {"status", "scale"}},
      {"apps", "v1", "ReplicaSet", "replicasets", {"rs"}, {"all"}, kNamespaced, {"status", "scale"}},
      {"apps", "v1", "StatefulSet", "statefulsets", {"sts"}, {"all"}, kNamespaced, {"status", "scale"}},
      {"apps", "v1", "DaemonSet", "daemonsets", {"ds"}, {"all"}, kNamespaced, {"status"}},
      {"apps", "v1", "ControllerRevision", "controllerrevisions", {}, {}, kNamespaced, {}},
      {"events.k8s.io", "v1", "Event", "events", {"ev"}, {}, kNamespaced, {}},
      {"authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", {}, {}, kCluster, {}},
      {"authentication.k8s.io", "v1", "TokenReview", "tokenreviews", {}, {}, kCluster, {}},
      {"authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", {}, {}, kCluster, {}},
      {"authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", {}, {}, kCluster, {}},
      {"authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", {}, {}, kCluster, {}},
      {"authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", {}, {}, kNamespaced, {}},
      {"autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", {"hpa"}, {"all"}, kNamespaced, {"status"}},
      {"autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", {"hpa"}, {"all"}, kNamespaced, {"status"}},
      {"batch", "v1", "Job", "jobs", {}, {"all"}, kNamespaced, {"status"}},
      {"batch", "v1", "CronJob", "cronjobs", {"cj"}, {"all"}, kNamespaced, {"status"}},
      {"networking.k8s.io", "v1", "Ingress", "ingresses", {"ing"}, {}, kNamespaced, {"status"}},
      {"networking.k8s.io", "v1", "IngressClass", "ingressclasses", {}, {}, kCluster, {}},
      {"networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", {"netpol"}, {}, kNamespaced, {}},
      {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", {"pdb"}, {}, kNamespaced, {"status"}},
      {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", {}, {}, kCluster, {}},
      {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", {}, {}, kCluster, {}},
      {"rbac.authorization.k8s.io", "v1", "Role", "roles", {}, {}, kNamespaced, {}},
      {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", {}, {}, kNamespaced, {}},
      {"storage.k8s.io", "v1", "StorageClass", "storageclasses", {"sc"}, {}, kCluster, {}},
      {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", {"crd", "crds"}, {}, kCluster, {"status"}},
      {"scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", {"pc"}, {}, kCluster, {}},
      {"coordination.k8s.io", "v1", "Lease", "leases", {}, {}, kNamespaced, {}},
      {"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", {}, {}, kNamespaced, {}},
      // Served from the kubelets' measurements, not from storage (metrics/).
      {"metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", {}, {}, kCluster, {}},
      {"metrics.k8s.io", "v1beta1", "PodMetrics", "pods", {}, {}, kNamespaced, {}},
  };
  return b;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void RegisterBuiltins(Registry& reg, const api::SchemaRegistry& schemas) {
  for (const auto& b : Builtins()) {
    auto r = std::make_shared<ResourceInfo>();
    r->group = b.group;
    r->version = b.version;
    r->kind = b.kind;
    r->resource = b.resource;
    r->singular = Lower(b.kind);
    r->short_names = b.short_names;
    r->categories = b.categories;
    r->namespaced = b.namespaced;
    r->subresources = b.subresources;
    r->schema = schemas.FindKind(r->group, r->version, r->kind);
    if (r->schema == nullptr) {
      std::fprintf(stderr, "kubes: no schema for built-in kind %s/%s %s\n", b.group, b.version, b.kind);
      std::abort();
    }
    r->printer = FindPrinter(r->group, r->kind);
    // The review APIs answer a question per request and store nothing.
    if (r->group == "authentication.k8s.io" || r->group == "authorization.k8s.io") r->verbs = {"create"};
    if (r->group == "metrics.k8s.io") r->verbs = {"get", "list"};
    ApplyStrategy(*r);
    if (r->group == "autoscaling" && r->version == "v1") {
      r->from_storage = HorizontalPodAutoscalerToV1;
      r->to_storage = HorizontalPodAutoscalerToV2;
    }
    reg.Add(std::move(r));
  }
}

}  // namespace kubes::apiserver
