// Table printers: the columns `kubectl get` shows for each kind.
//
// Mirrors k8s.io/kubernetes/pkg/printers/internalversion/printers.go (v1.32): kubectl
// has no columns of its own, the server sends a meta.k8s.io/v1 Table. Each printer
// lists its columns (priority 1 = only with -o wide) and computes one row per object,
// with the same wording as upstream (pod STATUS, RESTARTS "3 (5m ago)", AGE "2m3s").
// Like kube-apiserver, which always generates tables with Wide: true, a row carries
// every cell, the wide ones included; kubectl drops the columns it does not show.
// Kinds upstream has no printer for (Role, ClusterRole, LimitRange,
// CustomResourceDefinition) get the generic NAME / CREATED AT table of
// k8s.io/apiserver/pkg/registry/rest/table.go.
//
// Printers read objects as JSON and never throw on odd input: a missing or mistyped
// field reads as empty. They are immutable after start-up and safe to share between
// threads. See README.md in this folder for the file layout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/registry/resource.h"
#include "util/strings.h"

namespace kubes::apiserver {

// The printer for a built-in kind, or nullptr (then DefaultPrinter is used).
const TablePrinter* FindPrinter(const std::string& group, const std::string& kind);

// The fallback printer: NAME and AGE, the columns upstream shows for a custom
// resource whose CRD declares no additionalPrinterColumns.
const TablePrinter& DefaultPrinter();

// Helpers shared by the per-group printer files.
namespace printers {

// ---- reading JSON without exceptions -----------------------------------------------
// The member `key` of obj, or null when obj is not an object or has no such member.
const Json& Get(const Json& obj, std::string_view key);
template <typename... Keys>
const Json& Get(const Json& obj, std::string_view key, std::string_view next, Keys... rest) {
  return Get(Get(obj, key), next, rest...);
}
// The string, or "" for anything else.
std::string Str(const Json& v);
// The integer, or 0 for anything else.
int64_t Int(const Json& v);
// Elements of an array; empty for anything else.
const Json& Items(const Json& v);
// Members of an object or elements of an array; 0 for anything else.
size_t Count(const Json& v);
// Present and not null (upstream: a non-nil pointer).
bool Has(const Json& v);
// The boolean true; false for anything else.
bool IsTrue(const Json& v);

// ---- cells --------------------------------------------------------------------------
std::string Name(const Json& obj);
// AGE: HumanDuration since metadata.creationTimestamp, or "<unknown>".
std::string Age(const Json& obj, TimePoint now);
// HumanDuration since an RFC 3339 timestamp, or "<unknown>" when absent or unparsable.
std::string Since(const Json& timestamp, TimePoint now);
// HumanDuration from start to end (both RFC 3339), or "" when either is unusable.
std::string Between(const Json& start, const Json& end);
// "<none>" for empty strings, the string itself otherwise.
std::string OrNone(const std::string& s);
std::string Lower(std::string s);
// "True" / "False", or "<unset>" when absent (upstream printBoolPtr).
std::string BoolPtr(const Json& v);
// A resource.Quantity as stored ("500m", "1Gi"); "0" when absent (upstream's zero
// Quantity). Upstream prints the canonical form; kubes prints what was written.
std::string Quantity(const Json& q);
// An IntOrString: "3" or "50%".
std::string IntOrString(const Json& v);
// "app=web,tier=front" from a label map, keys sorted; "<none>" when empty
// (labels.FormatLabels).
std::string FormatLabels(const Json& labels);
// labels.Selector String() of a metav1.LabelSelector: requirements sorted by key,
// "k=v", "k in (a,b)", "k notin (a)", "k", "!k". Empty for a null or empty selector;
// nullopt when the selector is invalid (upstream LabelSelectorAsSelector fails).
std::optional<std::string> LabelSelectorString(const Json& selector);
// metav1.FormatLabelSelector: LabelSelectorString, "<none>" when that is empty,
// "<error>" when the selector is invalid.
std::string FormatLabelSelector(const Json& selector);
// Container names and images, comma-separated, from a pod spec (layoutContainerCells).
std::string ContainerNames(const Json& podspec);
std::string ContainerImages(const Json& podspec);
// Whether the first condition of this type in a status has status "True"
// (upstream's hasJobCondition / isPodInitializedConditionTrue).
bool ConditionTrue(const Json& status, std::string_view type);
// "a,b,c + 2 more..." when count > shown items, as upstream's listWithMoreString.
std::string ListWithMore(const std::vector<std::string>& list, size_t count, const char* when_empty);
using kubes::Join;  // util/strings.h

// ---- columns ------------------------------------------------------------------------
Column NameColumn();
Column AgeColumn();
// A column shown by plain `kubectl get`.
Column Col(const char* name, const char* type, const char* description);
// A column shown only with -o wide.
Column Wide(const char* name, const char* type, const char* description);

// ---- registration -------------------------------------------------------------------
void Register(const std::string& group, const std::string& kind, TablePrinter p);
// Registers upstream's default NAME / CREATED AT table for a kind without a printer.
void RegisterCreatedAt(const std::string& group, const std::string& kind);

}  // namespace printers

// Per-file registration, called once from FindPrinter.
void RegisterPodPrinters();          // pod.cc
void RegisterCorePrinters();         // core.cc
void RegisterStoragePrinters();      // storage.cc
void RegisterAppsPrinters();         // apps.cc
void RegisterBatchPrinters();        // batch.cc
void RegisterAutoscalingPrinters();  // autoscaling.cc
void RegisterOtherPrinters();        // others.cc

}  // namespace kubes::apiserver
