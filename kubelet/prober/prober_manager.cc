#include "kubelet/prober/prober_manager.h"

#include <pthread.h>

#include <random>

namespace kubes::kubelet::prober {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr ProbeType kTypes[] = {ProbeType::kStartup, ProbeType::kReadiness, ProbeType::kLiveness};

bool HasProbe(const Json& container, ProbeType t) {
  const char* field = ProbeField(t);
  return container.contains(field) && container[field].is_object();
}

// A random part of d (the first runs after a kubelet restart are spread over a period).
SteadyClock::duration Jitter(SteadyClock::duration d) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> frac(0.0, 1.0);
  return std::chrono::duration_cast<SteadyClock::duration>(d * frac(rng));
}

}  // namespace

Manager::Manager(ManagerOptions options, std::function<void(const std::string&)> on_update, const Clock& clock)
    : clock_(clock),
      prober_(std::move(options.prober)),
      liveness_(on_update),
      readiness_(on_update),
      startup_(on_update),
      user_agent_("kube-probe/" + prober_.options().version),
      pool_("kubelet-probe", options.threads, options.max_threads) {
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  pthread_setname_np(scheduler_.native_handle(), "kubelet-prober");
}

Manager::~Manager() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  loop_.Wake();
  scheduler_.join();
  // pool_ is destroyed next and waits for the probes still running.
}

ResultsManager* Manager::ResultsFor(ProbeType t) {
  switch (t) {
    case ProbeType::kLiveness:
      return &liveness_;
    case ProbeType::kReadiness:
      return &readiness_;
    case ProbeType::kStartup:
      return &startup_;
  }
  return &liveness_;
}

void Manager::ScheduleLocked(const std::shared_ptr<Entry>& entry, SteadyClock::time_point at) {
  entry->due = at;
  // The scheduler sleeps until the earliest due time: wake it only for an earlier one.
  bool earlier = heap_.empty() || at < heap_.top().at;
  heap_.push({at, ++entry->generation, entry});
  if (earlier) loop_.Wake();
}

void Manager::UpdatePod(const std::string& uid, PodView view, bool add_workers) {
  auto shared = std::make_shared<const PodView>(std::move(view));
  const Json& spec = shared->pod->contains("spec") ? (*shared->pod)["spec"] : Json::object();
  std::vector<Json> containers;
  for (const auto& c : spec.value("initContainers", Json::array())) {
    // Only sidecars (restartPolicy Always) may have probes among init containers.
    if (c.value("restartPolicy", "") == "Always") containers.push_back(c);
  }
  for (const auto& c : spec.value("containers", Json::array())) containers.push_back(c);

  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return;
  pods_[uid] = shared;
  auto now = SteadyClock::now();
  for (const auto& c : containers) {
    std::string name = c.value("name", "");
    for (ProbeType t : kTypes) {
      if (!HasProbe(c, t)) continue;
      Key key{uid, name, t};
      auto it = workers_.find(key);
      if (it == workers_.end()) {
        if (!add_workers) continue;
        auto entry = std::make_shared<Entry>();
        entry->key = key;
        entry->worker = std::make_unique<Worker>(uid, c, t, Worker::Deps{&prober_, ResultsFor(t), &startup_});
        // Right after the kubelet started, spread the first runs over a period.
        auto first = now;
        if (now - start_ < entry->worker->period()) first += Jitter(entry->worker->period());
        workers_[key] = entry;
        ScheduleLocked(entry, first);
        continue;
      }
      // A started container whose readiness has not passed yet is probed at once.
      const auto& entry = it->second;
      auto view_it = shared->containers.find(name);
      if (t != ProbeType::kReadiness || view_it == shared->containers.end() || !view_it->second.running) continue;
      const std::string& id = view_it->second.id;
      if (!prober::IsStarted(c, id, startup_) || IsReady(c, id)) continue;
      if (entry->worker->container_id() == id && entry->worker->probed()) continue;
      if (entry->in_flight) entry->rerun = true;
      else if (entry->due > now) ScheduleLocked(entry, now);
    }
  }
}

void Manager::RemovePod(const std::string& uid) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pods_.erase(uid);
    for (auto it = workers_.lower_bound(Key{uid, "", ProbeType::kLiveness});
         it != workers_.end() && std::get<0>(it->first) == uid;) {
      it->second->stopped = true;
      if (!it->second->in_flight && !it->second->worker->container_id().empty()) {
        ids.push_back(it->second->worker->container_id());
      }
      it = workers_.erase(it);
    }
  }
  for (const auto& id : ids) {
    liveness_.Remove(id);
    readiness_.Remove(id);
    startup_.Remove(id);
  }
}

