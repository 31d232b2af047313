// TTLAfterFinishedController — deletes a finished Job once spec.ttlSecondsAfterFinished
// has passed since it finished (upstream: pkg/controller/ttlafterfinished).
//
// A Job is finished when its Complete or Failed condition is True; it expires at that
// condition's lastTransitionTime plus the TTL. SyncJob(key) either requeues the Job
// for when it expires or, once expired, reads it fresh from the apiserver (the TTL may
// have changed), checks again, and deletes it with propagationPolicy Foreground and
// its resourceVersion as precondition — so its pods go first, and a Job changed in the
// meantime is not deleted on stale information.
//
// Thread-safety: Run owns its thread; construct, Run (blocks), stop via the flag.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "client/client.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "util/time.h"

namespace kubes::controller {

class TTLAfterFinishedController {
 public:
  // jobs: an informer over all namespaces, run by the caller.
  TTLAfterFinishedController(client::Client* c, client::Informer& jobs, const Clock& clock = RealClock::Get());
  void Run(const std::atomic<bool>& stop);

  // key: "namespace/name". Deletes the Job if it has expired, else requeues it.
  Status SyncJob(const std::string& key);

  // When a Job expires: finish time + TTL; nullopt when it has no TTL or runs.
  static std::optional<TimePoint> ExpireTime(const nlohmann::json& job);

 private:
  void EnqueueIfNeeded(const nlohmann::json& job);

  client::Client* client_;
  client::Informer& jobs_;
  const Clock& clock_;
  client::WorkQueue queue_;
};

}  // namespace kubes::controller
