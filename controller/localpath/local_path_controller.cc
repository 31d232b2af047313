#include "client/resources.h"
#include "controller/localpath/local_path_controller.h"

#include <thread>

#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kPersistentVolumeClaims;
using client::kPersistentVolumes;
using client::kPods;
using client::kStorageClasses;

using Json = nlohmann::json;


// Claims a pod's volumes name, as "ns/claim".
std::vector<std::string> ClaimsOf(const Json& pod) {
  std::vector<std::string> out;
  std::string ns = pod["metadata"].value("namespace", "");
  for (const auto& v : pod.value("spec", Json::object()).value("volumes", Json::array())) {
    if (v.contains("persistentVolumeClaim")) out.push_back(ns + "/" + v["persistentVolumeClaim"].value("claimName", ""));
  }
  return out;
}

}  // namespace

LocalPathController::LocalPathController(client::Client* c, client::SharedInformers* informers,
                                         std::string storage_root)
    : client_(c),
      root_(std::move(storage_root)),
      pods_(informers->For(kPods)),
      claims_(informers->For(kPersistentVolumeClaims)),
      volumes_(informers->For(kPersistentVolumes)),
      classes_(informers->For(kStorageClasses)),
      recorder_(c, "persistentvolume-controller") {
  auto pod_changed = [this](const Json& pod) {
    for (const auto& key : ClaimsOf(pod)) queue_.Add(key);
  };
  pods_->AddHandlers({.on_add = pod_changed,
                     .on_update = [pod_changed](const Json&, const Json& p) { pod_changed(p); },
                     .on_delete = nullptr});
  claims_->AddHandlers({.on_add = [this](const Json& c) { queue_.Add(client::Informer::KeyOf(c)); },
                       .on_update = [this](const Json&, const Json& c) { queue_.Add(client::Informer::KeyOf(c)); },
                       .on_delete = nullptr});
}