void Manager::SchedulerLoop() {
  std::vector<std::shared_ptr<Entry>> due;
  while (true) {
    SteadyClock::time_point wake_at;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      auto now = SteadyClock::now();
      while (!heap_.empty() && heap_.top().at <= now) {
        Due d = heap_.top();
        heap_.pop();
        if (d.entry->stopped || d.generation != d.entry->generation || d.entry->in_flight) continue;
        d.entry->in_flight = true;
        due.push_back(std::move(d.entry));
      }
      wake_at = heap_.empty() ? now + std::chrono::seconds(1) : heap_.top().at;
    }
    for (const auto& entry : due) Start(entry);
    due.clear();
    // Socket events, probe deadlines, and the next due worker, whichever comes first.
    loop_.RunOnce(wake_at);
  }
}

void Manager::Start(const std::shared_ptr<Entry>& entry) {
  std::shared_ptr<const PodView> view;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(std::get<0>(entry->key));
    if (it != pods_.end()) view = it->second;
  }
  Worker& w = *entry->worker;
  Worker::Tick tick = w.Prepare(view.get(), clock_.Now());
  if (tick != Worker::Tick::kProbe) return Finish(entry, tick == Worker::Tick::kWait);
  const Json& spec = w.spec();
  auto timeout = ProbeTimeout(spec);
  if (spec.contains("httpGet") && spec["httpGet"].value("scheme", "HTTP") != "HTTPS") {
    if (!entry->request || entry->request_ip != view->pod_ip) {
      auto req = NewRequestForHTTPGetAction(spec["httpGet"], w.container(), view->pod_ip, user_agent_);
      if (!req.ok()) return Complete(entry, *view, ProbeOutput::Error(req.status()));
      entry->request = std::move(req).value();
      entry->request_ip = view->pod_ip;
    }
    loop_.StartHTTP(*entry->request, timeout, [this, entry, view, request = *entry->request, timeout](Result<HTTPResponse> r) {
      if (r.ok() && FollowsRedirect(request, *r)) {
        // Rare: the redirect is followed the slow way, on the pool.
        pool_.Submit([this, entry, view, request, timeout] { Complete(entry, *view, DoHTTPProbe(request, timeout)); });
        return;
      }
      Complete(entry, *view, HTTPProbeOutput(r));
    });
    return;
  }
  if (spec.contains("tcpSocket")) {
    auto port = ResolveContainerPort(spec["tcpSocket"].value("port", Json()), w.container());
    if (!port.ok()) return Complete(entry, *view, ProbeOutput::Error(port.status()));
    std::string host = spec["tcpSocket"].value("host", "");
    loop_.StartTCP(host.empty() ? view->pod_ip : host, *port, timeout,
                   [this, entry, view](ProbeOutput out) { Complete(entry, *view, out); });
    return;
  }
  pool_.Submit([this, entry, view] {
    Worker& worker = *entry->worker;
    Complete(entry, *view,
             prober_.RunProbeWithRetries(worker.spec(), *view, worker.container(), worker.container_id()));
  });
}

void Manager::Complete(const std::shared_ptr<Entry>& entry, const PodView& view, const ProbeOutput& out) {
  Worker& w = *entry->worker;
  bool errored = false;
  ProbeResult result = prober_.Verdict(w.type(), view, w.container(), out, &errored);
  w.Record(result, errored);
  Finish(entry, true);
}

void Manager::Finish(const std::shared_ptr<Entry>& entry, bool keep) {
  std::string stale_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    entry->in_flight = false;
    if (entry->stopped) {
      stale_id = entry->worker->container_id();  // removed while it ran
    } else if (!keep) {
      // The worker ends (upstream: its goroutine returns and removes it); the next
      // sync of a running pod may create a new one.
      entry->stopped = true;
      auto it = workers_.find(entry->key);
      if (it != workers_.end() && it->second == entry) workers_.erase(it);
      stale_id = entry->worker->container_id();
    } else {
      auto now = SteadyClock::now();
      auto next = entry->due + entry->worker->period();
      if (next < now) next = now;  // overran: one catch-up run, not a backlog
      if (entry->rerun) next = now;
      entry->rerun = false;
      ScheduleLocked(entry, next);
    }
  }
  if (!stale_id.empty()) ResultsFor(entry->worker->type())->Remove(stale_id);
}

bool Manager::IsStarted(const Json& container, const std::string& container_id) const {
  return prober::IsStarted(container, container_id, startup_);
}

bool Manager::IsReady(const Json& container, const std::string& container_id) const {
  if (!HasProbe(container, ProbeType::kReadiness)) return true;
  ProbeResult r;
  return readiness_.Get(container_id, &r) && r == ProbeResult::kSuccess;
}

bool Manager::LivenessFailed(const std::string& container_id) const {
  ProbeResult r;
  return liveness_.Get(container_id, &r) && r == ProbeResult::kFailure;
}

bool Manager::StartupFailed(const std::string& container_id) const {
  ProbeResult r;
  return startup_.Get(container_id, &r) && r == ProbeResult::kFailure;
}

size_t Manager::workers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return workers_.size();
}

}  // namespace kubes::kubelet::prober
