#include "client/event_correlator.h"

#include <algorithm>

namespace kubes::client {
namespace {

std::string Str(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// The involved object (without fieldPath: upstream's spam and aggregate keys leave it
// out) and then `parts`.
std::string Key(const nlohmann::json& ref, std::initializer_list<const std::string*> parts) {
  std::string key;
  for (const char* k : {"kind", "namespace", "name", "uid", "apiVersion"}) key += Str(ref, k) + '\x1f';
  for (const std::string* p : parts) key += *p + '\x1f';
  return key;
}

}  // namespace

template <typename V>
V& EventCorrelator::Lru<V>::Get(const std::string& key, bool* found) {
  auto it = entries.find(key);
  *found = it != entries.end();
  if (*found) {
    order.splice(order.begin(), order, it->second.second);
    return it->second.first;
  }
  if (entries.size() >= kMaxKeys) {
    entries.erase(order.back());
    order.pop_back();
  }
  order.push_front(key);
  return entries.emplace(key, std::make_pair(V{}, order.begin())).first->second.first;
}

bool EventCorrelator::TakeToken(const std::string& key, TimePoint when) {
  bool found;
  Bucket& b = buckets_.Get(key, &found);
  if (!found) b.last = when;
  if (when > b.last) {
    double refill = std::chrono::duration<double>(when - b.last) / kSpamRefill;
    b.tokens = std::min<double>(kSpamBurst, b.tokens + refill);
    b.last = when;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

EventCorrelator::Decision EventCorrelator::Correlate(const nlohmann::json& ref, const std::string& type,
                                                     const std::string& reason, const std::string& message,
                                                     TimePoint when) {
  Decision d;
  if (!TakeToken(Key(ref, {&type}), when)) {
    d.drop = true;
    return d;
  }
  std::string field_path = Str(ref, "fieldPath");
  d.message = message;
  d.repeat_key = Key(ref, {&field_path, &type, &reason, &message});

  bool found;
  std::string aggregate_key = Key(ref, {&type, &reason});
  Aggregate& a = aggregates_.Get(aggregate_key, &found);
  if (found && when - a.last > kAggregateInterval) a = Aggregate{};
  a.messages.insert(message);
  a.last = when;
  if (a.messages.size() < kAggregateMaxEvents) return d;
  a.messages.erase(a.messages.begin());  // the set stays at the threshold
  d.message = "(combined from similar events): " + message;
  d.repeat_key = "combined\x1f" + aggregate_key;
  return d;
}

}  // namespace kubes::client
