// JSON Merge Patch (RFC 7386): the engine behind `kubectl patch --type=merge`,
// `kubectl label`, `kubectl annotate` and `kubectl scale` (Content-Type
// application/merge-patch+json). `kubectl apply` and `kubectl edit` send it for custom
// resources, which have no strategic-merge metadata.
//
// The patch is a partial document: objects merge member by member, `null` deletes a
// member, and every other value (arrays included) replaces what was there:
//   original {"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"ports":[80,443]}}
//   patch    {"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"ports":[8080]}}
//   result   {"metadata":{"labels":{"b":"2","c":"3"}},"spec":{"ports":[8080]}}
//
// Mirrors MergePatch of gopkg.in/evanphx/json-patch.v4 as kube-apiserver v1.32 calls it
// (jsonPatcher.applyJSPatch in k8s.io/apiserver/pkg/endpoints/handlers/patch.go):
//   - a patch that is null or a scalar is BadRequest "Invalid JSON Patch";
//   - a patch that is an array replaces the whole document;
//   - nulls inside a value that lands where nothing (or a non-object) was are dropped,
//     also inside objects nested in arrays, as v4 does.
//
// Thread-safety: a pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace kubes::apiserver::patch {

using Json = nlohmann::json;

// Applies `patch` to `original` (normally the stored object) and returns the result.
Result<Json> MergePatch(const Json& original, const Json& patch);

}  // namespace kubes::apiserver::patch
