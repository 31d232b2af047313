// Columns of apps/v1 kinds (upstream printers.go: printDeployment, printReplicaSet, ...).
#include "apiserver/printers/printers.h"

namespace kubes::apiserver {
namespace {

using namespace printers;

Column NameColumn() { return {"Name", "string", "name", "Name must be unique within a namespace.", 0}; }
Column AgeColumn() { return {"Age", "string", "", "Time since the object was created.", 0}; }
Column Wide(const char* name, const char* description) { return {name, "string", "", description, 1}; }

// CONTAINERS, IMAGES and SELECTOR: the wide columns every workload shares.
void AddTemplateCells(Json& row, const Json& spec) {
  const Json& podspec = spec.value("template", Json::object()).value("spec", Json::object());
  row.push_back(ContainerNames(podspec));
  row.push_back(ContainerImages(podspec));
  row.push_back(FormatLabelSelector(spec.value("selector", Json())));
}

std::vector<Column> WithTemplateColumns(std::vector<Column> cols) {
  cols.push_back(Wide("Containers", "Names of the containers in the template."));
  cols.push_back(Wide("Images", "Images of the containers in the template."));
  cols.push_back(Wide("Selector", "The label selector of the pods."));
  return cols;
}

}  // namespace

void RegisterAppsPrinters() {
  Register("apps", "Deployment",
           {WithTemplateColumns({NameColumn(),
                                 {"Ready", "string", "", "Ready replicas out of desired replicas.", 0},
                                 {"Up-to-date", "integer", "", "Replicas running the latest template.", 0},
                                 {"Available", "integer", "", "Replicas available to users.", 0},
                                 AgeColumn()}),
            [](const Json& o, TimePoint now) {
              const Json& spec = o.value("spec", Json::object());
              const Json& st = o.value("status", Json::object());
              Json row = Json::array({Name(o), std::to_string(Int(st, "readyReplicas")) + "/" + std::to_string(Int(spec, "replicas")),
                                      Int(st, "updatedReplicas"), Int(st, "availableReplicas"), Age(o, now)});
              AddTemplateCells(row, spec);
              return row;
            }});
  Register("apps", "ReplicaSet",
           {WithTemplateColumns({NameColumn(),
                                 {"Desired", "integer", "", "Replicas wanted.", 0},
                                 {"Current", "integer", "", "Replicas that exist.", 0},
                                 {"Ready", "integer", "", "Replicas that are ready.", 0},
                                 AgeColumn()}),
            [](const Json& o, TimePoint now) {
              const Json& spec = o.value("spec", Json::object());
              const Json& st = o.value("status", Json::object());
              Json row = Json::array({Name(o), Int(spec, "replicas"), Int(st, "replicas"), Int(st, "readyReplicas"), Age(o, now)});
              AddTemplateCells(row, spec);
              return row;
            }});
  Register("apps", "StatefulSet",
           {{NameColumn(), {"Ready", "string", "", "Ready replicas out of desired replicas.", 0}, AgeColumn(),
             Wide("Containers", "Names of the containers in the template."),
             Wide("Images", "Images of the containers in the template.")},
            [](const Json& o, TimePoint now) {
              const Json& spec = o.value("spec", Json::object());
              const Json& st = o.value("status", Json::object());
              const Json& podspec = spec.value("template", Json::object()).value("spec", Json::object());
              return Json::array({Name(o), std::to_string(Int(st, "readyReplicas")) + "/" + std::to_string(Int(spec, "replicas")),
                                  Age(o, now), ContainerNames(podspec), ContainerImages(podspec)});
            }});
  Register("apps", "DaemonSet",
           {WithTemplateColumns({NameColumn(),
                                 {"Desired", "integer", "", "Nodes that should run the pod.", 0},
                                 {"Current", "integer", "", "Nodes running the pod.", 0},
                                 {"Ready", "integer", "", "Nodes where the pod is ready.", 0},
                                 {"Up-to-date", "integer", "", "Nodes running the latest template.", 0},
                                 {"Available", "integer", "", "Nodes where the pod is available.", 0},
                                 {"Node Selector", "string", "", "Which nodes the pod runs on.", 0},
                                 AgeColumn()}),
            [](const Json& o, TimePoint now) {
              const Json& spec = o.value("spec", Json::object());
              const Json& st = o.value("status", Json::object());
              Json sel = spec.value("template", Json::object()).value("spec", Json::object()).value("nodeSelector", Json());
              Json row = Json::array({Name(o), Int(st, "desiredNumberScheduled"), Int(st, "currentNumberScheduled"),
                                      Int(st, "numberReady"), Int(st, "updatedNumberScheduled"), Int(st, "numberAvailable"),
                                      FormatLabels(sel), Age(o, now)});
              AddTemplateCells(row, spec);
              return row;
            }});
  Register("apps", "ControllerRevision",
           {{NameColumn(), {"Controller", "string", "", "The owner of the revision.", 0},
             {"Revision", "integer", "", "The revision number.", 0}, AgeColumn()},
            [](const Json& o, TimePoint now) {
              std::string controller = "<none>";
              for (const auto& ref : o.value("metadata", Json::object()).value("ownerReferences", Json::array())) {
                if (ref.value("controller", false)) {
                  std::string kind = ref.value("kind", ""), api = ref.value("apiVersion", "");
                  std::string group = api.find('/') == std::string::npos ? "" : api.substr(0, api.find('/'));
                  std::string lower = kind;
                  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                  controller = lower + (group.empty() ? "" : "." + group) + "/" + ref.value("name", "");
                }
              }
              return Json::array({Name(o), controller, Int(o, "revision"), Age(o, now)});
            }});
}

}  // namespace kubes::apiserver
