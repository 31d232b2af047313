#include "client/resources.h"
#include "scheduler/scheduler.h"

#include <thread>

#include "util/time.h"

namespace kubes::scheduler {
namespace {

using client::kNodes;
using client::kPods;


bool Bound(const Json& pod) { return !StringAt(pod, {"spec", "nodeName"}).empty(); }

bool Finished(const Json& pod) {
  std::string phase = StringAt(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}

// A bound pod change that may leave room for a waiting pod: it finished, or asks for less.
bool FreesResources(const Json& old_pod, const Json& pod) {
  return Finished(pod) || PodRequests(pod) != PodRequests(old_pod);
}

// A node change that may let a waiting pod fit: what the filters read, not heartbeats.
bool SchedulingPropertiesChanged(const Json& old_node, const Json& node) {
  return At(old_node, {"spec"}) != At(node, {"spec"}) ||
         At(old_node, {"metadata", "labels"}) != At(node, {"metadata", "labels"}) ||
         At(old_node, {"status", "allocatable"}) != At(node, {"status", "allocatable"});
}

// Objects from a list may lack kind and apiVersion; events name them.
Json WithKind(Json pod) {
  if (!pod.contains("kind")) pod["kind"] = "Pod";
  if (!pod.contains("apiVersion")) pod["apiVersion"] = "v1";
  return pod;
}

}  // namespace

Scheduler::Scheduler(client::Client* client, client::SharedInformers* informers, std::string scheduler_name)
    : client_(client),
      name_(std::move(scheduler_name)),
      pods_(informers->For(kPods)),
      nodes_(informers->For(kNodes)),
      claims_(informers->For(client::kPersistentVolumeClaims)),
      volumes_(informers->For(client::kPersistentVolumes)),
      pdbs_(informers->For(client::kPodDisruptionBudgets)),
      rng_(std::random_device{}()),
      recorder_(client, name_) {
  pods_->AddHandlers({[this](const Json& p) { OnPodAdd(p); },
                     [this](const Json& o, const Json& p) { OnPodUpdate(o, p); },
                     [this](const Json& p) { OnPodDelete(p); }});
  nodes_->AddHandlers({[this](const Json& n) {
                        cache_.AddOrUpdateNode(n);
                        MoveAllToActive();
                      },
                      [this](const Json& o, const Json& n) { OnNodeUpdate(o, n); },
                      [this](const Json& n) { cache_.RemoveNode(StringAt(n, {"metadata", "name"})); }});
  // A claim made or bound, a volume made: a pod waiting for it may fit now.
  auto retry = [this](const Json&) { MoveAllToActive(); };
  for (client::Informer* inf : {claims_, volumes_}) {
    inf->AddHandlers({retry, [retry](const Json&, const Json& o) { retry(o); }, nullptr});
  }
}

PodVolumes Scheduler::VolumesOf(const Json& pod) const {
  PodVolumes out;
  std::string ns = StringAt(pod, {"metadata", "namespace"});
  for (const Json& v : ArrayAt(pod, {"spec", "volumes"})) {
    std::string claim_name = StringAt(v, {"persistentVolumeClaim", "claimName"});
    if (claim_name.empty()) continue;
    Json claim;
    if (!claims_->Get(ns + "/" + claim_name, &claim)) {
      out.unresolvable = "persistentvolumeclaim \"" + claim_name + "\" not found";
      return out;
    }
    if (!At(claim, {"metadata", "deletionTimestamp"}).is_null()) {
      out.unresolvable = "persistentvolumeclaim \"" + claim_name + "\" is being deleted";
      return out;
    }
    std::string volume_name = StringAt(claim, {"spec", "volumeName"});
    if (volume_name.empty()) continue;  // bound after scheduling (WaitForFirstConsumer)
    Json pv;
    if (!volumes_->Get(volume_name, &pv)) {
      out.unresolvable = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
      return out;
    }
    out.bound.push_back(std::move(pv));
  }
  return out;
}

bool Scheduler::Responsible(const Json& pod) const {
  std::string scheduler = StringAt(pod, {"spec", "schedulerName"});
  if (scheduler.empty()) scheduler = "default-scheduler";  // the apiserver's default
  return scheduler == name_ && !Bound(pod) && At(pod, {"metadata", "deletionTimestamp"}).is_null() &&
         !Finished(pod) && ArrayAt(pod, {"spec", "schedulingGates"}).empty();
}

std::chrono::milliseconds Scheduler::PodBackoff(int failures) {
  std::chrono::milliseconds d = kInitialBackoff;
  for (int i = 1; i < failures && d < kMaxBackoff; ++i) d *= 2;
  return std::min<std::chrono::milliseconds>(d, kMaxBackoff);
}

// ---- Informer handlers: they only update the cache and enqueue keys ----

void Scheduler::OnPodAdd(const Json& pod) {
  if (Bound(pod)) {
    cache_.AddOrUpdatePod(pods_->Shared(pod));
    return;
  }
  nominator_.AddOrUpdate(nullptr, pods_->Shared(pod));
  if (Responsible(pod)) queue_.Add(PodKey(pod));
}

void Scheduler::OnPodUpdate(const Json& old_pod, const Json& pod) {
  cache_.AddOrUpdatePod(pods_->Shared(pod));
  nominator_.AddOrUpdate(&old_pod, pods_->Shared(pod));
  if (Bound(pod)) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      failures_.erase(PodKey(pod));  // bound (by us or anyone): nothing to retry
    }
    if (Bound(old_pod) && FreesResources(old_pod, pod)) MoveAllToActive();
    return;
  }
  // A waiting pod whose spec changed (tolerations, a removed scheduling gate, ...) is
  // tried again at once. Its status changing (our own condition) does not count.
  if (Responsible(pod) && (At(old_pod, {"spec"}) != At(pod, {"spec"}) ||
                           At(old_pod, {"metadata", "labels"}) != At(pod, {"metadata", "labels"}))) {
    queue_.Add(PodKey(pod));
  }
}

