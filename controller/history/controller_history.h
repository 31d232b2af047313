// ControllerRevisions: the saved pod templates of DaemonSets and StatefulSets, which
// `kubectl rollout history|undo` read (upstream: pkg/controller/history and the
// revision code of pkg/controller/daemon/update.go, statefulset/stateful_set_utils.go).
//
// A revision's data is the patch that would put its template back:
//   {"spec": {"template": {<template>, "$patch": "replace"}}}
// Its name is "<owner>-<hash of the data>"; its `revision` number grows with every
// new template, and an old template that comes back (an undo) gets the next number
// again instead of a new object.
//
// Thread-safety: free functions; no state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/client.h"
#include "util/status.h"

namespace kubes::controller::history {

using Json = nlohmann::json;

// The revision data for an owner's spec.template.
Json RevisionData(const Json& owner);

// Revisions controlled by owner (by uid) among `all`, sorted by revision number.
std::vector<Json> OwnedRevisions(const std::vector<Json>& all, const Json& owner);

// The revision whose data is `data`, creating it (revision = max+1) or renumbering an
// old equal one to max+1 when it is not the newest. collision_count is the owner's
// status.collisionCount, raised (and to be written back) when another object already
// has the name. Returns the revision object.
Result<Json> EnsureRevision(client::Client* client, const Json& owner, const Json& data,
                            const std::vector<Json>& owned, const Json& template_labels, int32_t* collision_count);

// Deletes the oldest revisions beyond `limit` that no live pod uses (in_use: the names
// or hashes the pods carry in controller-revision-hash).
Status TruncateHistory(client::Client* client, const std::vector<Json>& owned, const std::string& current_name,
                       const std::vector<std::string>& in_use, int limit);

}  // namespace kubes::controller::history
