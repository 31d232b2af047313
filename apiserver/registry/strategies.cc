#include "apiserver/registry/strategies.h"

#include <set>

#include "apimachinery/labels/selector.h"

namespace kubes::apiserver {

void ApplyStrategy(ResourceInfo& r) {
  if (r.group.empty()) ApplyCoreStrategy(r);
  else if (r.group == "apps") ApplyAppsStrategy(r);
  else if (r.group == "batch") ApplyBatchStrategy(r);
  else ApplyOtherStrategy(r);
}

bool SelectorMatches(const Json& selector, const Json& labels) {
  auto sel = labels::SelectorFromLabelSelector(selector);
  if (!sel.ok()) return false;
  labels::Labels set;
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      if (it.value().is_string()) set[it.key()] = it.value().get<std::string>();
    }
  }
  return sel->Matches(set);
}

void ValidateSelectorMatchesTemplate(const Json& spec, const validation::Path& path, validation::ErrorList& errs) {
  if (spec.contains("replicas") && spec["replicas"].is_number_integer() && spec["replicas"].get<int64_t>() < 0) {
    errs.push_back(validation::InvalidValue(path.Child("replicas"), spec["replicas"], "must be greater than or equal to 0"));
  }
  const Json& selector = spec.value("selector", Json());
  if (!selector.is_object()) return;  // "Required value" comes from the schema
  if (selector.value("matchLabels", Json::object()).empty() && selector.value("matchExpressions", Json::array()).empty()) {
    errs.push_back(validation::InvalidValue(path.Child("selector"), selector, "empty selector is invalid for deployment"));
    return;
  }
  Json labels = spec.value("template", Json::object()).value("metadata", Json::object()).value("labels", Json::object());
  if (!SelectorMatches(selector, labels)) {
    // Go prints the labels as map[string]string{"app":"x"}.
    std::string shown = "map[string]string{";
    bool first = true;
    for (auto& [k, v] : labels.items()) {
      shown += (first ? "" : ", ") + Json(k).dump() + ":" + v.dump();
      first = false;
    }
    shown += "}";
    auto err = validation::InvalidValue(path.Child("template").Child("metadata").Child("labels"), shown,
                                        "`selector` does not match template `labels`");
    err.raw_value = true;
    errs.push_back(std::move(err));
  }
}

}  // namespace kubes::apiserver
