// EventRecorder — writes core/v1 Events about objects: how components tell users what
// they did ("Scheduled", "FailedScheduling", "Pulled", ...), what `kubectl describe`
// lists under Events (upstream: client-go tools/record — EventRecorder, the
// broadcaster's queue and the event correlator's logger).
//
// Event() never blocks the caller: it puts the event on a bounded queue (1000 entries,
// as upstream's broadcaster) and one background thread writes it through the Client.
// When the queue is full the event is dropped, as upstream does.
//
// Repeats: the same (object, fieldPath, type, reason, message) again within 10 minutes
// of its previous occurrence PATCHes the existing Event's count, lastTimestamp and
// message instead of creating a new Event. If that Event is gone meanwhile (events
// expire), it is created again under its name with the running count. Before that,
// the EventCorrelator (client/event_correlator.h) drops events over an object's budget
// (25, then one per 5 minutes) and folds many similar messages into one
// "(combined from similar events)" event, as upstream's correlator does.
//
// Shutdown: the destructor keeps writing what is queued for up to 1 second, then drops
// the rest. A write already in progress is not interrupted.
//
// Thread-safety: Event may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "client/client.h"
#include "client/event_correlator.h"
#include "util/time.h"

namespace kubes::client {

class EventRecorder {
 public:
  static constexpr size_t kMaxQueuedEvents = 1000;
  static constexpr std::chrono::minutes kAggregationWindow{10};
  static constexpr std::chrono::seconds kFlushTimeout{1};

  // component: source.component and reportingComponent ("default-scheduler",
  // "kubelet"); host: source.host and reportingInstance (the node name), "" for none.
  EventRecorder(Client* client, std::string component, std::string host = "",
                const Clock& clock = RealClock::Get());
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Records an event about `involved` (a whole API object: its kind, apiVersion and
  // metadata are read). type is "Normal" or "Warning"; reason is a short CamelCase
  // word; message is for people.
  void Event(const Json& involved, const std::string& type, const std::string& reason, const std::string& message);
  // The same about one part of the object, e.g. field_path "spec.containers{app}".
  void Event(const Json& involved, const std::string& field_path, const std::string& type,
             const std::string& reason, const std::string& message);

  // The core/v1 Event object for a first occurrence (exposed for tests and for
  // callers that want to see what is written). `ref` is an involvedObject.
  static Json MakeEvent(const Json& ref, const std::string& type, const std::string& reason,
                        const std::string& message, const std::string& component, const std::string& host,
                        TimePoint when, const std::string& name);

 private:
  struct Pending {
    Json ref;  // involvedObject
    std::string type, reason, message;
    TimePoint when;
  };
  // What the writer remembers of an event it wrote, for repeats.
  struct Seen {
    std::string name;
    std::string namespace_;
    std::string first_timestamp;
    int count = 0;
    TimePoint last;
  };

  void Loop();
  void Write(const Pending& p);
  std::string NewName(const std::string& object_name, TimePoint when);
  void Prune(TimePoint now);

  Client* client_;
  std::string component_;
  std::string host_;
  const Clock& clock_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point deadline_;

  // Used by the writer thread only.
  EventCorrelator correlator_;
  std::map<std::string, Seen> seen_;
  int64_t last_nanos_ = 0;

  std::thread writer_;  // last: starts after everything above exists
};

}  // namespace kubes::client