void Scheduler::OnPodDelete(const Json& pod) {
  cache_.RemovePod(pod);
  nominator_.Delete(PodUID(pod));
  {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.erase(PodKey(pod));
  }
  if (Bound(pod)) MoveAllToActive();
}

void Scheduler::OnNodeUpdate(const Json& old_node, const Json& node) {
  cache_.AddOrUpdateNode(node);
  if (SchedulingPropertiesChanged(old_node, node)) MoveAllToActive();
}

void Scheduler::MoveAllToActive() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, n] : failures_) queue_.Add(key);
}

// ---- The scheduling loop ----

Status Scheduler::ScheduleOne(const std::string& key) {
  Json pod;
  if (!pods_->Get(key, &pod)) return Status::OK();  // deleted
  // Bound, not ours, or bound by us a moment ago and the informer has not caught up.
  if (!Responsible(pod) || cache_.IsAssumed(PodUID(pod))) return Status::OK();
  pod = WithKind(std::move(pod));
  // Nominated a moment ago, and the informer has not brought the status back yet.
  if (StringAt(pod, {"status", "nominatedNodeName"}).empty()) {
    std::string nominated = nominator_.NominatedNode(PodUID(pod));
    if (!nominated.empty()) pod["status"]["nominatedNodeName"] = nominated;
  }

  std::vector<Json> pdbs = pdbs_->List();
  ScheduleResult result = SchedulePod(pod, cache_.Snapshot(), rng_, VolumesOf(pod), nominator_.Snapshot(), pdbs);
  if (result.suggested_host.empty()) {
    const PostFilterResult& pf = result.post_filter;
    std::optional<std::string> nominate;
    std::string message = result.message;
    if (pf.candidate) {
      Status s = PrepareCandidate(pod, *pf.candidate);
      if (s.ok()) {
        nominate = pf.candidate->node;
        nominator_.Nominate(std::make_shared<const Json>(pod), *nominate);
      } else {
        message += " preemption: " + s.message();  // upstream's PostFilter error, prefixed
      }
    } else if (pf.clear_nomination) {
      nominate = "";
      nominator_.Nominate(std::make_shared<const Json>(pod), "");
    }
    RecordFailure(pod, "Unschedulable", message, nominate);
    return Status(Code::kConflict, "pod " + key + ": " + message);
  }
  const std::string& node = result.suggested_host;
  nominator_.Delete(PodUID(pod));  // it has its node now (upstream: on assume)
  cache_.AssumePod(pod, node);
  Status bound = Bind(pod, node);
  if (!bound.ok()) {
    cache_.ForgetPod(PodUID(pod));
    // Gone, or bound by someone else meanwhile: nothing left to do or to report.
    auto latest = client_->Get(kPods, StringAt(pod, {"metadata", "namespace"}), StringAt(pod, {"metadata", "name"}));
    if (!latest.ok() && latest.status().code() == Code::kNotFound) return Status::OK();
    if (latest.ok() && Bound(*latest)) return Status::OK();
    RecordFailure(pod, "SchedulerError", "running Bind plugin \"DefaultBinder\": " + bound.message());
    return std::move(bound).Wrap("pod " + key + ": binding to node " + node);
  }
  recorder_.Event(pod, "Normal", "Scheduled", "Successfully assigned " + key + " to " + node);
  return Status::OK();
}

// POST pods/NAME/binding (upstream DefaultBinder).
Status Scheduler::Bind(const Json& pod, const std::string& node) {
  std::string ns = StringAt(pod, {"metadata", "namespace"});
  std::string name = StringAt(pod, {"metadata", "name"});
  Json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", name}, {"namespace", ns}, {"uid", StringAt(pod, {"metadata", "uid"})}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
  return client_->CreateSubresource(client::Resource{"", "v1", "pods", true, "Pod"}, ns, name, "binding", binding)
      .status();
}

