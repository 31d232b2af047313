#include "apiserver/patch/merge_patch.h"

#include <utility>

#include "apiserver/patch/patch_util.h"

namespace kubes::apiserver::patch {
namespace {

// Drops null members of objects at every level; null array elements stay (v4
// pruneNulls: a null in an array is a value, a null member is a deletion of nothing).
void PruneNulls(Json& value) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end();) {
      if (it->is_null()) {
        it = value.erase(it);
      } else {
        PruneNulls(*it);
        ++it;
      }
    }
  } else if (value.is_array()) {
    for (Json& element : value) PruneNulls(element);
  }
}

void MergeObjects(Json& target, Json patch);

// The value of one member after merging `patch` over `current`.
Json MergeValue(Json current, Json patch) {
  if (!current.is_object()) {
    PruneNulls(patch);
    return patch;
  }
  if (!patch.is_object()) return patch;
  MergeObjects(current, std::move(patch));
  return current;
}

void MergeObjects(Json& target, Json patch) {
  for (auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
      continue;
    }
    auto it = target.find(key);
    if (it == target.end() || it->is_null()) {
      PruneNulls(value);
      target[key] = std::move(value);
    } else {
      *it = MergeValue(std::move(*it), std::move(value));
    }
  }
}

}  // namespace

Result<Json> MergePatch(const Json& original, const Json& patch) {
  if (patch.is_null() || (!patch.is_structured())) return BadRequest("Invalid JSON Patch");
  if (original.is_null()) return BadRequest("Invalid JSON Document");
  KUBES_RETURN_IF_ERROR(CheckNestingDepth(patch, "merge patch"));
  KUBES_RETURN_IF_ERROR(CheckNestingDepth(original, "original object"));

  try {
    Json result = patch.is_array() || !original.is_object() ? patch : original;
    if (patch.is_object() && original.is_object()) {
      MergeObjects(result, patch);
    } else {
      PruneNulls(result);
    }
    return result;
  } catch (const Json::exception& e) {
    // Nothing above should throw; reaching this is a bug, not bad input.
    return Internal(std::string("internal error in merge patch: ") + e.what());
  }
}

}  // namespace kubes::apiserver::patch
