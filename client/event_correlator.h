// EventCorrelator — decides, before the EventRecorder writes, whether an event is
// written at all and as what (upstream: client-go tools/record events_cache.go, the
// spam filter and the aggregator of EventCorrelator; the count of repeats is kept by
// the recorder itself).
//
// - Spam filter: events from this recorder about one object and of one type (Normal or
//   Warning) share a token bucket of 25 that refills one token every 5 minutes. An event
//   without a token is dropped — also a repeat that would only raise a count. This is
//   what keeps an always-failing probe from flooding the API.
// - Aggregator: when events about one object with the same type and reason arrive with
//   10 different messages within 10 minutes (each seen less than 10 minutes after the one
//   before), the next ones are written as one event whose message is
//   "(combined from similar events): <latest message>", counted under one key.
//
// Both remember at most 4096 keys (upstream: LRU caches); the least recently used go.
//
// Thread-safety: none; the recorder's writer thread owns it.
#pragma once

#include <list>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "util/time.h"

namespace kubes::client {

class EventCorrelator {
 public:
  static constexpr int kSpamBurst = 25;
  static constexpr std::chrono::seconds kSpamRefill{300};  // one token per 5 minutes
  static constexpr size_t kAggregateMaxEvents = 10;
  static constexpr std::chrono::seconds kAggregateInterval{600};
  static constexpr size_t kMaxKeys = 4096;

  struct Decision {
    bool drop = false;
    std::string message;     // what to write (the message, or the combined one)
    std::string repeat_key;  // repeats of the same key raise one event's count
  };

  // `ref` is the event's involvedObject (kind, namespace, name, uid, apiVersion,
  // fieldPath).
  Decision Correlate(const nlohmann::json& ref, const std::string& type, const std::string& reason,
                     const std::string& message, TimePoint when);

 private:
  struct Bucket {
    double tokens = kSpamBurst;
    TimePoint last;
  };
  struct Aggregate {
    std::set<std::string> messages;
    TimePoint last;
  };
  // A map with least-recently-used eviction at kMaxKeys entries.
  template <typename V>
  struct Lru {
    std::map<std::string, std::pair<V, std::list<std::string>::iterator>> entries;
    std::list<std::string> order;  // most recent first
    V& Get(const std::string& key, bool* found);
  };

  bool TakeToken(const std::string& key, TimePoint when);

  Lru<Bucket> buckets_;
  Lru<Aggregate> aggregates_;
};

}  // namespace kubes::client
