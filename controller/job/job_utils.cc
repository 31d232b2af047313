#include "controller/job/job_utils.h"

#include <algorithm>

namespace kubes::controller::job {
namespace {

const Json& Field(const Json& obj, const char* a) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(a);
  return it == obj.end() ? kNull : *it;
}
const Json& Spec(const Json& job) { return Field(job, "spec"); }

std::optional<int> IntField(const Json& obj, const char* name) {
  const Json& v = Field(obj, name);
  if (!v.is_number_integer()) return std::nullopt;
  int64_t n = v.get<int64_t>();
  return static_cast<int>(std::clamp<int64_t>(n, INT32_MIN, INT32_MAX));
}

std::string Annotation(const Json& obj, const char* key) {
  const Json& a = Field(Field(obj, "metadata"), "annotations");
  const Json& v = Field(a, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// strconv.Atoi on a non-negative decimal; nullopt for anything else.
std::optional<int64_t> Atoi(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  size_t i = s[0] == '+' ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int ParseCount(const std::string& s) {
  auto v = Atoi(s);
  return v && *v <= INT32_MAX ? static_cast<int>(*v) : 0;
}

std::optional<TimePoint> TimeField(const Json& obj, const char* name) {
  const Json& v = Field(obj, name);
  if (!v.is_string()) return std::nullopt;
  return ParseRFC3339(v.get<std::string>());
}

// The latest finishedAt of the statuses (all must have one), chained onto prev.
std::optional<TimePoint> LatestFinish(std::optional<TimePoint> prev, const Json& statuses,
                                      const std::set<std::string>* only) {
  if (!statuses.is_array()) return prev;
  for (const auto& cs : statuses) {
    if (only && !only->count(cs.value("name", ""))) continue;
    auto at = TimeField(Field(Field(cs, "state"), "terminated"), "finishedAt");
    if (!at) return std::nullopt;
    if (!prev || *prev < *at) prev = at;
  }
  return prev;
}

const Json* MatchOnExitCodes(const Json& pod, const Json& req) {
  for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
    const Json& statuses = Field(Field(pod, "status"), list);
    if (!statuses.is_array()) continue;
    for (const auto& cs : statuses) {
      const Json& term = Field(Field(cs, "state"), "terminated");
      if (!term.is_object()) continue;
      const Json& name = Field(req, "containerName");
      if (name.is_string() && name.get<std::string>() != cs.value("name", "")) continue;
      int64_t code = term.value("exitCode", int64_t{0});
      if (code == 0) continue;
      const Json& values = Field(req, "values");
      bool in = values.is_array() && std::any_of(values.begin(), values.end(), [&](const Json& v) {
                  return v.is_number_integer() && v.get<int64_t>() == code;
                });
      std::string op = req.value("operator", "");
      if ((op == "In" && in) || (op == "NotIn" && !in)) return &cs;
    }
  }
  return nullptr;
}

const Json* MatchOnPodConditions(const Json& pod, const Json& patterns) {
  const Json& conds = Field(Field(pod, "status"), "conditions");
  if (!conds.is_array() || !patterns.is_array()) return nullptr;
  for (const auto& c : conds) {
    for (const auto& p : patterns) {
      if (c.value("type", "") == p.value("type", "") && c.value("status", "") == p.value("status", "True")) return &c;
    }
  }
  return nullptr;
}

bool MatchSucceededIndexesRule(const OrderedIntervals& rule, const OrderedIntervals& succeeded,
                               std::optional<int> count) {
  int contains = 0;
  size_t r = 0, s = 0;
  const auto& rv = rule.intervals();
  const auto& sv = succeeded.intervals();
  while (r < rv.size() && s < sv.size()) {
    int overlap = std::min(rv[r].last, sv[s].last) - std::max(rv[r].first, sv[s].first) + 1;
    if (overlap > 0) contains += overlap;
    if (sv[s].last < rv[r].last) ++s;
    else if (sv[s].last > rv[r].last) ++r;
    else ++s, ++r;
  }
  return contains == rule.Total() || (count && contains >= *count);
}

}  // namespace

// ---- the Job's spec ----

bool IsIndexedJob(const Json& job) { return Spec(job).value("completionMode", "") == "Indexed"; }
std::optional<int> Completions(const Json& job) { return IntField(Spec(job), "completions"); }
int Parallelism(const Json& job) { return IntField(Spec(job), "parallelism").value_or(1); }
int BackoffLimit(const Json& job) { return IntField(Spec(job), "backoffLimit").value_or(6); }
bool HasBackoffLimitPerIndex(const Json& job) { return IntField(Spec(job), "backoffLimitPerIndex").has_value(); }
bool IsSuspended(const Json& job) { return Spec(job).value("suspend", false); }

bool OnlyReplaceFailedPods(const Json& job) {
  return Spec(job).value("podReplacementPolicy", "") == "Failed" || Field(Spec(job), "podFailurePolicy").is_object();
}

// ---- pods ----

bool HasJobTrackingFinalizer(const Json& pod) {
  const Json& f = Field(Field(pod, "metadata"), "finalizers");
  return f.is_array() && std::find(f.begin(), f.end(), kJobTrackingFinalizer) != f.end();
}

std::string PodPhase(const Json& pod) { return Field(pod, "status").value("phase", ""); }

static bool Deleted(const Json& pod) { return Field(Field(pod, "metadata"), "deletionTimestamp").is_string(); }

bool IsPodFailed(const Json& pod, const Json& job) {
  std::string phase = PodPhase(pod);
  if (phase == "Failed") return true;
  if (OnlyReplaceFailedPods(job)) return false;
  // A deleted pod may never reach Failed (an orphan, a lost node): it counts as failed.
  return Deleted(pod) && phase != "Succeeded";
}

bool IsPodTerminating(const Json& pod) {
  std::string phase = PodPhase(pod);
  return Deleted(pod) && phase != "Succeeded" && phase != "Failed";
}

int CompletionIndex(const Json& pod) {
  auto v = Atoi(Annotation(pod, kJobCompletionIndexAnnotation));
  if (!v || *v > INT32_MAX) return kUnknownCompletionIndex;
  return static_cast<int>(*v);
}

TimePoint FinishedTime(const Json& pod) {
  const Json& status = Field(pod, "status");
  const Json& cs = Field(status, "containerStatuses");
  std::optional<TimePoint> t = cs.is_array() && !cs.empty() ? LatestFinish(std::nullopt, cs, nullptr) : std::nullopt;
  if (t) {
    // Sidecars (restartable init containers) finish after the main containers.
    std::set<std::string> sidecars;
    for (const auto& c : Field(Field(pod, "spec"), "initContainers")) {
      if (c.value("restartPolicy", "") == "Always") sidecars.insert(c.value("name", ""));
    }
    if (!sidecars.empty()) t = LatestFinish(t, Field(status, "initContainerStatuses"), &sidecars);
    if (t) return *t;
  }
  const Json& conds = Field(status, "conditions");
  if (conds.is_array()) {
    for (const auto& c : conds) {
      if (c.value("type", "") == "Ready" && c.value("status", "") == "False") {
        if (auto at = TimeField(c, "lastTransitionTime")) return *at;
      }
    }
  }
  const Json& meta = Field(pod, "metadata");
  if (auto deleted = TimeField(meta, "deletionTimestamp")) {
    return *deleted - std::chrono::seconds(meta.value("deletionGracePeriodSeconds", int64_t{0}));
  }
  return TimeField(meta, "creationTimestamp").value_or(TimePoint{});
}

int IndexFailureCount(const Json& pod) { return ParseCount(Annotation(pod, kJobIndexFailureCountAnnotation)); }
int IndexIgnoredFailureCount(const Json& pod) {
  return ParseCount(Annotation(pod, kJobIndexIgnoredFailureCountAnnotation));
}

// ---- interval lists ----

OrderedIntervals OrderedIntervals::Parse(const std::string& s, int completions) {
  OrderedIntervals out;
  if (s.empty()) return out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? s.size() + 1 : comma + 1;
    size_t dash = part.find('-');
    auto first = Atoi(part.substr(0, dash));
    if (!first || *first > INT32_MAX) continue;  // corrupted: skipped, as upstream
    if (*first >= completions) break;
    int64_t last = *first;
    if (dash != std::string::npos) {
      std::string rest = part.substr(dash + 1);
      auto l = Atoi(rest.substr(0, rest.find('-')));
      if (!l) continue;
      last = std::min<int64_t>(*l, completions - 1);
    }
    Interval iv{static_cast<int>(*first), static_cast<int>(last)};
    if (!out.v_.empty() && out.v_.back().last == iv.first - 1) out.v_.back().last = iv.last;
    else out.v_.push_back(iv);
  }
  return out;
}

OrderedIntervals OrderedIntervals::Merge(const OrderedIntervals& other) const {
  OrderedIntervals out;
  auto append = [&](const Interval& iv) {
    if (out.v_.empty() || iv.first > out.v_.back().last + 1) out.v_.push_back(iv);
    else if (out.v_.back().last < iv.last) out.v_.back().last = iv.last;
  };
  size_t i = 0, j = 0;
  while (i < v_.size() && j < other.v_.size()) {
    if (v_[i].first < other.v_[j].first) append(v_[i++]);
    else append(other.v_[j++]);
  }
  while (i < v_.size()) append(v_[i++]);
  while (j < other.v_.size()) append(other.v_[j++]);
  return out;
}

OrderedIntervals OrderedIntervals::WithOrderedIndexes(const std::vector<int>& indexes) const {
  OrderedIntervals add;
  for (int ix : indexes) add.v_.push_back({ix, ix});
  return Merge(add);
}

int OrderedIntervals::Total() const {
  int n = 0;
  for (const auto& iv : v_) n += iv.last - iv.first + 1;
  return n;
}

bool OrderedIntervals::Has(int ix) const {
  auto it = std::lower_bound(v_.begin(), v_.end(), ix, [](const Interval& iv, int x) { return iv.last < x; });
  return it != v_.end() && it->first <= ix;
}

std::string OrderedIntervals::String() const {
  std::string out;
  for (const auto& iv : v_) {
    if (!out.empty()) out += ',';
    out += std::to_string(iv.first);
    if (iv.last > iv.first) out += (iv.last == iv.first + 1 ? "," : "-") + std::to_string(iv.last);
  }
  return out;
}

std::vector<int> FirstPendingIndexes(const OrderedIntervals& taken, int count, int completions) {
  std::vector<int> out;
  int candidate = 0;
  for (const auto& iv : taken.intervals()) {
    for (; candidate < completions && static_cast<int>(out.size()) < count && candidate < iv.first; ++candidate) {
      out.push_back(candidate);
    }
    candidate = std::max(candidate, iv.last + 1);
  }
  for (; candidate < completions && static_cast<int>(out.size()) < count; ++candidate) out.push_back(candidate);
  return out;
}

// ---- policies ----

PolicyMatch MatchPodFailurePolicy(const Json& job, const Json& pod) {
  PolicyMatch m;
  const Json& rules = Field(Field(Spec(job), "podFailurePolicy"), "rules");
  if (!rules.is_array()) return m;
  std::string ns = Field(pod, "metadata").value("namespace", "");
  std::string name = Field(pod, "metadata").value("name", "");
  for (size_t i = 0; i < rules.size(); ++i) {
    const Json& rule = rules[i];
    std::string action = rule.value("action", "");
    std::string why;
    if (Field(rule, "onExitCodes").is_object()) {
      const Json* cs = MatchOnExitCodes(pod, rule["onExitCodes"]);
      if (!cs) continue;
      why = "Container " + cs->value("name", "") + " for pod " + ns + "/" + name + " failed with exit code " +
            std::to_string((*cs)["state"]["terminated"].value("exitCode", 0)) + " matching " + action +
            " rule at index " + std::to_string(i);
    } else if (Field(rule, "onPodConditions").is_array()) {
      const Json* c = MatchOnPodConditions(pod, rule["onPodConditions"]);
      if (!c) continue;
      why = "Pod " + ns + "/" + name + " has condition " + c->value("type", "") + " matching " + action +
            " rule at index " + std::to_string(i);
    } else {
      continue;
    }
    if (action == "Ignore") return {std::nullopt, false, action};
    if (action == "Count" || action == "FailIndex") return {std::nullopt, true, action};
    if (action == "FailJob") return {why, true, action};
  }
  return m;
}

std::optional<std::string> MatchSuccessPolicy(const Json& job, const OrderedIntervals& succeeded) {
  const Json& rules = Field(Field(Spec(job), "successPolicy"), "rules");
  auto completions = Completions(job);
  if (!rules.is_array() || succeeded.empty() || !completions) return std::nullopt;
  for (size_t i = 0; i < rules.size(); ++i) {
    const Json& rule = rules[i];
    std::optional<int> count = IntField(rule, "succeededCount");
    const Json& indexes = Field(rule, "succeededIndexes");
    bool met = false;
    if (indexes.is_string()) {
      OrderedIntervals required = OrderedIntervals::Parse(indexes.get<std::string>(), *completions);
      if (required.empty()) continue;
      met = MatchSucceededIndexesRule(required, succeeded, count);
    } else if (count) {
      met = succeeded.Total() >= *count;
    }
    if (met) return "Matched rules at index " + std::to_string(i);
  }
  return std::nullopt;
}

// ---- conditions ----

Json NewCondition(const std::string& type, const std::string& status, const std::string& reason,
                  const std::string& message, TimePoint now) {
  Json c = {{"type", type}, {"status", status}, {"lastProbeTime", FormatRFC3339(now)},
            {"lastTransitionTime", FormatRFC3339(now)}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

const Json* FindJobCondition(const Json& job, const std::string& type) {
  const Json& conds = Field(Field(job, "status"), "conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool ConditionTrue(const Json& job, const std::string& type) {
  const Json* c = FindJobCondition(job, type);
  return c && c->value("status", "") == "True";
}

bool EnsureJobConditionStatus(Json& status, const std::string& type, const std::string& cond_status,
                              const std::string& reason, const std::string& message, TimePoint now) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = Json::array();
  for (auto& c : status["conditions"]) {
    if (c.value("type", "") != type) continue;
    if (c.value("status", "") == cond_status && c.value("reason", "") == reason && c.value("message", "") == message) {
      return false;
    }
    c = NewCondition(type, cond_status, reason, message, now);
    return true;
  }
  bool added = cond_status != "False";  // from nothing to False says nothing
  if (added) status["conditions"].push_back(NewCondition(type, cond_status, reason, message, now));
  if (status["conditions"].empty()) status.erase("conditions");
  return added;
}

bool IsJobFinished(const Json& job) { return FinishedCondition(job).has_value(); }

std::optional<std::pair<std::string, TimePoint>> FinishedCondition(const Json& job) {
  const Json& conds = Field(Field(job, "status"), "conditions");
  if (!conds.is_array()) return std::nullopt;
  for (const auto& c : conds) {
    std::string type = c.value("type", "");
    if ((type == "Complete" || type == "Failed") && c.value("status", "") == "True") {
      return std::make_pair(type, TimeField(c, "lastTransitionTime").value_or(TimePoint{}));
    }
  }
  return std::nullopt;
}

// ---- backoff ----

std::chrono::milliseconds RemainingTimeForFailures(int failures, std::optional<TimePoint> last_failure,
                                                   TimePoint now) {
  if (failures <= 0 || !last_failure) return std::chrono::milliseconds(0);
  std::chrono::milliseconds backoff = kDefaultPodFailureBackoff;
  for (int i = 1; i < failures; ++i) {
    backoff *= 2;
    if (backoff >= kMaxPodFailureBackoff) {
      backoff = kMaxPodFailureBackoff;
      break;
    }
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - *last_failure);
  if (backoff < elapsed) return std::chrono::milliseconds(0);
  return backoff - elapsed;
}

std::chrono::milliseconds BackoffRecord::RemainingTime(TimePoint now) const {
  return RemainingTimeForFailures(failures_after_last_success, last_failure, now);
}

BackoffRecord BackoffStore::NewRecord(const std::string& key, std::vector<Json> succeeded,
                                      std::vector<Json> failed) const {
  BackoffRecord r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = records_.find(key);
    if (it != records_.end()) r = it->second;
  }
  r.key = key;
  auto by_finish = [](const Json& a, const Json& b) { return FinishedTime(a) < FinishedTime(b); };
  std::stable_sort(succeeded.begin(), succeeded.end(), by_finish);
  std::stable_sort(failed.begin(), failed.end(), by_finish);
  if (succeeded.empty()) {
    if (failed.empty()) return r;
    r.failures_after_last_success += static_cast<int>(failed.size());
    r.last_failure = FinishedTime(failed.back());
    return r;
  }
  // A success resets the count; failures after the last success start it again.
  r.failures_after_last_success = 0;
  r.last_failure.reset();
  TimePoint last_success = FinishedTime(succeeded.back());
  for (auto it = failed.rbegin(); it != failed.rend(); ++it) {
    TimePoint at = FinishedTime(*it);
    if (at <= last_success) break;
    if (!r.last_failure) r.last_failure = at;
    ++r.failures_after_last_success;
  }
  return r;
}

void BackoffStore::Update(const BackoffRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  records_[r.key] = r;
}

void BackoffStore::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  records_.erase(key);
}

// ---- finalizer expectations ----

std::set<std::string> FinalizerExpectations::Expected(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = uids_.find(key);
  return it == uids_.end() ? std::set<std::string>{} : it->second;
}

void FinalizerExpectations::ExpectRemoved(const std::string& key, const std::vector<std::string>& uids) {
  std::lock_guard<std::mutex> lock(mu_);
  uids_[key].insert(uids.begin(), uids.end());
}

void FinalizerExpectations::Observed(const std::string& key, const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = uids_.find(key);
  if (it == uids_.end()) return;
  it->second.erase(uid);
  if (it->second.empty()) uids_.erase(it);
}

void FinalizerExpectations::Delete(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  uids_.erase(key);
}

}  // namespace kubes::controller::job
