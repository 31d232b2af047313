#include "apiserver/fieldmanager/fieldmanager.h"

#include <optional>
#include <utility>
#include <vector>

#include "apiserver/fieldmanager/typed.h"

namespace kubes::apiserver::fieldmanager {
namespace {

constexpr char kBeforeFirstApply[] = "before-first-apply";

// What one request works with: the object's type, its version and the fields this
// endpoint does not track ("reset fields": status on the main resource, spec on /status).
struct Context {
  Type type;
  std::string api_version;
  std::string subresource;
  Set reset;
  int64_t now = 0;
};

// A field another manager owns and the write changes.
struct Conflict {
  ManagerID manager;
  Path path;
};

Set ResetFields(const api::TypeSchema* schema, const std::string& subresource) {
  Set reset;
  if (schema == nullptr) {
    if (subresource == "status") reset.Insert({PathElement::Field("spec")});
    return reset;
  }
  for (const api::FieldSchema& f : schema->fields) {
    bool meta = f.name == "metadata" || f.name == "apiVersion" || f.name == "kind";
    if ((subresource.empty() && f.status) || (subresource == "status" && !f.status && !meta)) {
      reset.Insert({PathElement::Field(f.name)});
    }
  }
  return reset;
}

Context MakeContext(const api::TypeSchema* schema, const std::string& api_version, const std::string& subresource,
                    int64_t now) {
  return Context{Type::Object(schema), api_version, subresource, ResetFields(schema, subresource), now};
}

// Fields nobody owns: the object's identity and server bookkeeping (upstream stripMeta).
const Set& StripSet() {
  static const Set kStrip = [] {
    Set s;
    s.Insert({PathElement::Field("apiVersion")});
    s.Insert({PathElement::Field("kind")});
    s.Insert({PathElement::Field("metadata")});
    for (const char* f : {"name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
                          "managedFields", "resourceVersion"}) {
      s.Insert({PathElement::Field("metadata"), PathElement::Field(f)});
    }
    return s;
  }();
  return kStrip;
}

// A copy of obj without metadata.managedFields.
Json WithoutManagedFields(const Json& obj) {
  Json out = obj;
  if (out.is_object() && out.contains("metadata") && out["metadata"].is_object()) {
    out["metadata"].erase("managedFields");
  }
  return out;
}

const Json& MetadataMember(const Json& obj, const char* name) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return kNull;
  auto it = meta->find(name);
  return it == meta->end() ? kNull : *it;
}

void SetManagedFields(Json& obj, const Managed& managed) {
  if (!obj.is_object()) return;
  Json encoded = EncodeManagedFields(managed);
  if (encoded.is_null()) {
    if (obj.contains("metadata") && obj["metadata"].is_object()) obj["metadata"].erase("managedFields");
    return;
  }
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
  obj["metadata"]["managedFields"] = std::move(encoded);
}

Comparison WithoutReset(Comparison cmp, const Set& reset) {
  if (reset.Empty()) return cmp;
  return Comparison{cmp.removed.RecursiveDifference(reset), cmp.modified.RecursiveDifference(reset),
                    cmp.added.RecursiveDifference(reset)};
}

// Every manager but `self` loses the fields the write changed or removed (upstream
// Updater.update). Without force, changed fields another manager owns are returned as
// conflicts and nothing is modified. Managers left with no fields are dropped.
std::vector<Conflict> UpdateOthers(const Comparison& cmp, Managed& managed, const std::string& self, bool force) {
  Set changed = cmp.modified.Union(cmp.added);
  std::vector<Conflict> conflicts;
  for (auto& [key, entry] : managed) {
    if (key == self) continue;
    const ManagerID& id = entry.id;
    entry.fields.Intersection(changed).Iterate([&](const Path& p) { conflicts.push_back({id, p}); });
  }
  if (!force && !conflicts.empty()) return conflicts;
  for (auto it = managed.begin(); it != managed.end();) {
    if (it->first != self) it->second.fields = it->second.fields.Difference(changed).Difference(cmp.removed);
    it = it->second.fields.Empty() ? managed.erase(it) : std::next(it);
  }
  return {};
}

// Records a non-apply write by `id` from live to obj (both without managedFields):
// the changed fields move to id's entry, which is stamped with the time.
Status TrackUpdate(const Json& live, const Json& obj, Managed& managed, const ManagerID& id, const Context& ctx) {
  auto cmp = Compare(live, obj, ctx.type);
  if (!cmp.ok()) return cmp.status();
  Comparison c = WithoutReset(std::move(cmp).value(), ctx.reset);
  UpdateOthers(c, managed, /*self=*/"", /*force=*/true);
  Set mine = c.modified.Union(c.added).Difference(StripSet());
  if (mine.Empty()) return Status::OK();
  std::string key = id.Identifier();
  if (auto it = managed.find(key); it != managed.end()) mine = mine.Union(it->second.fields);
  Put(managed, ManagedEntry{id, ctx.api_version, std::move(mine), ctx.now});
  return Status::OK();
}

// Removes what the applier applied last time (`last`) but not now, unless another
// manager owns it; a struct whose fields all go, goes too (upstream Updater.prune with
// addBackOwnedItems and addBackDanglingItems).
Result<Json> Prune(const Json& merged, const Managed& managed, const Set& last, const Type& type) {
  if (last.Empty()) return merged;
  Set last_named = EnsureNamedFieldsAreMembers(last, type);
  Json pruned = RemoveItems(merged, last_named, type);

  Set owned;
  for (auto& [_, entry] : managed) owned = owned.Union(entry.fields);
  auto merged_set = ToFieldSet(merged, type);
  auto pruned_set = ToFieldSet(pruned, type);
  if (!merged_set.ok()) return merged_set.status();
  if (!pruned_set.ok()) return pruned_set.status();
  Set merged_named = EnsureNamedFieldsAreMembers(*merged_set, type);
  Set keep = EnsureNamedFieldsAreMembers(*pruned_set, type).Union(EnsureNamedFieldsAreMembers(owned, type));
  pruned = RemoveItems(merged, merged_named.Difference(keep), type);  // owned items are back

  pruned_set = ToFieldSet(pruned, type);
  if (!pruned_set.ok()) return pruned_set.status();
  Set gone = merged_named.Difference(EnsureNamedFieldsAreMembers(*pruned_set, type));
  return RemoveItems(merged, gone.Intersection(last_named), type);  // only what was last applied
}

std::string GroupVersionKind(const Json& obj) {
  std::string api_version = obj.value("apiVersion", Json("")).is_string() ? obj.value("apiVersion", "") : "";
  std::string kind = obj.value("kind", Json("")).is_string() ? obj.value("kind", "") : "";
  size_t slash = api_version.find('/');
  if (slash == std::string::npos) api_version = "/" + api_version;
  return api_version + ", Kind=" + kind;
}

std::string ObjectDescription(const Json& obj) {
  auto str = [&](const char* name) {
    const Json& v = MetadataMember(obj, name);
    return v.is_string() && !v.get<std::string>().empty() ? v.get<std::string>() : "<unknown>";
  };
  return str("namespace") + "/" + str("name") + "; " + GroupVersionKind(obj);
}

struct Outcome {
  Json object;
  std::vector<Conflict> conflicts;  // non-empty: the apply failed
};

// One structured-merge apply of `config` over `live` (upstream's chain from
// skipNonApplied down to structuredMergeManager).
Result<Outcome> ApplyOnce(const Json& live_obj, Managed managed, const Json& config, const ManagerID& applier,
                          bool force, const Context& ctx) {
  Json live = WithoutManagedFields(live_obj);
  if (managed.empty()) {
    // The object predates field management: someone owns what is already there.
    ManagerID before{kBeforeFirstApply, kOperationUpdate, ctx.api_version, ctx.subresource};
    Status s = TrackUpdate(Json::object(), live, managed, before, ctx);
    if (!s.ok()) return Internal("failed to create manager for existing fields: " + s.message());
    CapUpdateManagers(managed);
  }
  auto config_set = ToFieldSet(config, ctx.type, /*reject_duplicates=*/true);
  if (!config_set.ok()) {
    return Internal("failed to create typed patch object (" + ObjectDescription(config) +
                    "): " + config_set.status().message());
  }
  auto merged = Merge(live, config, ctx.type);
  if (!merged.ok()) return Internal("failed to merge config: " + merged.status().message());

  std::string key = applier.Identifier();
  std::optional<int64_t> time;
  Set last;
  if (auto it = managed.find(key); it != managed.end()) {
    last = it->second.fields;
    time = it->second.time;
  }
  Put(managed, ManagedEntry{applier, ctx.api_version, config_set->RecursiveDifference(ctx.reset), time});
  auto pruned = Prune(*merged, managed, last, ctx.type);
  if (!pruned.ok()) return Internal("failed to prune fields: " + pruned.status().message());

  auto cmp = Compare(live, *pruned, ctx.type);
  if (!cmp.ok()) return Internal("failed to compare objects: " + cmp.status().message());
  Outcome out;
  out.conflicts = UpdateOthers(WithoutReset(std::move(cmp).value(), ctx.reset), managed, key, force);
  if (!out.conflicts.empty()) return out;

  if (auto it = managed.find(key); it != managed.end()) {
    it->second.fields = it->second.fields.Difference(StripSet());
    if (it->second.fields.Empty()) managed.erase(it);
  }
  bool changed = !ValuesEqual(live, *pruned);
  out.object = changed ? std::move(pruned).value() : live;
  if (auto it = managed.find(key); changed && it != managed.end()) it->second.time = ctx.now;
  SetManagedFields(out.object, managed);
  return out;
}

Status ConflictError(const std::vector<Conflict>& conflicts) {
  std::vector<Cause> causes;
  for (const Conflict& c : conflicts) {
    causes.push_back({"FieldManagerConflict", "conflict with " + c.manager.Describe(), PathString(c.path)});
  }
  std::string message;
  if (conflicts.size() == 1) {
    message = "Apply failed with 1 conflict: conflict with " + conflicts[0].manager.Describe() + ": " +
              PathString(conflicts[0].path);
  } else {
    // Grouped by manager; conflicts arrive sorted by manager identifier.
    message = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
    std::string current;
    for (size_t i = 0; i < conflicts.size(); ++i) {
      std::string id = conflicts[i].manager.Identifier();
      if (i == 0 || id != current) {
        message += (i == 0 ? "" : "\n") + std::string("conflicts with ") + conflicts[i].manager.Describe() + ":";
        current = id;
      }
      message += "\n- " + PathString(conflicts[i].path);
    }
  }
  return Status(Code::kConflict, message).WithCauses(std::move(causes));
}

// The fields whose live value still equals kubectl's last-applied-configuration: the
// client-side apply that wrote them would have changed them freely (upstream
// lastAppliedManager). nullopt when there is no usable annotation.
std::optional<Set> AllowedConflictsFromLastApplied(const Json& live_obj, const Context& ctx) {
  const Json& annotations = MetadataMember(live_obj, "annotations");
  if (!annotations.is_object()) return std::nullopt;
  auto it = annotations.find(kLastAppliedAnnotation);
  if (it == annotations.end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
  Json last = Json::parse(it->get<std::string>(), nullptr, /*allow_exceptions=*/false);
  if (last.is_discarded() || !last.is_object() || NestingDepth(last) > kMaxDepth) return std::nullopt;
  if (last.value("apiVersion", Json("")) != Json(ctx.api_version)) return std::nullopt;
  auto last_set = ToFieldSet(last, ctx.type, /*reject_duplicates=*/true);
  auto cmp = Compare(last, live_obj, ctx.type);
  if (!last_set.ok() || !cmp.ok()) return std::nullopt;
  return last_set->Difference(cmp->modified).Difference(cmp->added).Difference(cmp->removed);
}

// Keeps an existing last-applied-configuration annotation in step with what kubectl
// applied server-side, so a later client-side apply computes the right patch.
void UpdateLastApplied(Json& object, const Json& config) {
  const Json& current = MetadataMember(object, "annotations");
  if (!current.is_object()) return;
  auto it = current.find(kLastAppliedAnnotation);
  if (it == current.end() || !it->is_string() || it->get<std::string>().empty()) return;
  Json last = config;
  if (MetadataMember(last, "annotations").is_object()) {
    last["metadata"]["annotations"].erase(kLastAppliedAnnotation);  // an empty map stays {}
  }
  object["metadata"]["annotations"][kLastAppliedAnnotation] = GoJSON(last) + "\n";
}

}  // namespace

Json UpdateManagedFields(const Json* old_obj, const Json& new_obj, const std::string& manager,
                         const std::string& operation, const std::string& api_version,
                         const std::string& subresource, int64_t now, const api::TypeSchema* schema) {
  Json out = WithoutManagedFields(new_obj);
  if (!out.is_object() || (old_obj != nullptr && !old_obj->is_object())) return out;
  if (NestingDepth(new_obj) > kMaxDepth || (old_obj != nullptr && NestingDepth(*old_obj) > kMaxDepth)) return out;
  Context ctx = MakeContext(schema, api_version, subresource, now);

  // Where the entries start from: the request's own (unless it writes a subresource),
  // or the stored object's. Entries that do not decode are dropped, as upstream does.
  const Json& live_entries = old_obj != nullptr ? MetadataMember(*old_obj, "managedFields") : Json();
  const Json& new_entries = MetadataMember(new_obj, "managedFields");
  Managed managed;
  if (subresource.empty() && IsResetManagedFields(new_entries)) {
    // `managedFields: []`: start over.
  } else if (auto from_new = DecodeManagedFields(new_entries);
             subresource.empty() && from_new.ok() && !from_new->empty()) {
    managed = std::move(from_new).value();
  } else if (auto from_live = DecodeManagedFields(live_entries); from_live.ok()) {
    managed = std::move(from_live).value();
  }

  // An existing object without managedFields is not tracked (upstream skipNonApplied).
  if (managed.empty() && old_obj != nullptr) {
    const Json& uid = MetadataMember(*old_obj, "uid");
    if (uid.is_string() && !uid.get<std::string>().empty()) return out;
  }
  Json live = old_obj != nullptr ? WithoutManagedFields(*old_obj) : Json::object();
  ManagerID id{manager.empty() ? "unknown" : manager, operation, api_version, subresource};
  if (!TrackUpdate(live, out, managed, id, ctx).ok()) return out;
  CapUpdateManagers(managed);
  SetManagedFields(out, managed);
  return out;
}

Result<ApplyResult> Apply(const Json* live, const Json& applied_config, const std::string& manager, bool force,
                          const api::TypeSchema* schema, const std::string& api_version, int64_t now,
                          const std::string& subresource) {
  if (!applied_config.is_object()) return BadRequest("error decoding patch: the configuration must be an object");
  if (NestingDepth(applied_config) > kMaxDepth) return BadRequest("error decoding patch: nesting too deep");
  if (schema != nullptr) {
    std::string expected = api_version + ", Kind=" + schema->name;
    if (api_version.find('/') == std::string::npos) expected = "/" + expected;
    if (GroupVersionKind(applied_config) != expected) {
      return BadRequest("invalid object type: " + GroupVersionKind(applied_config));
    }
  } else if (applied_config.value("apiVersion", Json("")) != Json(api_version)) {
    std::string got = applied_config.value("apiVersion", Json("")).is_string()
                          ? applied_config.value("apiVersion", "") : "";
    return BadRequest("Incorrect version specified in apply patch. Specified patch version: " + got +
                      ", expected: " + api_version);
  }
  if (!MetadataMember(applied_config, "managedFields").is_null()) {
    return BadRequest("metadata.managedFields must be nil");
  }
  Json live_obj = live != nullptr ? *live : Json::object();
  if (!live_obj.is_object() || NestingDepth(live_obj) > kMaxDepth) return Internal("the live object is not an object");
  auto managed = DecodeManagedFields(MetadataMember(live_obj, "managedFields"));
  if (!managed.ok()) return Internal("failed to decode managed fields: " + managed.status().message());

  Context ctx = MakeContext(schema, api_version, subresource, now);
  ManagerID applier{manager, kOperationApply, "", subresource};
  auto outcome = ApplyOnce(live_obj, *managed, applied_config, applier, force, ctx);
  if (!outcome.ok()) return outcome.status();
  if (!outcome->conflicts.empty() && manager == "kubectl") {
    if (std::optional<Set> allowed = AllowedConflictsFromLastApplied(live_obj, ctx)) {
      Set conflicting;
      for (const Conflict& c : outcome->conflicts) conflicting.Insert(c.path);
      if (conflicting.Difference(*allowed).Empty()) {
        outcome = ApplyOnce(live_obj, *managed, applied_config, applier, /*force=*/true, ctx);
        if (!outcome.ok()) return outcome.status();
      } else {
        std::vector<Conflict> remaining;
        for (Conflict& c : outcome->conflicts) {
          if (!allowed->Has(c.path)) remaining.push_back(std::move(c));
        }
        outcome->conflicts = std::move(remaining);
      }
    }
  }
  if (!outcome->conflicts.empty()) return ConflictError(outcome->conflicts);

  ApplyResult result;
  result.object = std::move(outcome->object);
  if (manager == "kubectl") UpdateLastApplied(result.object, applied_config);
  result.changed = !ValuesEqual(WithoutManagedFields(live_obj), WithoutManagedFields(result.object));
  return result;
}

}  // namespace kubes::apiserver::fieldmanager
