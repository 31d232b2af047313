#include "kubelet/streaming/status_json.h"

namespace kubes::kubelet::streaming {

nlohmann::ordered_json StatusJson(const Status& s, bool with_type_meta) {
  nlohmann::ordered_json j;
  if (with_type_meta) {
    j["kind"] = "Status";
    j["apiVersion"] = "v1";
  }
  j["metadata"] = nlohmann::ordered_json::object();
  if (s.ok()) {
    j["status"] = "Success";
    return j;
  }
  j["status"] = "Failure";
  j["message"] = s.message();
  j["reason"] = s.Reason();
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
  const Details& d = s.details();
  if (!d.name.empty()) details["name"] = d.name;
  if (!d.group.empty()) details["group"] = d.group;
  if (!d.kind.empty()) details["kind"] = d.kind;
  if (!d.uid.empty()) details["uid"] = d.uid;
  if (!s.causes().empty()) {
    nlohmann::ordered_json causes = nlohmann::ordered_json::array();
    for (const Cause& c : s.causes()) {
      nlohmann::ordered_json cause = nlohmann::ordered_json::object();
      if (!c.reason.empty()) cause["reason"] = c.reason;
      if (!c.message.empty()) cause["message"] = c.message;
      if (!c.field.empty()) cause["field"] = c.field;
      causes.push_back(std::move(cause));
    }
    details["causes"] = std::move(causes);
  }
  if (d.retry_after_seconds > 0) details["retryAfterSeconds"] = d.retry_after_seconds;
  if (!details.empty()) j["details"] = std::move(details);
  j["code"] = s.HttpCode();
  return j;
}

}  // namespace kubes::kubelet::streaming
