// The arithmetic of Deployments, free of any API call so it can be tested on its own
// (upstream: pkg/controller/deployment/util/deployment_util.go and pod_util.go).
//
// Objects are the JSON of apps/v1 Deployments and ReplicaSets as the apiserver serves
// them (defaults applied: spec.replicas, strategy.rollingUpdate's 25%, …).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/time.h"

namespace kubes::controller::deployment {

using Json = nlohmann::json;

// Annotations the controller writes (names as upstream).
inline constexpr const char* kRevisionAnnotation = "deployment.kubernetes.io/revision";
inline constexpr const char* kRevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
inline constexpr const char* kDesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
inline constexpr const char* kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
// The label that tells a Deployment's ReplicaSets (and their pods) apart.
inline constexpr const char* kPodTemplateHashLabel = "pod-template-hash";

// spec.replicas (1 when absent) and status fields (0 when absent).
int32_t Replicas(const Json& obj);
int32_t StatusInt(const Json& obj, const char* field);

// An IntOrString (3 or "25%") as a count out of total; percentages round up or down.
// Invalid values resolve to 0.
int32_t ScaledValue(const Json& int_or_percent, int32_t total, bool round_up);
// The surge and unavailability a RollingUpdate Deployment allows, as counts (upstream
// MaxSurge/MaxUnavailable: both 0 would block a rollout, so unavailability becomes 1;
// never more unavailable than replicas). Recreate: 0.
int32_t MaxSurge(const Json& d);
int32_t MaxUnavailable(const Json& d);

// The deployment.kubernetes.io/revision annotation as a number (0 when absent/bad).
int64_t Revision(const Json& obj);
int64_t MaxRevision(const std::vector<Json>& replica_sets);

// Two pod templates are the same apart from the pod-template-hash label.
bool EqualIgnoreHash(const Json& a, const Json& b);

// Sum of spec.replicas / status.replicas / status.availableReplicas / readyReplicas.
int32_t SumSpecReplicas(const std::vector<Json>& rss);
int32_t SumStatus(const std::vector<Json>& rss, const char* field);

// How big the new ReplicaSet may be now (upstream NewRSNewReplicas): RollingUpdate
// grows it by what maxSurge leaves room for, Recreate sets it to spec.replicas.
int32_t NewRSNewReplicas(const Json& d, const std::vector<Json>& all_rss, const Json& new_rs);

// The Deployment's replica sets with spec.replicas > 0; the only such one or, when
// none, the newest (upstream FindActiveOrLatest). Returns an index into rss, -1 when
// there is no single answer (several active) or rss is empty.
int FindActiveOrLatest(const std::vector<Json>& rss, int new_rs_index);

// How much rs should grow (or shrink, negative) when the Deployment is scaled by
// to_add replicas in total, in proportion to its share (upstream GetProportion).
int32_t Proportion(const Json& rs, const Json& d, int32_t to_add, int32_t added);

// Status predicates of a rollout (upstream DeploymentComplete / DeploymentProgressing
// / DeploymentTimedOut). new_status is the freshly computed status.
bool DeploymentComplete(const Json& d, const Json& new_status);
bool DeploymentProgressing(const Json& d, const Json& new_status);
bool DeploymentTimedOut(const Json& d, const Json& new_status, TimePoint now);
// spec.progressDeadlineSeconds is set and not "infinite" (MaxInt32).
bool HasProgressDeadline(const Json& d);

// Creation time, then name (upstream ReplicaSetsByCreationTimestamp), oldest first.
void SortByCreation(std::vector<Json>& rss);

}  // namespace kubes::controller::deployment
