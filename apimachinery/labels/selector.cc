#include "apimachinery/labels/selector.h"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "apimachinery/gostrings.h"
#include "apimachinery/labels/validation.h"

namespace kubes::labels {
namespace {

using gostrings::Quote;

// strconv.ParseInt(s, 10, 64): optional sign, at least one decimal digit, no
// overflow. Anything else is not an integer.
std::optional<int64_t> ParseInt64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  // Accumulate as a negative number: its range is one larger than the positive one.
  int64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    if (value < (INT64_MIN + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (negative) return value;
  if (value == INT64_MIN) return std::nullopt;
  return -value;
}

// How Go's %#v prints a []string, as upstream's errors show a bad value list.
std::string RenderValues(const std::vector<std::string>& values) {
  if (values.empty()) return "[]string(nil)";  // the slice upstream builds is nil when empty
  std::string out = "[]string{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += Quote(values[i]);
  }
  return out + "}";
}

// utilerrors.NewAggregate(...).Error(): duplicates dropped, one message as is,
// several as "[a, b]".
std::string Aggregate(const std::vector<std::string>& errs) {
  std::vector<std::string> unique;
  for (const std::string& e : errs) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  if (unique.size() == 1) return unique[0];
  return "[" + Join(unique, ", ") + "]";
}

bool Contains(const std::vector<std::string>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// The problems NewRequirement finds with the number and form of the values.
void CheckValueCount(Operator op, const std::vector<std::string>& values, std::vector<std::string>& errs) {
  switch (op) {
    case Operator::kIn:
    case Operator::kNotIn:
      if (values.empty()) {
        errs.push_back(
            FieldInvalid("values", RenderValues(values), "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case Operator::kEquals:
    case Operator::kDoubleEquals:
    case Operator::kNotEquals:
      if (values.size() != 1) {
        errs.push_back(
            FieldInvalid("values", RenderValues(values), "exact-match compatibility requires one single value"));
      }
      break;
    case Operator::kExists:
    case Operator::kDoesNotExist:
      if (!values.empty()) {
        errs.push_back(
            FieldInvalid("values", RenderValues(values), "values set must be empty for exists and does not exist"));
      }
      break;
    case Operator::kGreaterThan:
    case Operator::kLessThan:
      if (values.size() != 1) {
        errs.push_back(
            FieldInvalid("values", RenderValues(values), "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      for (size_t i = 0; i < values.size(); ++i) {
        if (!ParseInt64(values[i])) {
          errs.push_back(FieldInvalid("values[" + std::to_string(i) + "]", Quote(values[i]),
                                      "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
      break;
  }
}

}  // namespace

std::string_view OperatorName(Operator op) {
  switch (op) {
    case Operator::kDoesNotExist: return "!";
    case Operator::kEquals: return "=";
    case Operator::kDoubleEquals: return "==";
    case Operator::kIn: return "in";
    case Operator::kNotEquals: return "!=";
    case Operator::kNotIn: return "notin";
    case Operator::kExists: return "exists";
    case Operator::kGreaterThan: return "gt";
    case Operator::kLessThan: return "lt";
  }
  return "";
}

Result<Requirement> Requirement::New(std::string key, Operator op, std::vector<std::string> values) {
  std::vector<std::string> errs;
  if (auto problems = IsQualifiedName(key); !problems.empty()) {
    errs.push_back(FieldInvalid("key", Quote(key), Join(problems, "; ")));
  }
  CheckValueCount(op, values, errs);
  for (size_t i = 0; i < values.size(); ++i) {
    if (auto problems = IsValidLabelValue(values[i]); !problems.empty()) {
      errs.push_back(FieldInvalid("values[" + std::to_string(i) + "][" + key + "]", Quote(values[i]),
                                  Join(problems, "; ")));
    }
  }
  if (!errs.empty()) return BadRequest(Aggregate(errs));
  return Requirement(std::move(key), op, std::move(values));
}

bool Requirement::Matches(const Labels& labels) const {
  const auto it = labels.find(key_);
  const bool has = it != labels.end();
  switch (op_) {
    case Operator::kIn:
    case Operator::kEquals:
    case Operator::kDoubleEquals:
      return has && Contains(values_, it->second);
    case Operator::kNotIn:
    case Operator::kNotEquals:
      return !has || !Contains(values_, it->second);
    case Operator::kExists:
      return has;
    case Operator::kDoesNotExist:
      return !has;
    case Operator::kGreaterThan:
    case Operator::kLessThan: {
      if (!has || values_.size() != 1) return false;
      const std::optional<int64_t> actual = ParseInt64(it->second);
      const std::optional<int64_t> bound = ParseInt64(values_[0]);
      if (!actual || !bound) return false;
      return op_ == Operator::kGreaterThan ? *actual > *bound : *actual < *bound;
    }
  }
  return false;
}

std::string Requirement::String() const {
  std::string out = op_ == Operator::kDoesNotExist ? "!" + key_ : key_;
  switch (op_) {
    case Operator::kEquals: out += "="; break;
    case Operator::kDoubleEquals: out += "=="; break;
    case Operator::kNotEquals: out += "!="; break;
    case Operator::kIn: out += " in ("; break;
    case Operator::kNotIn: out += " notin ("; break;
    case Operator::kGreaterThan: out += ">"; break;
    case Operator::kLessThan: out += "<"; break;
    case Operator::kExists:
    case Operator::kDoesNotExist:
      return out;
  }
  std::vector<std::string> sorted = values_;
  std::sort(sorted.begin(), sorted.end());
  out += Join(sorted, ",");
  if (op_ == Operator::kIn || op_ == Operator::kNotIn) out += ")";
  return out;
}

Selector Selector::Nothing() {
  Selector s;
  s.nothing_ = true;
  return s;
}

bool Selector::Matches(const Labels& labels) const {
  if (nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& r) { return r.Matches(labels); });
}

std::string Selector::String() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) out += ",";
    out += requirements_[i].String();
  }
  return out;
}

std::optional<std::string> Selector::RequiresExactMatch(std::string_view label) const {
  for (const Requirement& r : requirements_) {
    if (r.key() != label) continue;
    const bool exact = r.op() == Operator::kEquals || r.op() == Operator::kDoubleEquals || r.op() == Operator::kIn;
    if (exact && r.values().size() == 1) return r.values()[0];
    return std::nullopt;
  }
  return std::nullopt;
}

Selector Selector::Add(std::vector<Requirement> requirements) const {
  if (nothing_) return *this;
  Selector out = *this;
  for (Requirement& r : requirements) out.requirements_.push_back(std::move(r));
  std::stable_sort(out.requirements_.begin(), out.requirements_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key() < b.key(); });
  return out;
}

Selector SelectorFromSet(const Labels& set) {
  std::vector<Requirement> requirements;
  for (const auto& [key, value] : set) {
    requirements.push_back(Requirement(key, Operator::kEquals, {value}));
  }
  return Selector().Add(std::move(requirements));
}

namespace {

// Reads an optional string member of a JSON object; absent and null read as "".
Result<std::string> OptionalString(const Json& object, const char* name, const std::string& where) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return BadRequest("invalid label selector: " + where + "." + name + " must be a string");
  return it->get<std::string>();
}

Result<Requirement> ExpressionToRequirement(const Json& expr, const std::string& where) {
  if (!expr.is_object()) return BadRequest("invalid label selector: " + where + " must be an object");
  Result<std::string> key = OptionalString(expr, "key", where);
  if (!key.ok()) return key.status();
  Result<std::string> op_name = OptionalString(expr, "operator", where);
  if (!op_name.ok()) return op_name.status();

  std::vector<std::string> values;
  if (const auto it = expr.find("values"); it != expr.end() && !it->is_null()) {
    if (!it->is_array()) return BadRequest("invalid label selector: " + where + ".values must be an array of strings");
    for (const Json& v : *it) {
      if (!v.is_string()) return BadRequest("invalid label selector: " + where + ".values must be an array of strings");
      values.push_back(v.get<std::string>());
    }
  }

  Operator op;
  if (*op_name == "In") {
    op = Operator::kIn;
  } else if (*op_name == "NotIn") {
    op = Operator::kNotIn;
  } else if (*op_name == "Exists") {
    op = Operator::kExists;
  } else if (*op_name == "DoesNotExist") {
    op = Operator::kDoesNotExist;
  } else {
    return BadRequest(Quote(*op_name) + " is not a valid label selector operator");
  }
  return Requirement::New(std::move(*key), op, std::move(values));
}

}  // namespace

Result<Selector> SelectorFromLabelSelector(const Json& label_selector) {
  if (label_selector.is_null()) return Selector::Nothing();
  if (!label_selector.is_object()) return BadRequest("invalid label selector: must be an object");

  static const Json kNoLabels = Json::object();
  static const Json kNoExpressions = Json::array();
  const auto labels_it = label_selector.find("matchLabels");
  const Json& match_labels = labels_it == label_selector.end() || labels_it->is_null() ? kNoLabels : *labels_it;
  const auto exprs_it = label_selector.find("matchExpressions");
  const Json& match_expressions =
      exprs_it == label_selector.end() || exprs_it->is_null() ? kNoExpressions : *exprs_it;
  if (!match_labels.is_object()) return BadRequest("invalid label selector: matchLabels must be an object");
  if (!match_expressions.is_array()) return BadRequest("invalid label selector: matchExpressions must be an array");
  if (match_labels.empty() && match_expressions.empty()) return Selector::Everything();

  std::vector<Requirement> requirements;
  for (const auto& [key, value] : match_labels.items()) {
    if (!value.is_string()) return BadRequest("invalid label selector: matchLabels[" + key + "] must be a string");
    Result<Requirement> r = Requirement::New(key, Operator::kEquals, {value.get<std::string>()});
    if (!r.ok()) return r.status();
    requirements.push_back(std::move(r).value());
  }
  for (size_t i = 0; i < match_expressions.size(); ++i) {
    Result<Requirement> r =
        ExpressionToRequirement(match_expressions[i], "matchExpressions[" + std::to_string(i) + "]");
    if (!r.ok()) return r.status();
    requirements.push_back(std::move(r).value());
  }
  return Selector().Add(std::move(requirements));
}

}  // namespace kubes::labels
