#include "client/record.h"

#include <cstdio>

namespace kubes::client {
namespace {

const Resource kEvents{"", "v1", "events", true, "Event"};
// Upstream's event cache holds this many entries (an LRU); older repeats start anew.
constexpr size_t kMaxSeen = 4096;

std::string Str(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// An ObjectReference to `obj` (upstream tools/reference.GetReference).
Json Reference(const Json& obj, const std::string& field_path) {
  Json meta = obj.is_object() ? obj.value("metadata", Json::object()) : Json::object();
  if (!meta.is_object()) meta = Json::object();
  Json ref = Json::object();
  auto put = [&ref](const char* key, const std::string& v) {
    if (!v.empty()) ref[key] = v;
  };
  put("kind", obj.is_object() ? Str(obj, "kind") : "");
  put("namespace", Str(meta, "namespace"));
  put("name", Str(meta, "name"));
  put("uid", Str(meta, "uid"));
  put("apiVersion", obj.is_object() ? Str(obj, "apiVersion") : "");
  put("resourceVersion", Str(meta, "resourceVersion"));
  put("fieldPath", field_path);
  return ref;
}

}  // namespace

EventRecorder::EventRecorder(Client* client, std::string component, std::string host, const Clock& clock)
    : client_(client), component_(std::move(component)), host_(std::move(host)), clock_(clock),
      writer_([this] { Loop(); }) {}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    deadline_ = std::chrono::steady_clock::now() + kFlushTimeout;
  }
  cv_.notify_all();
  writer_.join();
}

void EventRecorder::Event(const Json& involved, const std::string& type, const std::string& reason,
                          const std::string& message) {
  Event(involved, "", type, reason, message);
}

void EventRecorder::Event(const Json& involved, const std::string& field_path, const std::string& type,
                          const std::string& reason, const std::string& message) {
  Pending p{Reference(involved, field_path), type, reason, message, clock_.Now()};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= kMaxQueuedEvents) return;  // dropped, as upstream when full
    queue_.push_back(std::move(p));
  }
  cv_.notify_one();
}

Json EventRecorder::MakeEvent(const Json& ref, const std::string& type, const std::string& reason,
                              const std::string& message, const std::string& component, const std::string& host,
                              TimePoint when, const std::string& name) {
  // Events about cluster-scoped objects (Nodes, Namespaces) live in "default".
  std::string ns = Str(ref, "namespace");
  if (ns.empty()) ns = "default";
  std::string t = FormatRFC3339(when);
  Json source = {{"component", component}};
  if (!host.empty()) source["host"] = host;
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"involvedObject", ref},
             {"reason", reason},
             {"message", message},
             {"source", source},
             {"firstTimestamp", t},
             {"lastTimestamp", t},
             {"count", 1},
             {"type", type},
             {"eventTime", nullptr},
             {"reportingComponent", component}};
  if (!host.empty()) ev["reportingInstance"] = host;
  return ev;
}

// "<object name>.<unix nanoseconds in hex>", as upstream names them; strictly
// increasing so two events in the same nanosecond (a fake clock) do not collide.
std::string EventRecorder::NewName(const std::string& object_name, TimePoint when) {
  int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  if (nanos <= last_nanos_) nanos = last_nanos_ + 1;
  last_nanos_ = nanos;
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
  return object_name + "." + hex;
}

void EventRecorder::Loop() {
  while (true) {
    Pending p;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      if (stopping_ && std::chrono::steady_clock::now() >= deadline_) {
        queue_.clear();  // out of time: drop the rest
        return;
      }
      p = std::move(queue_.front());
      queue_.pop_front();
    }
    Write(p);
  }
}

void EventRecorder::Write(const Pending& in) {
  EventCorrelator::Decision d = correlator_.Correlate(in.ref, in.type, in.reason, in.message, in.when);
  if (d.drop) return;  // over the object's event budget
  Pending p = in;
  p.message = d.message;
  const std::string& key = d.repeat_key;
  auto it = seen_.find(key);
  bool repeat = it != seen_.end() && p.when - it->second.last < kAggregationWindow;
  if (repeat) {
    Seen& s = it->second;
    ++s.count;
    s.last = p.when;
    Json patch = {{"count", s.count}, {"lastTimestamp", FormatRFC3339(p.when)}, {"message", p.message}};
    auto patched = client_->Patch(kEvents, s.namespace_, s.name, "application/strategic-merge-patch+json", patch);
    if (patched.ok() || patched.status().code() != Code::kNotFound) return;
    // The Event expired meanwhile: write it again under its name, with the count so far.
    Json ev = MakeEvent(p.ref, p.type, p.reason, p.message, component_, host_, p.when, s.name);
    ev["firstTimestamp"] = s.first_timestamp;
    ev["count"] = s.count;
    (void)client_->Create(kEvents, s.namespace_, ev);
    return;
  }
  std::string name = NewName(Str(p.ref, "name"), p.when);
  Json ev = MakeEvent(p.ref, p.type, p.reason, p.message, component_, host_, p.when, name);
  std::string ns = ev["metadata"]["namespace"];
  auto created = client_->Create(kEvents, ns, ev);
  if (!created.ok()) return;  // not remembered: a repeat tries to create it again
  Prune(p.when);
  seen_[key] = Seen{name, ns, ev["firstTimestamp"], 1, p.when};
}

// Forgets events whose last occurrence is outside the window, and the oldest ones when
// there are still too many.
void EventRecorder::Prune(TimePoint now) {
  if (seen_.size() < kMaxSeen) return;
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = now - it->second.last >= kAggregationWindow ? seen_.erase(it) : std::next(it);
  }
  while (seen_.size() >= kMaxSeen) {
    auto oldest = seen_.begin();
    for (auto it = seen_.begin(); it != seen_.end(); ++it) {
      if (it->second.last < oldest->second.last) oldest = it;
    }
    seen_.erase(oldest);
  }
}

}  // namespace kubes::client
