// What the workload controllers share (upstream: pkg/controller/controller_utils.go,
// controller_ref_manager.go and pkg/api/v1/pod's readiness helpers).
//
//  - controller references: who owns an object, and claiming objects by selector
//    (adopt matching orphans, release owned objects that stopped matching);
//  - expectations: how many creates and deletes a controller is still waiting to
//    see through its informer, so it does not act twice on a stale cache;
//  - pod facts: active, ready, available after minReadySeconds;
//  - the order in which a ReplicaSet picks pods to delete;
//  - a pod made from a template.
//
// Thread-safety: the free functions are pure. Expectations is internally locked.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apimachinery/labels/selector.h"
#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "util/time.h"

namespace kubes::controller {

using Json = nlohmann::json;

// ---- controller references ----

// The ownerReference with controller: true, or nullopt.
std::optional<Json> GetControllerOf(const Json& obj);
// An ownerReference naming `owner` (apiVersion/kind/name/uid) as the controller.
Json ControllerRef(const Json& owner);
// The labels of an object (metadata.labels) as a map.
labels::Labels LabelsOf(const Json& obj);
// The object's metadata.uid, name, namespace.
std::string UidOf(const Json& obj);
std::string NameOf(const Json& obj);
std::string NamespaceOf(const Json& obj);
bool IsBeingDeleted(const Json& obj);
// "namespace/name" of obj's controller when it is of this apiVersion and kind (e.g.
// "apps/v1", "ReplicaSet"), else "".
std::string ControllerKey(const Json& obj, const std::string& api_version, const std::string& kind);

// Claims objects for `owner` the way upstream's ControllerRefManager does:
//  - owned by owner and matching the selector → kept;
//  - owned by owner and no longer matching → released (our ownerReference removed),
//    unless it is being deleted;
//  - an orphan that matches → adopted (a controller ownerReference added), unless it
//    or the owner is being deleted;
//  - owned by another controller → ignored.
// Returns the claimed objects, with adoptions already applied. Patches go to `resource`
// through `client`; an error aborts (the caller retries).
// finalizers: added to adopted objects and removed from released ones (the Job
// controller's batch.kubernetes.io/job-tracking, upstream ClaimPods' finalizers).
Result<std::vector<Json>> ClaimObjects(client::Client* client, const client::Resource& resource, const Json& owner,
                                       const labels::Selector& selector, const std::vector<Json>& candidates,
                                       const std::vector<std::string>& finalizers = {});

// The candidates ClaimObjects needs for owner, from an informer with the controller
// index: the objects owner controls and the orphans of its namespace (copies). What
// other controllers own is never claimed, so it is not looked at.
std::vector<Json> ControlledOrOrphans(const client::Informer& informer, const Json& owner);
// Copies of the objects of one namespace (an informer with the namespace index).
std::vector<Json> InNamespace(const client::Informer& informer, const std::string& ns);

// ---- expectations ----

// Creates and deletes a controller has asked for and not yet seen in its informer
// (upstream ControllerExpectations/UIDTrackingControllerExpectations). A key whose
// expectations are not satisfied is not acted on, except when they are older than
// 5 minutes (a lost watch event must not wedge a controller forever).
class Expectations {
 public:
  static constexpr std::chrono::minutes kTimeout{5};
  explicit Expectations(const Clock& clock = RealClock::Get()) : clock_(clock) {}

  bool Satisfied(const std::string& key) const;
  void ExpectCreations(const std::string& key, int adds);
  // Both at once (upstream SetExpectations): what one sync creates and deletes.
  void Expect(const std::string& key, int adds, const std::vector<std::string>& delete_uids);
  // The pods (by uid) the controller is deleting.
  void ExpectDeletions(const std::string& key, const std::vector<std::string>& uids);
  void CreationObserved(const std::string& key);
  void DeletionObserved(const std::string& key, const std::string& uid);
  // A create that failed will never be observed.
  void LowerCreations(const std::string& key, int n);
  void Delete(const std::string& key);

 private:
  struct Entry {
    int adds = 0;
    std::set<std::string> deletes;
    TimePoint set_at;
  };
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// ---- pods ----

// Succeeded or Failed.
bool IsPodTerminal(const Json& pod);
// Not Succeeded or Failed, and not being deleted (upstream IsPodActive).
bool IsPodActive(const Json& pod);
// The Ready condition is True.
bool IsPodReady(const Json& pod);
// When the Ready condition last became True (nullopt when not ready).
std::optional<TimePoint> ReadySince(const Json& pod);
// Ready for at least min_ready_seconds at `now` (upstream IsPodAvailable).
bool IsPodAvailable(const Json& pod, int min_ready_seconds, TimePoint now);
// The sum of the pod's container restart counts.
int RestartCount(const Json& pod);

// Sorts pods so the ones to delete first come first (upstream ActivePodsWithRanks):
// unscheduled before scheduled; Pending, then Unknown, then Running; not ready before
// ready; lower controller.kubernetes.io/pod-deletion-cost first; more pods of the same
// owner on its node first; ready for a shorter time first; more restarts first; newer
// first.
void SortPodsForDeletion(std::vector<Json>& pods, TimePoint now);

// A pod to create from `tmpl` (a PodTemplateSpec) for `owner`: generateName
// "<owner>-", the template's labels, annotations, finalizers and spec, and the owner as
// controller reference.
Json PodFromTemplate(const Json& tmpl, const Json& owner);

// ---- creating and deleting pods ----

// How the ReplicaSet and DaemonSet controllers change their pods (upstream PodControl
// with slowStartBatch): creates in batches of 1, 2, 4, … stopping at the first failure,
// so a template that cannot work fails once rather than hundreds of times; events
// SuccessfulCreate / FailedCreate / SuccessfulDelete / FailedDelete on the owner; the
// owner's expectations set before and lowered for what failed (a failed create or
// delete is never observed by the informer).
class PodControl {
 public:
  PodControl(client::Client* c, client::EventRecorder* recorder, Expectations* expectations)
      : client_(c), recorder_(recorder), expectations_(expectations) {}
  // key: the owner's "namespace/name" in the expectations.
  Status Apply(const std::string& key, const Json& owner, const std::vector<Json>& create,
               const std::vector<Json>& remove);

 private:
  client::Client* client_;
  client::EventRecorder* recorder_;
  Expectations* expectations_;
};

// ---- names ----

// A name suffix for an object's content (a Deployment's pod-template-hash, a
// ControllerRevision's name): a 32-bit FNV-1a of its JSON and the collision count,
// written with the letters upstream uses for such names (no vowels, no 0/1/3).
std::string ComputeHash(const Json& obj, int32_t collision_count);

// ---- conditions ----

// The condition of `type` in status.conditions, or nullptr.
const Json* FindCondition(const Json& status, const std::string& type);
// Sets a workload condition (Deployment/ReplicaSet shape: type, status, reason,
// message, lastTransitionTime, and lastUpdateTime when with_update_time). An existing
// condition with the same status and reason is left alone; lastTransitionTime is kept
// while the status does not change.
void SetCondition(Json& status, const std::string& type, const std::string& cond_status, const std::string& reason,
                  const std::string& message, TimePoint now, bool with_update_time);
void RemoveCondition(Json& status, const std::string& type);

}  // namespace kubes::controller
