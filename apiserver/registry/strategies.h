// Per-kind strategy hooks (upstream pkg/registry/<group>/<kind>/strategy.go and
// pkg/apis/<group>/v1/defaults.go): what differs from the generic create/update flow.
// The generic flow (endpoints/) already does: schema defaults, required/enum/immutable
// checks, metadata validation, status reset on create and status preservation on
// update for kinds with a status subresource, generation counting.
#pragma once

#include "apiserver/registry/resource.h"

namespace kubes::apiserver {

// Fills the hooks of r according to its group and kind.
void ApplyStrategy(ResourceInfo& r);

// Per group (registry/core.cc, registry/apps.cc, registry/batch.cc, registry/others.cc).
void ApplyCoreStrategy(ResourceInfo& r);
void ApplyAppsStrategy(ResourceInfo& r);
void ApplyBatchStrategy(ResourceInfo& r);
void ApplyOtherStrategy(ResourceInfo& r);

// Shared by Pods and every pod template: defaults that depend on other fields.
void DefaultPodSpec(Json& spec);
// Shared by Pods and templates: containers, volumes, ports.
void ValidatePodSpec(const Json& spec, const validation::Path& path, validation::ErrorList& errs);
// Shared by workload controllers: selector present, matches the template labels, replicas >= 0.
void ValidateSelectorMatchesTemplate(const Json& spec, const validation::Path& path, validation::ErrorList& errs);
// Whether a metav1.LabelSelector (matchLabels + matchExpressions) matches labels.
bool SelectorMatches(const Json& selector, const Json& labels);

}  // namespace kubes::apiserver
