// Columns of apps/v1 kinds (upstream printers.go: printDeployment, printReplicaSet, ...).
#include "apiserver/printers/printers.h"

namespace kubes::apiserver {
namespace {

using namespace printers;

// CONTAINERS, IMAGES and SELECTOR: the wide columns most workloads share.
std::vector<Column> WithTemplateColumns(std::vector<Column> cols) {
  cols.push_back(Wide("Containers", "string", "Names of each container in the template."));
  cols.push_back(Wide("Images", "string", "Images referenced by each container in the template."));
  cols.push_back(Wide("Selector", "string", "Label selector for pods."));
  return cols;
}

void AddTemplateCells(Json& row, const Json& spec, std::string selector) {
  const Json& podspec = Get(spec, "template", "spec");
  row.push_back(ContainerNames(podspec));
  row.push_back(ContainerImages(podspec));
  row.push_back(std::move(selector));
}

std::string ReadyOfDesired(const Json& o) {
  return std::to_string(Int(Get(o, "status", "readyReplicas"))) + "/" + std::to_string(Int(Get(o, "spec", "replicas")));
}

Json DeploymentRow(const Json& o, TimePoint now) {
  const Json& st = Get(o, "status");
  Json row = Json::array({Name(o), ReadyOfDesired(o), Int(Get(st, "updatedReplicas")),
                          Int(Get(st, "availableReplicas")), Age(o, now)});
  // printDeployment uses the selector's String() directly: "" when empty, unlike
  // the "<none>" of FormatLabelSelector used by the other workloads.
  AddTemplateCells(row, Get(o, "spec"), LabelSelectorString(Get(o, "spec", "selector")).value_or("<invalid>"));
  return row;
}

Json ReplicaSetRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  const Json& st = Get(o, "status");
  Json row = Json::array(
      {Name(o), Int(Get(spec, "replicas")), Int(Get(st, "replicas")), Int(Get(st, "readyReplicas")), Age(o, now)});
  AddTemplateCells(row, spec, FormatLabelSelector(Get(spec, "selector")));
  return row;
}

Json DaemonSetRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  const Json& st = Get(o, "status");
  Json row = Json::array({Name(o), Int(Get(st, "desiredNumberScheduled")), Int(Get(st, "currentNumberScheduled")),
                          Int(Get(st, "numberReady")), Int(Get(st, "updatedNumberScheduled")),
                          Int(Get(st, "numberAvailable")), FormatLabels(Get(spec, "template", "spec", "nodeSelector")),
                          Age(o, now)});
  AddTemplateCells(row, spec, FormatLabelSelector(Get(spec, "selector")));
  return row;
}

Json StatefulSetRow(const Json& o, TimePoint now) {
  const Json& podspec = Get(o, "spec", "template", "spec");
  return Json::array({Name(o), ReadyOfDesired(o), Age(o, now), ContainerNames(podspec), ContainerImages(podspec)});
}

// CONTROLLER: "daemonset.apps/web" from the controlling ownerReference.
Json ControllerRevisionRow(const Json& o, TimePoint now) {
  std::string controller = "<none>";
  for (const auto& ref : Items(Get(o, "metadata", "ownerReferences"))) {
    if (!IsTrue(Get(ref, "controller"))) continue;
    std::string api_version = Str(Get(ref, "apiVersion"));
    size_t slash = api_version.find('/');
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    std::string kind = Str(Get(ref, "kind"));
    std::string group_kind = group.empty() ? kind : kind + "." + group;
    controller = group_kind.empty() ? Str(Get(ref, "name")) : Lower(group_kind) + "/" + Str(Get(ref, "name"));
    break;  // metav1.GetControllerOf: the first controller reference
  }
  return Json::array({Name(o), controller, Int(Get(o, "revision")), Age(o, now)});
}

}  // namespace

void RegisterAppsPrinters() {
  Register("apps", "Deployment",
           {WithTemplateColumns({NameColumn(), Col("Ready", "string", "Number of the pod with ready state"),
                                 Col("Up-to-date", "string", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
                                 Col("Available", "string", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
                                 AgeColumn()}),
            DeploymentRow});
  Register("apps", "ReplicaSet",
           {WithTemplateColumns({NameColumn(), Col("Desired", "integer", "Replicas is the number of desired replicas."),
                                 Col("Current", "integer", "Replicas is the most recently observed number of replicas."),
                                 Col("Ready", "integer", "The number of ready replicas for this replica set."),
                                 AgeColumn()}),
            ReplicaSetRow});
  Register("apps", "StatefulSet",
           {{NameColumn(), Col("Ready", "string", "Number of the pod with ready state"), AgeColumn(),
             Wide("Containers", "string", "Names of each container in the template."),
             Wide("Images", "string", "Images referenced by each container in the template.")},
            StatefulSetRow});
  Register("apps", "DaemonSet",
           {WithTemplateColumns({NameColumn(),
                                 Col("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
                                 Col("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
                                 Col("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
                                 Col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
                                 Col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."),
                                 Col("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node."),
                                 AgeColumn()}),
            DaemonSetRow});
  Register("apps", "ControllerRevision",
           {{NameColumn(), Col("Controller", "string", "Controller of the object"),
             Col("Revision", "string", "Revision indicates the revision of the state represented by Data."), AgeColumn()},
            ControllerRevisionRow});
}

}  // namespace kubes::apiserver
