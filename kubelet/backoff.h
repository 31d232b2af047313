// Backoff — per-key exponential back-off of the kubelet (upstream: client-go
// util/flowcontrol.Backoff as the kubelet uses it for crash loops and image pulls).
//
// For a container that keeps failing: the first restart is immediate; after that the
// kubelet waits 10 s, 20 s, 40 s … up to 5 min from the container's last exit. An
// entry not touched for twice the maximum (10 min: the container ran fine that long)
// starts over.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "util/time.h"

namespace kubes::kubelet {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  Backoff(Duration initial, Duration max) : initial_(initial), max_(max) {}

  // True while `now` is within the current back-off counted from `event` (the last exit).
  bool InBackoffSince(const std::string& key, TimePoint event, TimePoint now) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || Expired(event, it->second.last_update)) return false;
    return now - event < it->second.duration;
  }
  // Records another failure at `event`: the next back-off doubles (or starts at initial).
  void Next(const std::string& key, TimePoint event) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || Expired(event, it->second.last_update)) {
      entries_[key] = {initial_, event};
      return;
    }
    it->second.duration = std::min<Duration>(it->second.duration * 2, max_);
    it->second.last_update = event;
  }
  Duration Get(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    return it == entries_.end() ? Duration(0) : it->second.duration;
  }
  void Reset(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(key);
  }
  // Drops every key starting with `prefix` (a pod that is gone).
  void ResetPrefix(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.rfind(prefix, 0) == 0;) {
      it = entries_.erase(it);
    }
  }

 private:
  struct Entry {
    Duration duration;
    TimePoint last_update;
  };
  bool Expired(TimePoint event, TimePoint last_update) const { return event - last_update > 2 * max_; }

  Duration initial_, max_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace kubes::kubelet
