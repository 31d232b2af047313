// LocalPathController — dynamic provisioning of node-local volumes for the `local-path`
// StorageClass (upstream counterparts: the PersistentVolume controller's binding of
// pkg/controller/volume/persistentvolume, and Rancher's local-path-provisioner that k3s
// ships).
//
// The class binds WaitForFirstConsumer: a claim stays Pending (event
// WaitForFirstConsumer) until a pod that uses it is on a node. Then the controller
// creates a PersistentVolume `pvc-<claim uid>` — a directory under the storage root on
// that node (hostPath, DirectoryOrCreate), with node affinity to it and the claim in
// claimRef — and binds both (spec.volumeName, phase Bound). When the claim goes, the
// volume is Released and, with reclaimPolicy Delete, deleted; its finalizer
// `kubes.io/local-path` keeps it until the node's kubelet has removed the directory.
//
// Pods, claims, volumes and classes come from the process's shared informers.
//
// Thread-safety: construct before the shared informers start; Run (blocks) on a thread
// of its own, stop via the flag; destroy after the informers have stopped.
#pragma once

#include <atomic>
#include <set>
#include <string>

#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/shared_informers.h"
#include "client/workqueue.h"

namespace kubes::controller {

constexpr char kLocalPathProvisioner[] = "kubes.io/local-path";

class LocalPathController {
 public:
  LocalPathController(client::Client* c, client::SharedInformers* informers, std::string storage_root);
  void Run(const std::atomic<bool>& stop);
  // "ns/name" of a claim: provision and bind it when a pod on a node wants it.
  Status SyncClaim(const std::string& key);
  // Volumes whose claim is gone: Released, then deleted (reclaimPolicy Delete).
  Status ReleaseVolumes();

 private:
  client::Client* client_;
  std::string root_;
  client::Informer *pods_, *claims_, *volumes_, *classes_;  // shared
  client::WorkQueue queue_;
  client::EventRecorder recorder_;
  std::set<std::string> waiting_reported_;  // claims told "WaitForFirstConsumer"
};

}  // namespace kubes::controller
