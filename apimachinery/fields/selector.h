// Field selectors: parsing, matching and printing.
//
// A field selector is an AND of equality tests on an object's selectable fields,
// given in the `fieldSelector` query parameter: `spec.nodeName=node1,status.phase!=Failed`.
// Only "=", "==" (the same) and "!=" exist. In a value, `\` escapes `\`, `,` and `=`;
// the field name is taken up to the first operator. The caller supplies each object's
// field values as a map; a field missing from the map reads as "".
//
// Which fields may be selected depends on the resource. kube-apiserver asks the
// resource's field-label conversion function about every requirement and answers 400
// with that function's error; CheckFieldLabels and CheckDefaultFieldLabels give the two
// upstream wordings.
//
// Mirrors k8s.io/apimachinery/pkg/fields/selector.go (ParseSelector, EscapeValue,
// UnescapeValue, Transform) and DefaultMetaV1FieldSelectorConversion in
// k8s.io/apimachinery/pkg/runtime/scheme.go. Parse errors are BadRequest with
// upstream's text, e.g. `invalid selector: 'x'; can't understand 'x'`.
//
// Selector is an immutable value; sharing it between threads is safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace kubes::fields {

using Fields = std::map<std::string, std::string>;

// The selection.Operator values a field selector can hold ("==" parses as kEquals).
enum class Operator { kEquals, kNotEquals };

// "=" or "!=".
std::string_view OperatorName(Operator op);

// One test: field op value (the value already unescaped).
struct Requirement {
  std::string field;
  Operator op;
  std::string value;

  bool operator==(const Requirement&) const = default;
};

// An AND of requirements. A default-constructed Selector matches everything;
// Nothing() matches no object.
class Selector {
 public:
  Selector() = default;
  explicit Selector(std::vector<Requirement> requirements) : requirements_(std::move(requirements)) {}
  static Selector Everything() { return Selector(); }
  static Selector Nothing();

  bool Matches(const Fields& fields) const;
  // True when the selector does not restrict anything (Everything()).
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  bool MatchesNothing() const { return nothing_; }

  // Requirements joined by ",", values escaped: "a=b,c!=d\,e". "" for Nothing().
  std::string String() const;
  // In the order they were parsed (sorted by their text) — what the apiserver checks.
  const std::vector<Requirement>& requirements() const { return requirements_; }

  // The value of the first "=" requirement on `field`, if any (lets a caller narrow a
  // list, e.g. metadata.name=x to a single get).
  std::optional<std::string> RequiresExactMatch(std::string_view field) const;

  // Maps every (field, value) through fn; a requirement that fn maps to ("", "") is
  // dropped. The first error from fn is returned as is. Upstream's Transform, which
  // the apiserver uses to apply a resource's field-label conversion.
  using TransformFunc =
      std::function<Result<std::pair<std::string, std::string>>(const std::string& field, const std::string& value)>;
  Result<Selector> Transform(const TransformFunc& fn) const;

  bool operator==(const Selector&) const = default;

 private:
  std::vector<Requirement> requirements_;
  bool nothing_ = false;
};

// Parses the text form: terms separated by unescaped ","; each term is
// `field=value`, `field==value` or `field!=value`; empty terms and a term that is just
// "=" are ignored. Errors are BadRequest with upstream's message.
Result<Selector> ParseSelector(std::string_view selector);

// A selector requiring exactly these field values (upstream SelectorFromSet).
Selector SelectorFromSet(const Fields& set);

// Escapes `\`, `,` and `=` with a backslash so any string can be a selector value.
std::string EscapeValue(std::string_view value);
// The inverse; rejects unknown escapes, a trailing `\`, and bare `,` or `=`.
Result<std::string> UnescapeValue(std::string_view value);

// BadRequest `field label not supported: <field>` for the first requirement whose
// field is not in `supported` — the wording of the built-in resources' field-label
// conversion functions (pods, nodes, events, secrets, ...).
Status CheckFieldLabels(const Selector& selector, const std::set<std::string>& supported);

// BadRequest `"<field>" is not a known field selector: only "metadata.name",
// "metadata.namespace"` — what upstream answers for resources without their own
// conversion function (custom resources without selectableFields, most API groups).
Status CheckDefaultFieldLabels(const Selector& selector);

}  // namespace kubes::fields