Status LocalPathController::SyncClaim(const std::string& key) {
  Json claim;
  if (!claims_->Get(key, &claim) || claim["metadata"].contains("deletionTimestamp")) return Status::OK();
  const Json& meta = claim["metadata"];
  std::string ns = meta.value("namespace", ""), name = meta.value("name", ""), uid = meta.value("uid", "");
  Json spec = claim.value("spec", Json::object());
  if (claim.value("status", Json::object()).value("phase", "") == "Bound") return Status::OK();
  Json sc;
  if (!classes_->Get(spec.value("storageClassName", ""), &sc) || sc.value("provisioner", "") != kLocalPathProvisioner) {
    return Status::OK();  // another provisioner's claim, or no class: not ours
  }
  // The node: where a pod using the claim runs.
  std::string node;
  for (const auto& pod : pods_->Snapshot()) {
    std::string n = pod->value("spec", Json::object()).value("nodeName", "");
    if (n.empty()) continue;
    for (const auto& k : ClaimsOf(*pod)) {
      if (k == key) node = n;
    }
  }
  if (node.empty()) {
    if (waiting_reported_.insert(uid).second) {
      recorder_.Event(claim, "Normal", "WaitForFirstConsumer",
                      "waiting for first consumer to be created before binding");
    }
    return Status::OK();
  }
  std::string pv_name = "pvc-" + uid;
  Json pv;
  if (!volumes_->Get(pv_name, &pv)) {
    std::string storage = spec.value("resources", Json::object()).value("requests", Json::object()).value("storage", "1Gi");
    Json created = {
        {"apiVersion", "v1"},
        {"kind", "PersistentVolume"},
        {"metadata", {{"name", pv_name},
                      {"annotations", {{"pv.kubernetes.io/provisioned-by", kLocalPathProvisioner}}},
                      {"finalizers", {kLocalPathProvisioner}}}},
        {"spec", {{"capacity", {{"storage", storage}}},
                  {"accessModes", spec.value("accessModes", Json::array({"ReadWriteOnce"}))},
                  {"persistentVolumeReclaimPolicy", sc.value("reclaimPolicy", "Delete")},
                  {"storageClassName", spec.value("storageClassName", "")},
                  {"volumeMode", spec.value("volumeMode", "Filesystem")},
                  {"hostPath", {{"path", root_ + "/" + pv_name + "_" + ns + "_" + name}, {"type", "DirectoryOrCreate"}}},
                  {"nodeAffinity", {{"required", {{"nodeSelectorTerms", {{{"matchExpressions", {{
                      {"key", "kubernetes.io/hostname"}, {"operator", "In"}, {"values", {node}}}}}}}}}}}},
                  {"claimRef", {{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"}, {"namespace", ns},
                                {"name", name}, {"uid", uid}}}}}};
    auto made = client_->Create(kPersistentVolumes, "", created);
    if (!made.ok() && made.status().code() != Code::kAlreadyExists) return made.status();
    if (made.ok()) {
      pv = *made;
      recorder_.Event(claim, "Normal", "ProvisioningSucceeded",
                      "Successfully provisioned volume " + pv_name + " using " + kLocalPathProvisioner);
    } else {
      auto got = client_->Get(kPersistentVolumes, "", pv_name);
      if (!got.ok()) return got.status();
      pv = *got;
    }
  }
  // Bind both sides: the volume's status, then the claim (upstream's order).
  Json pv_status = pv;
  pv_status["status"] = {{"phase", "Bound"}};
  auto bound_pv = client_->Update(kPersistentVolumes, "", pv_status, "status");
  if (!bound_pv.ok()) return bound_pv.status();
  Json c = claim;
  c["spec"]["volumeName"] = pv_name;
  c["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] = "yes";
  c["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] = "yes";
  c["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] = node;
  auto updated = client_->Update(kPersistentVolumeClaims, ns, c);
  if (!updated.ok()) return updated.status();
  Json with_status = *updated;
  with_status["status"] = {{"phase", "Bound"},
                           {"accessModes", pv["spec"]["accessModes"]},
                           {"capacity", pv["spec"]["capacity"]}};
  return client_->Update(kPersistentVolumeClaims, ns, with_status, "status").status();
}

Status LocalPathController::ReleaseVolumes() {
  for (const auto& pv : volumes_->List()) {
    if (pv["metadata"].value("annotations", Json::object()).value("pv.kubernetes.io/provisioned-by", "") !=
            kLocalPathProvisioner ||
        pv["metadata"].contains("deletionTimestamp")) {
      continue;
    }
    const Json& ref = pv["spec"].value("claimRef", Json::object());
    Json claim;
    bool claim_there = claims_->Get(ref.value("namespace", "") + "/" + ref.value("name", ""), &claim) &&
                       claim["metadata"].value("uid", "") == ref.value("uid", "");
    if (claim_there) continue;
    std::string name = pv["metadata"].value("name", "");
    if (pv.value("status", Json::object()).value("phase", "") != "Released") {
      Json released = pv;
      released["status"] = {{"phase", "Released"}};
      (void)client_->Update(kPersistentVolumes, "", released, "status");
    }
    if (pv["spec"].value("persistentVolumeReclaimPolicy", "") == "Delete") {
      (void)client_->Delete(kPersistentVolumes, "", name);  // the node's kubelet removes the data, then the finalizer
    }
  }
  return Status::OK();
}

void LocalPathController::Run(const std::atomic<bool>& stop) {
  while (!stop && !(pods_->HasSynced() && claims_->HasSynced() && volumes_->HasSynced() && classes_->HasSynced())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::thread releaser([&] {
    while (!stop) {
      (void)ReleaseVolumes();
      for (int i = 0; i < 20 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  RunWorker(queue_, stop, std::chrono::seconds(1), [this](const std::string& key) { return SyncClaim(key); });
  releaser.join();
}

}  // namespace kubes::controller
