// Label selectors: parsing, matching and printing.
//
// A label selector is an AND of requirements on an object's labels, written as text
// in the `labelSelector` query parameter (`app=web,tier in (fe,be),!canary`) or as a
// metav1.LabelSelector object inside other objects (a Deployment's spec.selector).
// Both forms become the same Selector, which tests a label map.
//
// Mirrors k8s.io/apimachinery/pkg/labels/selector.go (Parse, NewRequirement,
// Requirement.Matches, String) and LabelSelectorAsSelector from
// k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go. Error texts are upstream's, so a bad
// `labelSelector` parameter produces the same 400 BadRequest message as kube-apiserver,
// e.g. `unable to parse requirement: found '', expected: '('`.
//
// Differences: requirements on the same key keep their input order (upstream's sort is
// not stable, so its order for such a selector is arbitrary); matchLabels entries are
// checked in key order where upstream uses Go's random map order.
//
// Selector and Requirement are immutable values; sharing them between threads is safe.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace kubes::labels {

using Json = nlohmann::json;
using Labels = std::map<std::string, std::string>;

// selection.Operator.
enum class Operator {
  kDoesNotExist,  // "!key"
  kEquals,        // "key=value"
  kDoubleEquals,  // "key==value"
  kIn,            // "key in (a,b)"
  kNotEquals,     // "key!=value"
  kNotIn,         // "key notin (a,b)"
  kExists,        // "key"
  kGreaterThan,   // "key>5"  (integer comparison)
  kLessThan,      // "key<5"
};

// Upstream's name for op: "!", "=", "==", "in", "!=", "notin", "exists", "gt", "lt".
std::string_view OperatorName(Operator op);

class Selector;
Selector SelectorFromSet(const Labels& set);

// One condition on one label key.
class Requirement {
 public:
  // NewRequirement: validates the key (a qualified name), the number of values the
  // operator needs, integer values for gt/lt, and every value's label syntax.
  // Errors are BadRequest with all problems, in upstream's aggregate form.
  static Result<Requirement> New(std::string key, Operator op, std::vector<std::string> values);

  const std::string& key() const { return key_; }
  Operator op() const { return op_; }
  // The values as given to New (the text parser passes them sorted and unique).
  const std::vector<std::string>& values() const { return values_; }

  // in/=/==: key present with one of the values. notin/!=: key absent or not one of
  // the values. exists/!: presence. gt/lt: key present, both sides base-10 int64.
  bool Matches(const Labels& labels) const;

  // "key in (a,b)", "!key", "key>5", ...; several values are printed sorted.
  std::string String() const;

  bool operator==(const Requirement&) const = default;

 private:
  friend Selector SelectorFromSet(const Labels& set);  // builds unvalidated requirements
  Requirement(std::string key, Operator op, std::vector<std::string> values)
      : key_(std::move(key)), op_(op), values_(std::move(values)) {}

  std::string key_;
  Operator op_;
  std::vector<std::string> values_;
};

// An AND of requirements, kept sorted by key. A default-constructed Selector has no
// requirements and matches everything; Nothing() matches no object at all (what an
// absent metav1.LabelSelector means).
class Selector {
 public:
  Selector() = default;
  static Selector Everything() { return Selector(); }
  static Selector Nothing();

  bool Matches(const Labels& labels) const;
  // True when the selector does not restrict anything (Everything()).
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  // True for Nothing(): upstream's Requirements() reports selectable=false.
  bool MatchesNothing() const { return nothing_; }

  // The requirements joined by ","; "" for Everything() and Nothing().
  std::string String() const;
  const std::vector<Requirement>& requirements() const { return requirements_; }

  // When the selector pins `label` to a single value (=, == or in with one value, on the
  // first requirement for that key), that value.
  std::optional<std::string> RequiresExactMatch(std::string_view label) const;

  // A copy with more requirements (kept sorted by key). Nothing() stays Nothing().
  Selector Add(std::vector<Requirement> requirements) const;

  bool operator==(const Selector&) const = default;

 private:
  std::vector<Requirement> requirements_;
  bool nothing_ = false;
};

// Parses the text form (upstream labels.Parse):
//   selector    := requirement ("," requirement)*  |  ""
//   requirement := ["!"] KEY [ ("in" | "notin") "(" VALUE ("," VALUE)* ")"
//                           | ("=" | "==" | "!=" | ">" | "<") VALUE ]
// Blanks (space, tab, CR, LF) may surround tokens; values may be empty ("x=",
// "x in (a,)"). Errors are BadRequest with upstream's message.
Result<Selector> Parse(std::string_view selector);

// A selector requiring exactly these labels (upstream SelectorFromSet; no validation).
Selector SelectorFromSet(const Labels& set);

// Converts a metav1.LabelSelector given as JSON (upstream LabelSelectorAsSelector):
// matchLabels become "=" requirements, matchExpressions use In, NotIn, Exists and
// DoesNotExist. JSON null (an absent selector) gives Nothing(); an object with no
// matchLabels and no matchExpressions gives Everything(). Errors are BadRequest, e.g.
// `"Foo" is not a valid label selector operator`.
Result<Selector> SelectorFromLabelSelector(const Json& label_selector);

}  // namespace kubes::labels
