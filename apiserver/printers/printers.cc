#include "apiserver/printers/printers.h"

#include <algorithm>
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
    RegisterPodPrinters();
    RegisterCorePrinters();
    RegisterStoragePrinters();
    RegisterAppsPrinters();
    RegisterBatchPrinters();
    RegisterAutoscalingPrinters();
    RegisterOtherPrinters();
  });
}

// The requirement strings of a selector, or nullopt when it is invalid.
std::optional<std::vector<std::pair<std::string, std::string>>> Requirements(const Json& selector) {
  std::vector<std::pair<std::string, std::string>> reqs;  // key, rendered requirement
  const Json& match_labels = printers::Get(selector, "matchLabels");
  if (match_labels.is_object()) {
    for (const auto& [k, v] : match_labels.items()) {
      if (!v.is_string()) return std::nullopt;
      reqs.emplace_back(k, k + "=" + v.get<std::string>());
    }
  }
  for (const auto& expr : printers::Items(printers::Get(selector, "matchExpressions"))) {
    std::string key = printers::Str(printers::Get(expr, "key"));
    std::string op = printers::Str(printers::Get(expr, "operator"));
    std::vector<std::string> values;
    for (const auto& v : printers::Items(printers::Get(expr, "values"))) values.push_back(printers::Str(v));
    std::sort(values.begin(), values.end());  // upstream normalizes value order on output
    if (op == "In" || op == "NotIn") {
      if (values.empty()) return std::nullopt;
      reqs.emplace_back(key, key + (op == "In" ? " in (" : " notin (") + printers::Join(values, ",") + ")");
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (!values.empty()) return std::nullopt;
      reqs.emplace_back(key, (op == "Exists" ? "" : "!") + key);
    } else {
      return std::nullopt;
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return reqs;
}

const Json& Null() {
  static const Json null;
  return null;
}

}  // namespace

namespace printers {

// ---- reading JSON -------------------------------------------------------------------

const Json& Get(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return Null();
  auto it = obj.find(key);
  return it == obj.end() ? Null() : *it;
}

std::string Str(const Json& v) { return v.is_string() ? v.get<std::string>() : ""; }

int64_t Int(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  return 0;
}

const Json& Items(const Json& v) {
  static const Json empty = Json::array();
  return v.is_array() ? v : empty;
}

size_t Count(const Json& v) { return v.is_object() || v.is_array() ? v.size() : 0; }

bool Has(const Json& v) { return !v.is_null(); }

bool IsTrue(const Json& v) { return v.is_boolean() && v.get<bool>(); }

// ---- cells --------------------------------------------------------------------------

std::string Name(const Json& obj) { return Str(Get(obj, "metadata", "name")); }

std::string Since(const Json& timestamp, TimePoint now) {
  auto t = ParseRFC3339(Str(timestamp));
  if (!t) return "<unknown>";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

std::string Age(const Json& obj, TimePoint now) { return Since(Get(obj, "metadata", "creationTimestamp"), now); }

std::string Between(const Json& start, const Json& end) {
  auto s = ParseRFC3339(Str(start));
  auto e = ParseRFC3339(Str(end));
  if (!s || !e) return "";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(*e - *s));
}

std::string OrNone(const std::string& s) { return s.empty() ? "<none>" : s; }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string BoolPtr(const Json& v) {
  if (!v.is_boolean()) return "<unset>";
  return v.get<bool>() ? "True" : "False";
}

std::string Quantity(const Json& q) {
  if (q.is_string()) return q.get<std::string>();
  if (q.is_number()) return q.dump();
  return "0";
}

std::string IntOrString(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return std::to_string(Int(v));
}

std::string FormatLabels(const Json& labels) {
  // nlohmann::json objects are sorted by key, as labels.Set.String() sorts them.
  std::vector<std::string> parts;
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) parts.push_back(k + "=" + Str(v));
  }
  return parts.empty() ? "<none>" : Join(parts, ",");
}

std::optional<std::string> LabelSelectorString(const Json& selector) {
  if (!selector.is_object()) return "";  // labels.Nothing()
  auto reqs = Requirements(selector);
  if (!reqs) return std::nullopt;
  std::vector<std::string> parts;
  for (const auto& r : *reqs) parts.push_back(r.second);
  return Join(parts, ",");
}

std::string FormatLabelSelector(const Json& selector) {
  auto s = LabelSelectorString(selector);
  if (!s) return "<error>";
  return s->empty() ? "<none>" : *s;
}

namespace {
std::string JoinContainerField(const Json& podspec, const char* field) {
  std::vector<std::string> parts;
  for (const auto& c : Items(Get(podspec, "containers"))) parts.push_back(Str(Get(c, field)));
  return Join(parts, ",");
}
}  // namespace

std::string ContainerNames(const Json& podspec) { return JoinContainerField(podspec, "name"); }
std::string ContainerImages(const Json& podspec) { return JoinContainerField(podspec, "image"); }

bool ConditionTrue(const Json& status, std::string_view type) {
  for (const auto& c : Items(Get(status, "conditions"))) {
    if (Str(Get(c, "type")) == type) return Str(Get(c, "status")) == "True";
  }
  return false;
}

std::string ListWithMore(const std::vector<std::string>& list, size_t count, const char* when_empty) {
  std::string out = Join(list, ",");
  if (count > list.size()) return out + " + " + std::to_string(count - list.size()) + " more...";
  return out.empty() ? when_empty : out;
}

// ---- columns ------------------------------------------------------------------------

// The swagger descriptions of metadata.name and metadata.creationTimestamp, which
// upstream uses for its NAME and AGE columns.
constexpr const char* kNameDescription =
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
constexpr const char* kCreationTimestampDescription =
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. "
    "It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "
    "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

Column NameColumn() { return {"Name", "string", "name", kNameDescription, 0}; }

Column AgeColumn() { return {"Age", "string", "", kCreationTimestampDescription, 0}; }

Column Col(const char* name, const char* type, const char* description) { return {name, type, "", description, 0}; }

Column Wide(const char* name, const char* type, const char* description) { return {name, type, "", description, 1}; }

// ---- registration -------------------------------------------------------------------

void Register(const std::string& group, const std::string& kind, TablePrinter p) {
  Printers()[group + "/" + kind] = std::move(p);
}

void RegisterCreatedAt(const std::string& group, const std::string& kind) {
  Register(group, kind,
           {{NameColumn(), Col("Created At", "date", kCreationTimestampDescription)},
            [](const Json& o, TimePoint) {
              // Upstream formats metav1.Time in UTC; a missing timestamp is Go's zero time.
              auto t = ParseRFC3339(Str(Get(o, "metadata", "creationTimestamp")));
              return Json::array({Name(o), t ? FormatRFC3339(*t) : "0001-01-01T00:00:00Z"});
            }});
}

}  // namespace printers

const TablePrinter* FindPrinter(const std::string& group, const std::string& kind) {
  RegisterAll();
  auto it = Printers().find(group + "/" + kind);
  return it == Printers().end() ? nullptr : &it->second;
}

const TablePrinter& DefaultPrinter() {
  // apiextensions-apiserver's default columns for a custom resource: the Age column is
  // of type date, its cells are HumanDuration strings.
  static const TablePrinter p{
      {printers::NameColumn(), printers::Col("Age", "date", printers::kCreationTimestampDescription)},
      [](const Json& obj, TimePoint now) { return Json::array({printers::Name(obj), printers::Age(obj, now)}); }};
  return p;
}

}  // namespace kubes::apiserver
