#include "apiserver/fieldmanager/managed_fields.h"

#include <algorithm>
#include <chrono>
#include <tuple>
#include <vector>

#include "util/time.h"

namespace kubes::apiserver::fieldmanager {
namespace {

// The string member `name` of an entry; an error when it is there but not a string.
Result<std::string> StringMember(const Json& entry, const char* name, size_t index) {
  auto it = entry.find(name);
  if (it == entry.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return BadRequest("managed fields entry " + std::to_string(index) + ": " + name + " must be a string");
  }
  return it->get<std::string>();
}

// Go's unicode.IsPrint, close enough for manager names: no C0/C1 controls, DEL or
// soft hyphen.
bool IsPrint(int32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r >= 0x80 && r < 0xA0) return false;
  return r != 0xAD;
}

}  // namespace

std::string ManagerID::Identifier() const {
  // json.Marshal of a ManagedFieldsEntry holding only these fields (all omitempty).
  std::string out = "{";
  auto add = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    if (out.size() > 1) out += ",";
    out += std::string("\"") + name + "\":" + GoJSON(value);
  };
  add("manager", manager);
  add("operation", operation);
  add("apiVersion", operation == kOperationApply ? std::string() : api_version);
  add("subresource", subresource);
  return out + "}";
}

std::string ManagerID::Describe() const {
  std::string out = GoQuote(manager);
  if (!subresource.empty()) out += " with subresource " + GoQuote(subresource);
  if (operation == kOperationUpdate) out += " using " + api_version;
  return out;
}

std::string FormatTime(int64_t unix_seconds) {
  return FormatRFC3339(TimePoint(std::chrono::seconds(unix_seconds)));
}

void Put(Managed& managed, ManagedEntry entry) {
  if (entry.id.operation == kOperationApply) entry.id.api_version.clear();
  std::string key = entry.id.Identifier();
  managed[key] = std::move(entry);
}

Result<Managed> DecodeManagedFields(const Json& entries) {
  Managed managed;
  if (entries.is_null()) return managed;
  if (!entries.is_array()) return BadRequest("managedFields must be a list");
  for (size_t i = 0; i < entries.size(); ++i) {
    const Json& e = entries[i];
    if (!e.is_object()) return BadRequest("managed fields entry " + std::to_string(i) + " must be an object");
    ManagedEntry entry;
    auto manager = StringMember(e, "manager", i);
    auto operation = StringMember(e, "operation", i);
    auto api_version = StringMember(e, "apiVersion", i);
    auto fields_type = StringMember(e, "fieldsType", i);
    auto subresource = StringMember(e, "subresource", i);
    auto time = StringMember(e, "time", i);
    for (auto* r : {&manager, &operation, &api_version, &fields_type, &subresource, &time}) {
      if (!r->ok()) return r->status();
    }
    if (*operation != kOperationApply && *operation != kOperationUpdate) {
      return BadRequest("operation must be `Apply` or `Update`");
    }
    if (api_version->empty()) return BadRequest("apiVersion must not be empty");
    if (fields_type->empty()) return BadRequest("missing fieldsType in managed fields entry " + std::to_string(i));
    if (*fields_type != "FieldsV1") {
      return BadRequest("invalid fieldsType " + GoQuote(*fields_type) + " in managed fields entry " +
                        std::to_string(i));
    }
    auto fields_it = e.find("fieldsV1");
    auto set = Set::FromFieldsV1(fields_it == e.end() ? Json() : *fields_it);
    if (!set.ok()) return BadRequest("error decoding set: " + set.status().message());
    entry.id = ManagerID{*manager, *operation, *api_version, *subresource};
    entry.api_version = *api_version;
    entry.fields = std::move(set).value();
    if (!time->empty()) {
      if (auto t = ParseRFC3339(*time)) {
        entry.time = std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
      }
    }
    Put(managed, std::move(entry));
  }
  return managed;
}

Json EncodeManagedFields(const Managed& managed) {
  if (managed.empty()) return nullptr;
  std::vector<const ManagedEntry*> sorted;
  for (auto& [_, entry] : managed) sorted.push_back(&entry);
  std::stable_sort(sorted.begin(), sorted.end(), [](const ManagedEntry* p, const ManagedEntry* q) {
    return std::make_tuple(p->id.operation, p->time.value_or(0), p->id.manager, p->api_version, p->id.subresource) <
           std::make_tuple(q->id.operation, q->time.value_or(0), q->id.manager, q->api_version, q->id.subresource);
  });
  Json out = Json::array();
  for (const ManagedEntry* entry : sorted) {
    Json e = Json::object();
    if (!entry->id.manager.empty()) e["manager"] = entry->id.manager;
    e["operation"] = entry->id.operation;
    e["apiVersion"] = entry->api_version;
    if (entry->time) e["time"] = FormatTime(*entry->time);
    e["fieldsType"] = "FieldsV1";
    e["fieldsV1"] = entry->fields.ToFieldsV1();
    if (!entry->id.subresource.empty()) e["subresource"] = entry->id.subresource;
    out.push_back(std::move(e));
  }
  return out;
}

bool IsResetManagedFields(const Json& entries) {
  if (!entries.is_array()) return false;
  if (entries.empty()) return true;
  return entries.size() == 1 && (entries[0].is_null() || (entries[0].is_object() && entries[0].empty()));
}

void CapUpdateManagers(Managed& managed, size_t max) {
  std::vector<std::string> updaters;
  for (auto& [key, entry] : managed) {
    if (entry.id.operation == kOperationUpdate) updaters.push_back(key);
  }
  if (updaters.size() <= max) return;
  // Oldest first; ties by identifier.
  std::stable_sort(updaters.begin(), updaters.end(), [&](const std::string& a, const std::string& b) {
    int64_t ta = managed[a].time.value_or(0), tb = managed[b].time.value_or(0);
    return ta != tb ? ta < tb : a < b;
  });
  // The first (oldest) manager of each version becomes the bucket when a second one of
  // that version has to go, and every later one is folded into it.
  std::map<std::string, std::string> first_of_version;
  size_t remaining = updaters.size();
  for (size_t i = 0; i < updaters.size() && remaining > max; ++i) {
    ManagedEntry entry = managed[updaters[i]];
    const std::string& version = entry.api_version;
    auto first = first_of_version.find(version);
    if (first == first_of_version.end()) {
      first_of_version[version] = updaters[i];
      continue;
    }
    ManagerID bucket_id{"ancient-changes", kOperationUpdate, version, ""};
    std::string bucket = bucket_id.Identifier();
    if (!managed.count(bucket)) {
      ManagedEntry moved = managed[first->second];
      managed.erase(first->second);
      moved.id = bucket_id;
      managed[bucket] = std::move(moved);
    }
    ManagedEntry& b = managed[bucket];
    b.fields = entry.fields.Union(b.fields);
    b.time = entry.time;
    managed.erase(updaters[i]);
    --remaining;
  }
}

std::string ManagerOrUserAgent(std::string_view field_manager, std::string_view user_agent) {
  if (!field_manager.empty()) return std::string(field_manager);
  std::string_view prefix = user_agent.substr(0, user_agent.find('/'));
  std::string out;
  for (size_t i = 0; i < prefix.size();) {
    auto [r, n] = DecodeUTF8(prefix, i);
    std::string_view bytes = r < 0 ? std::string_view("\xEF\xBF\xBD") : prefix.substr(i, n);  // U+FFFD
    i += n;
    if (r >= 0 && !IsPrint(r)) continue;
    if (out.size() + bytes.size() > 128) break;
    out.append(bytes);
  }
  return out;
}

}  // namespace kubes::apiserver::fieldmanager
