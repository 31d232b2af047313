#include "apiserver/jsonpath.h"

namespace kubes::apiserver {
namespace {

using Json = nlohmann::json;

// One step of a path.
struct Step {
  enum Kind { kField, kIndex, kAll, kFilter } kind;
  std::string field;   // kField; kFilter: the key compared
  int index = 0;       // kIndex
  Json value;          // kFilter: the value compared with ==
};

Result<std::vector<Step>> ParsePath(std::string p) {
  if (p.size() >= 2 && p.front() == '{' && p.back() == '}') p = p.substr(1, p.size() - 2);
  std::vector<Step> steps;
  size_t i = 0;
  if (i < p.size() && p[i] == '$') ++i;
  while (i < p.size()) {
    if (p[i] == '.') {
      ++i;
      size_t start = i;
      while (i < p.size() && p[i] != '.' && p[i] != '[') ++i;
      if (i == start) return BadRequest("jsonpath: empty field name in " + p);
      steps.push_back({Step::kField, p.substr(start, i - start)});
    } else if (p[i] == '[') {
      size_t close = p.find(']', i);
      if (close == std::string::npos) return BadRequest("jsonpath: unclosed [ in " + p);
      std::string inner = p.substr(i + 1, close - i - 1);
      i = close + 1;
      if (inner == "*") {
        steps.push_back({Step::kAll});
      } else if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"')) {
        steps.push_back({Step::kField, inner.substr(1, inner.size() - 2)});
      } else if (inner.starts_with("?(@.") && inner.back() == ')') {
        std::string cond = inner.substr(4, inner.size() - 5);
        auto eq = cond.find("==");
        if (eq == std::string::npos) return BadRequest("jsonpath: unsupported filter " + inner);
        std::string key = cond.substr(0, eq), raw = cond.substr(eq + 2);
        Json value = (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) ? Json(raw.substr(1, raw.size() - 2))
                                                                                  : Json::parse(raw, nullptr, false);
        steps.push_back({Step::kFilter, key, 0, value});
      } else {
        try {
          steps.push_back({Step::kIndex, "", std::stoi(inner)});
        } catch (...) {
          return BadRequest("jsonpath: bad index [" + inner + "]");
        }
      }
    } else {
      return BadRequest("jsonpath: unexpected '" + std::string(1, p[i]) + "' in " + p);
    }
  }
  return steps;
}

}  // namespace

Result<std::vector<Json>> EvaluateJsonPath(const Json& doc, const std::string& path) {
  auto steps = ParsePath(path);
  if (!steps.ok()) return steps.status();
  std::vector<const Json*> current = {&doc};
  for (const Step& s : *steps) {
    std::vector<const Json*> next;
    for (const Json* v : current) {
      switch (s.kind) {
        case Step::kField:
          if (v->is_object() && v->contains(s.field)) next.push_back(&(*v)[s.field]);
          break;
        case Step::kIndex:
          if (v->is_array()) {
            int n = static_cast<int>(v->size());
            int idx = s.index < 0 ? n + s.index : s.index;
            if (idx >= 0 && idx < n) next.push_back(&(*v)[idx]);
          }
          break;
        case Step::kAll:
          if (v->is_array() || v->is_object()) {
            for (const auto& item : *v) next.push_back(&item);
          }
          break;
        case Step::kFilter:
          if (v->is_array()) {
            for (const auto& item : *v) {
              if (item.is_object() && item.contains(s.field) && item[s.field] == s.value) next.push_back(&item);
            }
          }
          break;
      }
    }
    current = std::move(next);
  }
  std::vector<Json> out;
  for (const Json* v : current) out.push_back(*v);
  return out;
}

std::string JsonPathCell(const std::vector<Json>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    out += values[i].is_string() ? values[i].get<std::string>() : values[i].dump();
  }
  return out;
}

}  // namespace kubes::apiserver
