#include "apimachinery/validation/names.h"

#include <cctype>

namespace kubes::validation {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchesDNS1123Label(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string MaxLenError(size_t n) { return "must be no more than " + std::to_string(n) + " characters"; }

const char* kDNS1123LabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const char* kDNS1123SubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const char* kDNS1035LabelMsg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const char* kQualifiedNameMsg =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const char* kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

}  // namespace

std::vector<std::string> IsDNS1123Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!MatchesDNS1123Label(value)) errs.push_back(kDNS1123LabelMsg);
  return errs;
}

std::vector<std::string> IsDNS1123Subdomain(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(MaxLenError(253));
  bool ok = !value.empty();
  size_t start = 0;
  while (ok) {
    size_t dot = value.find('.', start);
    ok = MatchesDNS1123Label(value.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (!ok) errs.push_back(kDNS1123SubdomainMsg);
  return errs;
}

std::vector<std::string> IsDNS1035Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!MatchesDNS1123Label(value) || !(value.front() >= 'a' && value.front() <= 'z')) errs.push_back(kDNS1035LabelMsg);
  return errs;
}

std::vector<std::string> IsQualifiedName(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  if (auto slash = value.find('/'); slash != std::string_view::npos) {
    std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const auto& e : IsDNS1123Subdomain(prefix)) errs.push_back("prefix part " + e);
    }
    if (name.find('/') != std::string_view::npos) {
      return {"a qualified name " + std::string(kQualifiedNameMsg).substr(10) +
              " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part " + MaxLenError(63));
  }
  if (!name.empty() && !MatchesQualifiedNamePart(name)) errs.push_back(kQualifiedNameMsg);
  return errs;
}

std::vector<std::string> IsValidLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!value.empty() && !MatchesQualifiedNamePart(value)) errs.push_back(kLabelValueMsg);
  return errs;
}

std::vector<std::string> IsValidPortName(std::string_view port) {
  std::vector<std::string> errs;
  if (port.size() < 1 || port.size() > 15) errs.push_back("must be no more than 15 characters");
  bool letter = false, ok = true;
  for (char c : port) {
    if (c >= 'a' && c <= 'z') letter = true;
    else if (!(c >= '0' && c <= '9') && c != '-') ok = false;
  }
  if (!ok) errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (port.find("--") != std::string_view::npos) errs.push_back("must not contain consecutive hyphens");
  if (!port.empty() && (port.front() == '-' || port.back() == '-')) errs.push_back("must not begin or end with a hyphen");
  if (!letter) errs.push_back("must contain at least one letter (a-z)");
  return errs;
}

namespace {

void ValidateName(const std::string& name, NameRule rule, bool prefix, const Path& p, ErrorList& errs) {
  std::string checked = name;
  // generateName may end in '-': upstream checks it with a suffix appended.
  if (prefix && !checked.empty() && checked.back() == '-') checked += "a";
  std::vector<std::string> problems;
  switch (rule) {
    case NameRule::kDNS1123Subdomain: problems = IsDNS1123Subdomain(checked); break;
    case NameRule::kDNS1123Label: problems = IsDNS1123Label(checked); break;
    case NameRule::kDNS1035Label: problems = IsDNS1035Label(checked); break;
    case NameRule::kPathSegment:
      if (name == "." || name == "..") problems.push_back("may not be '" + name + "'");
      else if (name.find('/') != std::string::npos) problems.push_back("may not contain '/'");
      else if (name.find('%') != std::string::npos) problems.push_back("may not contain '%'");
      break;
  }
  for (const auto& m : problems) errs.push_back(InvalidValue(p, name, m));
}

void ValidateStringMap(const Json& m, const Path& p, bool labels, ErrorList& errs) {
  if (!m.is_object()) return;
  size_t total = 0;
  for (const auto& [k, v] : m.items()) {
    for (const auto& msg : IsQualifiedName(k)) errs.push_back(InvalidValue(p, k, msg));
    if (labels && v.is_string()) {
      for (const auto& msg : IsValidLabelValue(v.get<std::string>())) errs.push_back(InvalidValue(p, v, msg));
    }
    total += k.size() + (v.is_string() ? v.get<std::string>().size() : 0);
  }
  if (!labels && total > 256 * 1024) {
    errs.push_back({ErrorType::kTooLong, p.String(), nullptr, "must have at most 262144 bytes"});
  }
}

}  // namespace

void ValidateObjectMeta(const Json& meta, bool namespaced, NameRule rule, const Path& path, ErrorList& errs) {
  std::string name = meta.value("name", "");
  std::string generate = meta.value("generateName", "");
  if (!generate.empty()) ValidateName(generate, rule, true, path.Child("generateName"), errs);
  if (name.empty() && generate.empty()) {
    errs.push_back(Required(path.Child("name"), "name or generateName is required"));
  } else if (!name.empty()) {
    ValidateName(name, rule, false, path.Child("name"), errs);
  }
  std::string ns = meta.value("namespace", "");
  if (namespaced && ns.empty()) {
    errs.push_back(Required(path.Child("namespace")));
  } else if (!namespaced && !ns.empty()) {
    errs.push_back(Forbidden(path.Child("namespace"), "not allowed on this type"));
  }
  if (meta.contains("labels")) ValidateStringMap(meta["labels"], path.Child("labels"), true, errs);
  if (meta.contains("annotations")) ValidateStringMap(meta["annotations"], path.Child("annotations"), false, errs);
  if (meta.contains("finalizers") && meta["finalizers"].is_array()) {
    Path fp = path.Child("finalizers");
    for (size_t i = 0; i < meta["finalizers"].size(); ++i) {
      const Json& f = meta["finalizers"][i];
      if (!f.is_string()) continue;
      for (const auto& msg : IsQualifiedName(f.get<std::string>())) errs.push_back(InvalidValue(fp.Index(i), f, msg));
    }
  }
  if (meta.contains("ownerReferences") && meta["ownerReferences"].is_array()) {
    Path op = path.Child("ownerReferences");
    int controllers = 0;
    for (size_t i = 0; i < meta["ownerReferences"].size(); ++i) {
      const Json& r = meta["ownerReferences"][i];
      if (!r.is_object()) continue;
      if (r.value("apiVersion", "").empty()) errs.push_back(InvalidValue(op.Index(i).Child("apiVersion"), r.value("apiVersion", ""), "version must not be empty"));
      if (r.value("kind", "").empty()) errs.push_back(InvalidValue(op.Index(i).Child("kind"), r.value("kind", ""), "kind must not be empty"));
      if (r.value("name", "").empty()) errs.push_back(InvalidValue(op.Index(i).Child("name"), r.value("name", ""), "name must not be empty"));
      if (r.value("uid", "").empty()) errs.push_back(InvalidValue(op.Index(i).Child("uid"), r.value("uid", ""), "uid must not be empty"));
      if (r.value("controller", false)) ++controllers;
    }
    if (controllers > 1) {
      errs.push_back(InvalidValue(op, meta["ownerReferences"], "Only one reference can have Controller set to true"));
    }
  }
}

}  // namespace kubes::validation
