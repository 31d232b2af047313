// JSON Patch (RFC 6902): the engine behind `kubectl patch --type=json`
// (Content-Type application/json-patch+json).
//
// A patch is an array of operations applied in order to one document:
//   add      {"op":"add","path":"/metadata/labels/tier","value":"web"}
//   remove   {"op":"remove","path":"/spec/containers/1"}
//   replace  {"op":"replace","path":"/spec/replicas","value":3}
//   move     {"op":"move","from":"/a","path":"/b"}
//   copy     {"op":"copy","from":"/a","path":"/b"}
//   test     {"op":"test","path":"/metadata/resourceVersion","value":"42"}
// Paths are JSON Pointers (RFC 6901): "/"-separated tokens with "~1" for "/" and "~0" for
// "~"; an array token is an index, or "-" (one past the end) for add.
//
// Mirrors gopkg.in/evanphx/json-patch.v4 as kube-apiserver v1.32 uses it
// (k8s.io/apiserver/pkg/endpoints/handlers/patch.go, jsonPatcher.applyJSPatch), including
// the places where v4 is more lenient than the RFC, so patches behave as they do against a
// real cluster:
//   - "replace" of a missing object member adds it (the RFC says it must fail);
//   - negative array indices count from the end (-1 is the last element);
//   - "test" and "copy" read a missing object member as null;
//   - "add" and "remove" cannot target the whole document (path ""); "replace" can.
// A path that does not start with "/" is treated as missing (v4 silently ignores its first
// token; the RFC forbids such pointers).
//
// Errors, as kube-apiserver reports them:
//   - the patch is not an array of objects: BadRequest (400), Go's decoding message;
//   - more than kMaxJsonPatchOperations operations: RequestEntityTooLarge (413);
//   - an operation fails: Invalid (422). The apiserver replaces the detailed message with
//     "the server rejected our request due to an error in our request" (kubectl prints
//     "The request is invalid: ..."). ApplyJsonPatch does the same; JsonPatch::Apply keeps
//     v4's detailed text ("testing value /spec/replicas failed: test failed") for tests
//     and logs.
//
// Thread-safety: a decoded JsonPatch is immutable; Apply may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace kubes::apiserver::patch {

using Json = nlohmann::json;

// Upstream maxJSONPatchOperations.
inline constexpr size_t kMaxJsonPatchOperations = 10000;
// Upstream default of --json-patch-max-copy-bytes: total bytes "copy" operations of one
// patch may add, so a few copy ops cannot blow a small request up into gigabytes.
inline constexpr int64_t kMaxJsonPatchCopyBytes = 3 * 1024 * 1024;

// A decoded RFC 6902 patch.
class JsonPatch {
 public:
  // Checks the outer shape (an array whose items are objects; null is an empty patch).
  // The fields of each operation are checked when it is applied, as upstream does.
  static Result<JsonPatch> Decode(const Json& patch);

  size_t size() const { return operations_.size(); }

  // Applies every operation in order to a copy of `doc` (an object or array) and returns
  // it; `doc` itself is never changed, so a failed patch leaves nothing half-done. On
  // failure returns Invalid with upstream's detailed message (BadRequest when `doc`
  // nests deeper than kMaxNestingDepth).
  Result<Json> Apply(const Json& doc) const;

 private:
  explicit JsonPatch(std::vector<Json> operations) : operations_(std::move(operations)) {}
  std::vector<Json> operations_;
};

// What kube-apiserver does with a JSON patch request body: decode (400 on a bad shape),
// enforce the operation limit (413), apply (422 with the generic message on failure).
Result<Json> ApplyJsonPatch(const Json& doc, const Json& patch);

}  // namespace kubes::apiserver::patch