void Scheduler::RecordFailure(const Json& pod, const std::string& reason, const std::string& message,
                              std::optional<std::string> nominated_node) {
  recorder_.Event(pod, "Warning", "FailedScheduling", TruncateMessage(message));
  // PodScheduled=False and the nomination, written only when they change (upstream
  // updatePod).
  bool nominate = nominated_node && *nominated_node != StringAt(pod, {"status", "nominatedNodeName"});
  std::string now = FormatRFC3339(RealClock::Get().Now());
  std::string transition = now;
  bool condition_unchanged = false;
  for (const Json& c : ArrayAt(pod, {"status", "conditions"})) {
    if (StringAt(c, {"type"}) != "PodScheduled") continue;
    if (StringAt(c, {"status"}) != "False") break;
    condition_unchanged = StringAt(c, {"reason"}) == reason && StringAt(c, {"message"}) == message;
    transition = StringAt(c, {"lastTransitionTime"});
    if (transition.empty()) transition = now;
  }
  if (condition_unchanged && !nominate) return;
  Json condition = {{"type", "PodScheduled"}, {"status", "False"},     {"reason", reason},
                    {"message", message},     {"lastProbeTime", nullptr}, {"lastTransitionTime", transition}};
  Json patch = {{"status", {{"conditions", Json::array({condition})}}}};
  if (nominate) {
    patch["status"]["nominatedNodeName"] = nominated_node->empty() ? Json(nullptr) : Json(*nominated_node);
  }
  // Errors are not retried here: the next attempt writes the condition again.
  (void)client_->Patch(kPods, StringAt(pod, {"metadata", "namespace"}), StringAt(pod, {"metadata", "name"}),
                       "application/strategic-merge-patch+json", patch, "status");
}

Status Scheduler::PrepareCandidate(const Json& preemptor, const Candidate& candidate) {
  std::string scheduler = StringAt(preemptor, {"spec", "schedulerName"});
  if (scheduler.empty()) scheduler = name_;
  std::string now = FormatRFC3339(RealClock::Get().Now());
  Json condition = {{"type", "DisruptionTarget"},
                    {"status", "True"},
                    {"reason", kReasonPreemptionByScheduler},
                    {"message", scheduler + ": preempting to accommodate a higher priority pod"},
                    {"lastProbeTime", nullptr},
                    {"lastTransitionTime", now}};
  for (const PodPtr& victim : candidate.victims.pods) {
    // Already going (deleted by someone, or preempted before): no second request.
    if (!At(*victim, {"metadata", "deletionTimestamp"}).is_null()) continue;
    std::string ns = StringAt(*victim, {"metadata", "namespace"});
    std::string name = StringAt(*victim, {"metadata", "name"});
    auto patched = client_->Patch(kPods, ns, name, "application/strategic-merge-patch+json",
                                  {{"status", {{"conditions", Json::array({condition})}}}}, "status");
    if (!patched.ok() && patched.status().code() == Code::kNotFound) continue;  // gone already
    if (!patched.ok()) return patched.status().Wrap("adding DisruptionTarget to " + ns + "/" + name);
    Status deleted = client_->Delete(kPods, ns, name);
    if (!deleted.ok() && deleted.code() == Code::kNotFound) continue;
    if (!deleted.ok()) return std::move(deleted).Wrap("deleting " + ns + "/" + name);
    recorder_.Event(WithKind(*victim), "Normal", "Preempted",
                    "Preempted by pod " + StringAt(preemptor, {"metadata", "uid"}) + " on node " + candidate.node);
  }
  // Pods of lower priority waiting for this node may not fit any more: let them look
  // elsewhere now rather than after the victims are gone.
  NominatedPods nominated = nominator_.Snapshot();
  int64_t priority = PodPriority(preemptor);
  for (const PodPtr& p : nominated[candidate.node]) {
    if (PodPriority(*p) >= priority) continue;
    // Errors only delay them: the nomination stays until their next attempt.
    auto cleared = client_->Patch(kPods, StringAt(*p, {"metadata", "namespace"}), StringAt(*p, {"metadata", "name"}),
                                  "application/strategic-merge-patch+json",
                                  {{"status", {{"nominatedNodeName", nullptr}}}}, "status");
    if (cleared.ok()) nominator_.Nominate(p, "");
  }
  return Status::OK();
}

void Scheduler::ProcessNext(const std::string& key) {
  Status s = ScheduleOne(key);
  std::lock_guard<std::mutex> lock(mu_);
  if (s.ok()) {
    failures_.erase(key);
    return;
  }
  int n = ++failures_[key];
  queue_.AddAfter(key, PodBackoff(n));
}

void Scheduler::Run(const std::atomic<bool>& stop) {
  std::thread stopper([&] {
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    queue_.ShutDown();
  });
  // Decide nothing before the cache holds every node and bound pod.
  while (!stop && !(pods_->HasSynced() && nodes_->HasSynced() && pdbs_->HasSynced())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  while (auto key = queue_.Get()) {
    ProcessNext(*key);
    queue_.Done(*key);
  }
  stopper.join();
}

}  // namespace kubes::scheduler
