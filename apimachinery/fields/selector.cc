#include "apimachinery/fields/selector.h"

#include <algorithm>

#include "apimachinery/gostrings.h"

namespace kubes::fields {
namespace {

// Splits on commas that are not escaped; escaped characters stay escaped in the terms.
// Upstream walks runes, but the only characters that matter are ASCII, which never
// occur inside a multi-byte sequence, so walking bytes finds the same splits.
std::vector<std::string_view> SplitTerms(std::string_view selector) {
  std::vector<std::string_view> terms;
  if (selector.empty()) return terms;
  size_t start = 0;
  bool in_slash = false;
  for (size_t i = 0; i < selector.size(); ++i) {
    const char c = selector[i];
    if (in_slash) {
      in_slash = false;
    } else if (c == '\\') {
      in_slash = true;
    } else if (c == ',') {
      terms.push_back(selector.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(selector.substr(start));
  return terms;
}

struct Term {
  std::string_view field;
  Operator op;
  std::string_view raw_value;  // still escaped
};

// Splits a term at the first operator. Field names cannot be escaped, so the first
// "!=", "==" or "=" wins; "==" is tried before "=" so no "=" is left on the value.
std::optional<Term> SplitTerm(std::string_view term) {
  for (size_t i = 0; i < term.size(); ++i) {
    const std::string_view rest = term.substr(i);
    if (rest.starts_with("!=")) return Term{term.substr(0, i), Operator::kNotEquals, rest.substr(2)};
    if (rest.starts_with("==")) return Term{term.substr(0, i), Operator::kEquals, rest.substr(2)};
    if (rest.starts_with("=")) return Term{term.substr(0, i), Operator::kEquals, rest.substr(1)};
  }
  return std::nullopt;
}

}  // namespace

std::string_view OperatorName(Operator op) { return op == Operator::kEquals ? "=" : "!="; }

Selector Selector::Nothing() {
  Selector s;
  s.nothing_ = true;
  return s;
}

bool Selector::Matches(const Fields& fields) const {
  if (nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(), [&](const Requirement& r) {
    const auto it = fields.find(r.field);
    const std::string_view actual = it == fields.end() ? std::string_view() : std::string_view(it->second);
    return (actual == r.value) == (r.op == Operator::kEquals);
  });
}

std::string Selector::String() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) out += ",";
    out += requirements_[i].field;
    out += OperatorName(requirements_[i].op);
    out += EscapeValue(requirements_[i].value);
  }
  return out;
}

std::optional<std::string> Selector::RequiresExactMatch(std::string_view field) const {
  for (const Requirement& r : requirements_) {
    if (r.op == Operator::kEquals && r.field == field) return r.value;
  }
  return std::nullopt;
}

Result<Selector> Selector::Transform(const TransformFunc& fn) const {
  if (nothing_) return *this;
  std::vector<Requirement> out;
  for (const Requirement& r : requirements_) {
    Result<std::pair<std::string, std::string>> mapped = fn(r.field, r.value);
    if (!mapped.ok()) return mapped.status();
    auto& [field, value] = *mapped;
    if (field.empty() && value.empty()) continue;
    out.push_back(Requirement{std::move(field), r.op, std::move(value)});
  }
  return Selector(std::move(out));
}

Result<Selector> ParseSelector(std::string_view selector) {
  std::vector<std::string_view> parts = SplitTerms(selector);
  std::sort(parts.begin(), parts.end());  // a deterministic order whatever the input order
  std::vector<Requirement> requirements;
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    const std::optional<Term> term = SplitTerm(part);
    if (!term) {
      return BadRequest("invalid selector: '" + std::string(selector) + "'; can't understand '" + std::string(part) +
                        "'");
    }
    Result<std::string> value = UnescapeValue(term->raw_value);
    if (!value.ok()) return value.status();
    // A term with neither field nor value ("=") selects nothing in particular.
    if (term->field.empty() && value->empty()) continue;
    requirements.push_back(Requirement{std::string(term->field), term->op, std::move(value).value()});
  }
  return Selector(std::move(requirements));
}

Selector SelectorFromSet(const Fields& set) {
  std::vector<Requirement> requirements;
  for (const auto& [field, value] : set) requirements.push_back(Requirement{field, Operator::kEquals, value});
  return Selector(std::move(requirements));
}

std::string EscapeValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == ',' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

Result<std::string> UnescapeValue(std::string_view value) {
  if (value.find_first_of("\\,=") == std::string_view::npos) return std::string(value);

  // Upstream decodes runes here, so on this path an invalid UTF-8 byte comes out as
  // U+FFFD; we do the same to hand back the same value.
  std::string out;
  out.reserve(value.size());
  bool in_slash = false;
  while (!value.empty()) {
    const gostrings::DecodedRune d = gostrings::DecodeRune(value);
    value.remove_prefix(d.size);
    const char32_t c = d.rune;
    if (in_slash) {
      if (c != '\\' && c != ',' && c != '=') {
        std::string sequence = "\\";
        gostrings::AppendRune(sequence, c);
        return BadRequest("invalid field selector: invalid escape sequence: " + sequence);
      }
      out += static_cast<char>(c);
      in_slash = false;
    } else if (c == '\\') {
      in_slash = true;
    } else if (c == ',' || c == '=') {
      // Upstream prints the rune with %v, which is its number: '=' reads as 61.
      const int code_point = static_cast<int>(c);
      return BadRequest("invalid field selector: unescaped character in value: " + std::to_string(code_point));
    } else {
      gostrings::AppendRune(out, c);
    }
  }
  if (in_slash) return BadRequest("invalid field selector: invalid escape sequence: \\");
  return out;
}

Status CheckFieldLabels(const Selector& selector, const std::set<std::string>& supported) {
  for (const Requirement& r : selector.requirements()) {
    if (!supported.contains(r.field)) return BadRequest("field label not supported: " + r.field);
  }
  return Status::OK();
}

Status CheckDefaultFieldLabels(const Selector& selector) {
  for (const Requirement& r : selector.requirements()) {
    if (r.field != "metadata.name" && r.field != "metadata.namespace") {
      return BadRequest(gostrings::Quote(r.field) +
                        " is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
    }
  }
  return Status::OK();
}

}  // namespace kubes::fields
