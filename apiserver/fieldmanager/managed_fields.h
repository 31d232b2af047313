// metadata.managedFields: the record of which field manager owns which fields.
//
// Each entry names a manager (the fieldManager query parameter, or the User-Agent up to
// its first "/"), how it wrote (Apply for server-side apply, Update for every other
// write), the API version its field set is written in, when it last changed something,
// the subresource it wrote through, and the set itself (fieldsV1, fieldpath.h):
//
//   - manager: kubectl-client-side-apply
//     operation: Update
//     apiVersion: apps/v1
//     time: "2024-05-01T10:00:00Z"
//     fieldsType: FieldsV1
//     fieldsV1: {"f:spec":{"f:replicas":{}}}
//
// A manager is identified by (manager, operation, apiVersion, subresource), except that
// Apply entries leave apiVersion out: one applier has one entry whatever version it
// applied last. Entries are sorted by operation (Apply first), time, manager, apiVersion,
// subresource. At most 10 Update entries are kept; older ones are folded into
// "ancient-changes".
//
// Mirrors k8s.io/apimachinery/pkg/util/managedfields/internal managedfields.go,
// capmanagers.go and fields.go, and managerOrUserAgent of
// k8s.io/apiserver/pkg/endpoints/handlers/create.go.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "apiserver/fieldmanager/fieldpath.h"
#include "util/status.h"

namespace kubes::apiserver::fieldmanager {

inline constexpr char kOperationApply[] = "Apply";
inline constexpr char kOperationUpdate[] = "Update";
inline constexpr size_t kMaxUpdateManagers = 10;

// Who wrote: the identity part of a managedFields entry.
struct ManagerID {
  std::string manager;
  std::string operation;    // kOperationApply or kOperationUpdate
  std::string api_version;  // always empty for Apply
  std::string subresource;

  // The identity as upstream spells it: the entry's JSON without time and fields,
  // {"manager":"kubectl","operation":"Apply"}. Managers are sorted and grouped by it.
  std::string Identifier() const;
  // As conflict messages name the manager: "kubectl-client-side-apply" using apps/v1,
  // "kubectl" with subresource "status".
  std::string Describe() const;
};

struct ManagedEntry {
  ManagerID id;
  std::string api_version;  // the version `fields` is written in
  Set fields;
  std::optional<int64_t> time;  // unix seconds
};

// All entries of one object, keyed by ManagerID::Identifier().
using Managed = std::map<std::string, ManagedEntry>;

// Reads metadata.managedFields (null reads as no entries). Errors for entries upstream
// refuses: an operation other than Apply/Update, an empty apiVersion, a fieldsType other
// than FieldsV1, fieldsV1 that does not parse.
Result<Managed> DecodeManagedFields(const Json& entries);

// The entries, sorted, as metadata.managedFields holds them; null when there are none
// (the field is then left out of the object).
Json EncodeManagedFields(const Managed& managed);

// True for `managedFields: []` and `managedFields: [{}]`: how a client asks to clear them.
bool IsResetManagedFields(const Json& entries);

// Folds the oldest Update entries into "ancient-changes" (one per API version) until at
// most `max` Update entries remain.
void CapUpdateManagers(Managed& managed, size_t max = kMaxUpdateManagers);

// Adds `entry` under its identifier, replacing any previous one.
void Put(Managed& managed, ManagedEntry entry);

// The manager name of a non-apply write: the fieldManager query parameter when given,
// otherwise the User-Agent up to its first "/" ("kubectl/v1.32.0 (linux/amd64)" ->
// "kubectl"), without unprintable characters and at most 128 bytes.
std::string ManagerOrUserAgent(std::string_view field_manager, std::string_view user_agent);

// The RFC 3339 form of a unix time, "2024-05-01T10:00:00Z".
std::string FormatTime(int64_t unix_seconds);

}  // namespace kubes::apiserver::fieldmanager
