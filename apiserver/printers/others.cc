// Columns of the remaining groups: policy, networking.k8s.io, discovery.k8s.io,
// coordination.k8s.io, rbac.authorization.k8s.io, scheduling.k8s.io and
// apiextensions.k8s.io (upstream printers.go: printPodDisruptionBudget, printIngress, ...).
#include "apiserver/printers/printers.h"

#include <set>

namespace kubes::apiserver {
namespace {

using namespace printers;

// ---- policy -------------------------------------------------------------------------

Json PodDisruptionBudgetRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  auto or_na = [](const Json& v) { return Has(v) ? IntOrString(v) : "N/A"; };
  return Json::array({Name(o), or_na(Get(spec, "minAvailable")), or_na(Get(spec, "maxUnavailable")),
                      Int(Get(o, "status", "disruptionsAllowed")), Age(o, now)});
}

// ---- networking.k8s.io ----------------------------------------------------------------

// HOSTS: up to three rule hosts, "*" when no rule names one (formatHosts).
std::string IngressHosts(const Json& rules) {
  constexpr size_t kMax = 3;
  std::vector<std::string> list;
  bool more = false;
  for (const auto& rule : Items(rules)) {
    if (list.size() == kMax) more = true;
    if (!more && !Str(Get(rule, "host")).empty()) list.push_back(Str(Get(rule, "host")));
  }
  if (list.empty()) return "*";
  std::string out = Join(list, ",");
  return more ? out + " + " + std::to_string(Items(rules).size() - kMax) + " more..." : out;
}

// ADDRESS: the load balancer's IPs or hostnames, as a sorted set.
std::string IngressAddress(const Json& o) {
  std::set<std::string> out;
  for (const auto& ing : Items(Get(o, "status", "loadBalancer", "ingress"))) {
    std::string v = Str(Get(ing, "ip"));
    if (v.empty()) v = Str(Get(ing, "hostname"));
    if (!v.empty()) out.insert(v);
  }
  return Join(std::vector<std::string>(out.begin(), out.end()), ",");
}

Json IngressRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  const Json& class_name = Get(spec, "ingressClassName");
  return Json::array({Name(o), class_name.is_string() ? Str(class_name) : "<none>", IngressHosts(Get(spec, "rules")),
                      IngressAddress(o), Items(Get(spec, "tls")).empty() ? "80" : "80, 443", Age(o, now)});
}

Json IngressClassRow(const Json& o, TimePoint now) {
  const Json& params = Get(o, "spec", "parameters");
  std::string parameters = "<none>";
  if (Has(params)) {
    parameters = Str(Get(params, "kind"));
    if (Get(params, "apiGroup").is_string()) parameters += "." + Str(Get(params, "apiGroup"));
    parameters += "/" + Str(Get(params, "name"));
  }
  return Json::array({Name(o), Str(Get(o, "spec", "controller")), parameters, Age(o, now)});
}

// ---- discovery.k8s.io -----------------------------------------------------------------

Json EndpointSliceRow(const Json& o, TimePoint now) {
  constexpr size_t kMax = 3;
  std::vector<std::string> ports, addresses;
  size_t port_count = 0, address_count = 0;
  for (const auto& p : Items(Get(o, "ports"))) {
    ++port_count;
    if (ports.size() == kMax) continue;
    if (Has(Get(p, "port"))) ports.push_back(std::to_string(Int(Get(p, "port"))));
    else if (Has(Get(p, "name"))) ports.push_back(Str(Get(p, "name")));
    else ports.push_back("*");
  }
  for (const auto& ep : Items(Get(o, "endpoints"))) {
    for (const auto& a : Items(Get(ep, "addresses"))) {
      ++address_count;
      if (addresses.size() < kMax) addresses.push_back(Str(a));
    }
  }
  return Json::array({Name(o), Str(Get(o, "addressType")), ListWithMore(ports, port_count, "<unset>"),
                      ListWithMore(addresses, address_count, "<unset>"), Age(o, now)});
}

// ---- rbac.authorization.k8s.io ----------------------------------------------------------

