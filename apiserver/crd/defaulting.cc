#include "apiserver/crd/defaulting.h"

#include "apiserver/crd/gojson.h"
#include "apiserver/crd/pruning.h"
#include "apiserver/crd/schema_node.h"
#include "apiserver/crd/validation.h"

namespace kubes::crd {
namespace {

// A null the schema does not allow: it is replaced by the default (or stays null).
bool IsNonNullableNull(const Json& x, const Json* s) { return x.is_null() && s && !IsNullable(*s); }

Json DefaultOrNull(const Json* s) {
  const Json* d = s ? DefaultValue(*s) : nullptr;
  return d ? *d : Json(nullptr);
}

void Default(Json& x, const Json* s) {
  if (!s) return;
  if (x.is_object()) {
    if (const Json* props = GetSchema(*s, "properties")) {
      for (auto it = props->begin(); it != props->end(); ++it) {
        const Json* d = it->is_object() ? DefaultValue(*it) : nullptr;
        if (!d) continue;
        auto have = x.find(it.key());
        if (have == x.end() || IsNonNullableNull(*have, &*it)) x[it.key()] = *d;
      }
    }
    for (auto it = x.begin(); it != x.end(); ++it) {
      if (const Json* prop = Property(*s, it.key())) {
        Default(*it, prop);
      } else if (HasAdditionalProperties(*s)) {
        const Json* additional = AdditionalPropertiesSchema(*s);
        if (IsNonNullableNull(*it, additional)) *it = DefaultOrNull(additional);
        Default(*it, additional);
      }
    }
  } else if (x.is_array()) {
    const Json* items = GetSchema(*s, "items");
    for (auto& item : x) {
      if (IsNonNullableNull(item, items)) item = DefaultOrNull(items);
      Default(item, items);
    }
  }
}

bool IsMetaField(const std::string& k) { return k == "apiVersion" || k == "kind" || k == "metadata"; }

// defaulting.validate. Defaults inside metadata (of the root or an embedded resource)
// are skipped: upstream checks them as ObjectMeta, and forbids them at the root.
void CheckDefaults(const Json& s, const validation::Path& path, bool root, bool inside_meta,
                   validation::ErrorList& errs) {
  if (!s.is_object()) return;
  const bool embedded = root || IsEmbeddedResource(s);
  if (embedded) inside_meta = false;
  if (const Json* d = DefaultValue(s); d && !inside_meta) {
    const validation::Path at = path.Child("default");
    Json pruned = *d;
    (void)PruneWithOptions(pruned, &s, embedded);
    if (!DeepEqual(pruned, *d)) errs.push_back(InvalidGo(at.String(), *d, "must not have unknown fields"));
    // objectmeta.Coerce: an embedded object's apiVersion and kind must be strings.
    bool coerce_failed = false;
    for (const char* k : {"apiVersion", "kind"}) {
      if (embedded && d->is_object() && d->contains(k) && !(*d)[k].is_string()) {
        errs.push_back(InvalidGo(at.Child(k).String(), (*d)[k], "must be a string"));
        coerce_failed = true;
        break;
      }
    }
    if (!coerce_failed) ValidateAgainstSchema(*d, s, at, errs, SchemaFlavor::kDefaultValue);
  }
  // Defaults are forbidden below additionalProperties, so that is not followed.
  if (const Json* items = GetSchema(s, "items")) CheckDefaults(*items, path.Child("items"), false, inside_meta, errs);
  if (const Json* props = GetSchema(s, "properties")) {
    for (auto it = props->begin(); it != props->end(); ++it) {
      CheckDefaults(*it, path.Child("properties").Key(it.key()), false,
                    inside_meta || (embedded && IsMetaField(it.key())), errs);
    }
  }
}

}  // namespace

void ApplyDefaults(Json& obj, const Json& schema) { Default(obj, &schema); }

validation::ErrorList ValidateDefaults(const Json& schema, const validation::Path& path) {
  validation::ErrorList errs;
  CheckDefaults(schema, path, true, false, errs);
  return errs;
}

}  // namespace kubes::crd
