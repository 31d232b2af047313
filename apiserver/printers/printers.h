// Table printers: the columns `kubectl get` shows for each kind.
//
// Mirrors k8s.io/kubernetes/pkg/printers/internalversion/printers.go: kubectl has no
// columns of its own, the server sends a meta.k8s.io/v1 Table. Each printer lists its
// columns (priority 1 = only with -o wide) and computes one row per object, with the
// same wording as upstream (pod STATUS, RESTARTS "3 (5m ago)", AGE "2m3s").
// Printers are immutable after start-up and safe to share between threads.
#pragma once

#include <string>
#include <vector>

#include "apiserver/registry/resource.h"

namespace kubes::apiserver {

// The printer for a built-in kind, or nullptr (then NAME and AGE are shown).
const TablePrinter* FindPrinter(const std::string& group, const std::string& kind);

// The fallback printer: NAME and AGE.
const TablePrinter& DefaultPrinter();

// Helpers shared by the per-group printer files.
namespace printers {
// AGE of an object: HumanDuration since metadata.creationTimestamp, or "<unknown>".
std::string Age(const Json& obj, TimePoint now);
// HumanDuration since an RFC 3339 timestamp string.
std::string Since(const Json& timestamp, TimePoint now);
std::string Name(const Json& obj);
// "<none>" for empty strings, the string itself otherwise.
std::string OrNone(const std::string& s);
// "app=web,tier=front" from a label map or a LabelSelector (upstream's selector String()).
std::string FormatLabels(const Json& labels);
std::string FormatLabelSelector(const Json& selector);
// Container names and images, comma-separated, from a pod spec.
std::string ContainerNames(const Json& podspec);
std::string ContainerImages(const Json& podspec);
int64_t Int(const Json& obj, const char* key);
// Registration helpers used by the per-group files.
void Register(const std::string& group, const std::string& kind, TablePrinter p);
}  // namespace printers

// Per-group registration (printers/core.cc, printers/apps.cc, ...).
void RegisterCorePrinters();
void RegisterAppsPrinters();
void RegisterOtherPrinters();

}  // namespace kubes::apiserver