// ROLE, and the wide USERS, GROUPS and SERVICEACCOUNTS (rbac.SubjectsStrings).
Json RoleBindingRow(const Json& o, TimePoint now) {
  std::vector<std::string> users, groups, service_accounts;
  for (const auto& s : Items(Get(o, "subjects"))) {
    std::string kind = Str(Get(s, "kind"));
    if (kind == "ServiceAccount") service_accounts.push_back(Str(Get(s, "namespace")) + "/" + Str(Get(s, "name")));
    else if (kind == "User") users.push_back(Str(Get(s, "name")));
    else if (kind == "Group") groups.push_back(Str(Get(s, "name")));
  }
  std::string role = Str(Get(o, "roleRef", "kind")) + "/" + Str(Get(o, "roleRef", "name"));
  return Json::array({Name(o), role, Age(o, now), Join(users, ", "), Join(groups, ", "), Join(service_accounts, ", ")});
}

TablePrinter RoleBindingPrinter(const char* what) {
  std::string users = std::string("Users in the ") + what;
  std::string groups = std::string("Groups in the ") + what;
  std::string sas = std::string("ServiceAccounts in the ") + what;
  return {{NameColumn(), Col("Role", "string", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace."),
           AgeColumn(), {"Users", "string", "", users, 1}, {"Groups", "string", "", groups, 1},
           {"ServiceAccounts", "string", "", sas, 1}},
          RoleBindingRow};
}

// ---- scheduling.k8s.io ----------------------------------------------------------------

Json PriorityClassRow(const Json& o, TimePoint now) {
  // PREEMPTIONPOLICY has priority 0 upstream, so plain `kubectl get` shows it too.
  return Json::array({Name(o), Int(Get(o, "value")), IsTrue(Get(o, "globalDefault")), Age(o, now),
                      Str(Get(o, "preemptionPolicy"))});
}

}  // namespace

void RegisterOtherPrinters() {
  Register("policy", "PodDisruptionBudget",
           {{NameColumn(), Col("Min Available", "string", "The minimum number of pods that must be available."),
             Col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
             Col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
             AgeColumn()},
            PodDisruptionBudgetRow});
  Register("networking.k8s.io", "Ingress",
           {{NameColumn(), Col("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
             Col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
             Col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
             Col("Ports", "string", "Ports of TLS configurations that open"), AgeColumn()},
            IngressRow});
  Register("networking.k8s.io", "IngressClass",
           {{NameColumn(), Col("Controller", "string", "Controller that is responsible for handling this class"),
             Col("Parameters", "string", "A reference to a resource with additional parameters"), AgeColumn()},
            IngressClassRow});
  Register("networking.k8s.io", "NetworkPolicy",
           {{NameColumn(), Col("Pod-Selector", "string", "Selects the pods to which this NetworkPolicy object applies."),
             AgeColumn()},
            [](const Json& o, TimePoint now) {
              return Json::array({Name(o), FormatLabelSelector(Get(o, "spec", "podSelector")), Age(o, now)});
            }});
  Register("discovery.k8s.io", "EndpointSlice",
           {{NameColumn(), Col("AddressType", "string", "addressType specifies the type of address carried by this EndpointSlice."),
             Col("Ports", "string", "ports specifies the list of network ports exposed by each endpoint in this slice."),
             Col("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."), AgeColumn()},
            EndpointSliceRow});
  Register("coordination.k8s.io", "Lease",
           {{NameColumn(), Col("Holder", "string", "holderIdentity contains the identity of the holder of a current lease."),
             AgeColumn()},
            [](const Json& o, TimePoint now) {
              return Json::array({Name(o), Str(Get(o, "spec", "holderIdentity")), Age(o, now)});
            }});
  Register("rbac.authorization.k8s.io", "RoleBinding", RoleBindingPrinter("roleBinding"));
  Register("rbac.authorization.k8s.io", "ClusterRoleBinding", RoleBindingPrinter("clusterRoleBinding"));
  // Upstream has no Role, ClusterRole or CustomResourceDefinition printer.
  RegisterCreatedAt("rbac.authorization.k8s.io", "Role");
  RegisterCreatedAt("rbac.authorization.k8s.io", "ClusterRole");
  RegisterCreatedAt("apiextensions.k8s.io", "CustomResourceDefinition");
  Register("scheduling.k8s.io", "PriorityClass",
           {{NameColumn(), Col("Value", "integer", "value represents the integer value of this priority class."),
             Col("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class."),
             AgeColumn(),
             Col("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods with lower priority.")},
            PriorityClassRow});
}

}  // namespace kubes::apiserver
