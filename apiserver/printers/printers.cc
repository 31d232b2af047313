#include "apiserver/printers/printers.h"

#include <map>
#include <mutex>

namespace kubes::apiserver {
namespace {

std::map<std::string, TablePrinter>& Printers() {
  static std::map<std::string, TablePrinter> m;
  return m;
}

void RegisterAll() {
  static std::once_flag once;
  std::call_once(once, [] {
    RegisterCorePrinters();
    RegisterAppsPrinters();
    RegisterOtherPrinters();
  });
}

}  // namespace

namespace printers {

void Register(const std::string& group, const std::string& kind, TablePrinter p) {
  Printers()[group + "/" + kind] = std::move(p);
}

std::string Since(const Json& timestamp, TimePoint now) {
  if (!timestamp.is_string()) return "<unknown>";
  auto t = ParseRFC3339(timestamp.get<std::string>());
  if (!t) return "<unknown>";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

std::string Age(const Json& obj, TimePoint now) {
  return Since(obj.value("metadata", Json::object()).value("creationTimestamp", Json()), now);
}

std::string Name(const Json& obj) { return obj.value("metadata", Json::object()).value("name", ""); }

std::string OrNone(const std::string& s) { return s.empty() ? "<none>" : s; }

std::string FormatLabels(const Json& labels) {
  if (!labels.is_object() || labels.empty()) return "<none>";
  std::string out;
  for (auto& [k, v] : labels.items()) {
    if (!out.empty()) out += ",";
    out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

std::string FormatLabelSelector(const Json& selector) {
  if (!selector.is_object()) return "<none>";
  std::string out;
  const Json match_labels = selector.value("matchLabels", Json::object());
  for (auto& [k, v] : match_labels.items()) {
    if (!out.empty()) out += ",";
    out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  for (const auto& req : selector.value("matchExpressions", Json::array())) {
    if (!out.empty()) out += ",";
    std::string key = req.value("key", ""), op = req.value("operator", "");
    std::string values;
    for (const auto& v : req.value("values", Json::array())) values += (values.empty() ? "" : ",") + v.get<std::string>();
    if (op == "In") out += key + " in (" + values + ")";
    else if (op == "NotIn") out += key + " notin (" + values + ")";
    else if (op == "Exists") out += key;
    else if (op == "DoesNotExist") out += "!" + key;
  }
  return out.empty() ? "<none>" : out;
}

namespace {
std::string JoinContainerField(const Json& podspec, const char* field) {
  std::string out;
  for (const auto& c : podspec.value("containers", Json::array())) {
    if (!out.empty()) out += ",";
    out += c.value(field, "");
  }
  return out;
}
}  // namespace

std::string ContainerNames(const Json& podspec) { return JoinContainerField(podspec, "name"); }
std::string ContainerImages(const Json& podspec) { return JoinContainerField(podspec, "image"); }

int64_t Int(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace printers

const TablePrinter* FindPrinter(const std::string& group, const std::string& kind) {
  RegisterAll();
  auto it = Printers().find(group + "/" + kind);
  return it == Printers().end() ? nullptr : &it->second;
}

const TablePrinter& DefaultPrinter() {
  static const TablePrinter p{
      {{"Name", "string", "name", "Name must be unique within a namespace.", 0},
       {"Age", "string", "", "Time since the object was created.", 0}},
      [](const Json& obj, TimePoint now) { return Json::array({printers::Name(obj), printers::Age(obj, now)}); }};
  return p;
}

}  // namespace kubes::apiserver
