// ServiceAccount (upstream plugin/pkg/admission/serviceaccount): a Pod runs as a
// service account ("default" unless it names one), which must exist; unless
// automountServiceAccountToken is false, the Pod gets a projected volume
// kube-api-access-<random> (a bound token, the cluster CA, its namespace) mounted
// read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container.
#include <chrono>
#include <thread>

#include "apiserver/admission/admission.h"
#include "util/random.h"

namespace kubes::apiserver::admission {
namespace {

constexpr const char* kMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

Json TokenVolume(const std::string& name) {
  return {{"name", name},
          {"projected",
           {{"defaultMode", 420},
            {"sources",
             Json::array({{{"serviceAccountToken", {{"expirationSeconds", 3607}, {"path", "token"}}}},
                          {{"configMap", {{"name", "kube-root-ca.crt"}, {"items", Json::array({{{"key", "ca.crt"}, {"path", "ca.crt"}}})}}}},
                          {{"downwardAPI",
                            {{"items", Json::array({{{"path", "namespace"},
                                                     {"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", "metadata.namespace"}}}}})}}}}})}}}};
}

bool HasMountAt(const Json& container, const std::string& path) {
  for (const auto& m : container.value("volumeMounts", Json::array())) {
    if (m.value("mountPath", "") == path) return true;
  }
  return false;
}

class ServiceAccount : public Plugin {
 public:
  const char* Name() const override { return "ServiceAccount"; }
  Status Admit(const Attributes& a, Json& pod, const ObjectReader& reader) override {
    if (a.operation != "CREATE" || a.resource.group != "" || a.resource.kind != "Pod" || !a.subresource.empty()) {
      return Status::OK();
    }
    Json& spec = pod["spec"];
    if (!spec.is_object()) return Status::OK();
    std::string sa = spec.value("serviceAccountName", "");
    if (sa.empty()) sa = spec.value("serviceAccount", "");
    if (sa.empty()) sa = "default";
    spec["serviceAccountName"] = sa;
    spec["serviceAccount"] = sa;
    ObjectPtr account = reader.Get("", "serviceaccounts", a.namespace_, sa);
    // A namespace made a moment ago may not have its default account yet: the service
    // account controller creates it within milliseconds, so wait a little for it.
    for (int i = 0; !account && sa == "default" && i < 100; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      account = reader.Get("", "serviceaccounts", a.namespace_, sa);
    }
    if (!account) {
      return Forbidden(a, "error looking up service account " + a.namespace_ + "/" + sa + ": serviceaccount \"" + sa +
                              "\" not found");
    }
    bool automount = spec.value("automountServiceAccountToken",
                                account->object.value("automountServiceAccountToken", true));
    if (!automount) return Status::OK();
    for (const char* list : {"initContainers", "containers"}) {
      for (const auto& c : spec.value(list, Json::array())) {
        if (HasMountAt(c, kMountPath)) return Status::OK();  // the user mounted their own
      }
    }
    std::string volume = "kube-api-access-" + RandomSuffix(5);
    if (!spec.contains("volumes")) spec["volumes"] = Json::array();
    spec["volumes"].push_back(TokenVolume(volume));
    for (const char* list : {"initContainers", "containers"}) {
      if (!spec.contains(list)) continue;
      for (auto& c : spec[list]) {
        if (!c.contains("volumeMounts")) c["volumeMounts"] = Json::array();
        c["volumeMounts"].push_back({{"name", volume}, {"readOnly", true}, {"mountPath", kMountPath}});
      }
    }
    return Status::OK();
  }
};

}  // namespace

std::shared_ptr<Plugin> NewServiceAccount() { return std::make_shared<ServiceAccount>(); }

}  // namespace kubes::apiserver::admission
