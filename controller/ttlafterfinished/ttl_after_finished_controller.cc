#include "controller/ttlafterfinished/ttl_after_finished_controller.h"

#include <thread>

#include "client/resources.h"
#include "controller/job/job_utils.h"
#include "controller/worker.h"

namespace kubes::controller {

using Json = nlohmann::json;

TTLAfterFinishedController::TTLAfterFinishedController(client::Client* c, client::Informer& jobs, const Clock& clock)
    : client_(c), jobs_(jobs), clock_(clock) {
  jobs_.AddHandlers({.on_add = [this](const Json& j) { EnqueueIfNeeded(j); },
                     .on_update = [this](const Json&, const Json& j) { EnqueueIfNeeded(j); },
                     .on_delete = nullptr});
}

void TTLAfterFinishedController::Run(const std::atomic<bool>& stop) {
  while (!stop && !jobs_.HasSynced()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  RunWorker(queue_, stop, std::chrono::milliseconds(200), [this](const std::string& key) { return SyncJob(key); });
}

void TTLAfterFinishedController::EnqueueIfNeeded(const Json& job) {
  if (job["metadata"].contains("deletionTimestamp") || !ExpireTime(job)) return;
  queue_.Add(client::Informer::KeyOf(job));
}

std::optional<TimePoint> TTLAfterFinishedController::ExpireTime(const Json& job) {
  const Json& ttl = job.value("spec", Json::object()).value("ttlSecondsAfterFinished", Json());
  if (!ttl.is_number_integer()) return std::nullopt;
  auto finished = job::FinishedCondition(job);
  if (!finished) return std::nullopt;
  return finished->second + std::chrono::seconds(ttl.get<int64_t>());
}

Status TTLAfterFinishedController::SyncJob(const std::string& key) {
  Json job;
  if (!jobs_.Get(key, &job) || job["metadata"].contains("deletionTimestamp")) return Status::OK();
  auto expire = ExpireTime(job);
  if (!expire) return Status::OK();
  TimePoint now = clock_.Now();
  if (*expire > now) {
    queue_.AddAfter(key, std::chrono::duration_cast<std::chrono::milliseconds>(*expire - now));
    return Status::OK();
  }
  // The cached copy says it expired; the TTL may have been changed since. Look again.
  std::string ns = job["metadata"].value("namespace", "");
  std::string name = job["metadata"].value("name", "");
  auto fresh = client_->Get(client::kJobs, ns, name);
  if (!fresh.ok()) return fresh.status().code() == Code::kNotFound ? Status::OK() : fresh.status();
  expire = ExpireTime(*fresh);
  if (!expire) return Status::OK();
  if (*expire > now) {
    queue_.AddAfter(key, std::chrono::duration_cast<std::chrono::milliseconds>(*expire - now));
    return Status::OK();
  }
  Json options = {{"propagationPolicy", "Foreground"},
                  {"preconditions", {{"resourceVersion", (*fresh)["metadata"].value("resourceVersion", "")}}}};
  Status s = client_->Delete(client::kJobs, ns, name, options);
  if (s.code() == Code::kNotFound) return Status::OK();
  return s;
}

}  // namespace kubes::controller
