// Strategic merge patch: the default patch type of `kubectl patch`, and what
// client-side `kubectl apply`, `kubectl edit`, `kubectl set image`, `kubectl rollout
// restart`, `kubectl cordon` and `kubectl taint` send for built-in kinds (Content-Type
// application/strategic-merge-patch+json). Only APPLYING a patch lives here: kubectl
// computes the patch, the apiserver applies it to the stored object.
//
// It is JSON merge patch (null deletes, objects merge) plus knowledge from the API schema
// (api::FieldSchema merge_key / patch_strategy, upstream's patchMergeKey/patchStrategy
// struct tags) about lists:
//   - a list of objects with a merge key (containers by "name", ownerReferences by
//     "uid") is merged item by item: an item whose key matches merges into it, a new key
//     is added;
//   - a list of scalars with strategy "merge" (finalizers) is merged as a set;
//   - every other list is replaced, as in JSON merge patch.
// Directives in the patch steer the merge, and never appear in the result:
//   {"$patch": "replace"}            in a map: replace the map instead of merging into it;
//                                     as a list item: replace the whole list by the other items
//   {"$patch": "delete", "name": n}  as a list item: delete the item with that merge key
//   {"$patch": "delete"}             in a map: delete the map's contents
//   "$setElementOrder/<list>": [...] the order of the merged list (kubectl apply sends it)
//   "$deleteFromPrimitiveList/<list>": [...]  remove these scalars from a merging list
//   "$retainKeys": [...]             keep only these keys of the map (union types such as
//                                     Deployment.spec.strategy)
// apiserver/patch/README.md walks through examples.
//
// Mirrors StrategicMergeMapPatch (mergeMap / mergeSlice / mergePatchIntoOriginal) of
// k8s.io/apimachinery/pkg/util/strategicpatch/patch.go v0.32, with its error messages and
// the HTTP codes kube-apiserver gives them (interpretStrategicMergePatchError):
//   - malformed directives ("invalid patch format of retainKeys", ... of setElementOrder
//     list, ... of primitive list) and a non-object document: BadRequest (400);
//   - lists of lists: Invalid (422) with the apiserver's generic message;
//   - anything else, e.g. "map: map[image:nginx] does not contain declared merge key: name"
//     for a list item without its merge key: Internal (500), as upstream returns them.
// Where upstream leaves directives or nulls in the result (a new value placed where the
// original had none is copied verbatim there) kubes applies that value to an empty
// original instead, so `$...` keys never reach storage. Fields the schema does not know,
// and values of type `any`, RawExtension or maps of scalars, merge as in JSON merge
// patch (upstream refuses unknown fields with "unable to find api field").
//
// Thread-safety: a pure function; the schema is only read.
#pragma once

#include <nlohmann/json.hpp>

#include "api/schema.h"
#include "util/status.h"

namespace kubes::apiserver::patch {

using Json = nlohmann::json;

// Applies `patch` to `original` (both JSON objects; a null patch changes nothing) with
// the merge rules of `schema`, the root type of the object (e.g. apps/v1 Deployment).
Result<Json> StrategicMergePatch(const Json& original, const Json& patch, const api::TypeSchema& schema);

}  // namespace kubes::apiserver::patch
