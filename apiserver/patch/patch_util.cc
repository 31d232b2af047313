#include "apiserver/patch/patch_util.h"

#include <charconv>
#include <utility>
#include <vector>

namespace kubes::apiserver::patch {

size_t NestingDepth(const Json& value) {
  // Iterative on purpose: this guard must not itself recurse on the input.
  size_t deepest = 0;
  std::vector<std::pair<const Json*, size_t>> stack = {{&value, 1}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    if (depth > deepest) deepest = depth;
    for (const Json& child : *v) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

Status CheckNestingDepth(const Json& value, std::string_view what) {
  if (NestingDepth(value) > kMaxNestingDepth) {
    return BadRequest(std::string(what) + ": nesting exceeds the limit of " +
                      std::to_string(kMaxNestingDepth) + " levels");
  }
  return Status::OK();
}

std::string SafeDump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool JsonEqual(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() != b.is_number_float()) return false;
    return a == b;
  }
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !JsonEqual(it.value(), *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!JsonEqual(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

namespace {

void AppendGoFormat(const Json& v, std::string& out) {
  switch (v.type()) {
    case Json::value_t::object: {
      // nlohmann's default object is a std::map: keys come sorted, as Go's fmt sorts them.
      out += "map[";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ' ';
        first = false;
        out += it.key();
        out += ':';
        AppendGoFormat(it.value(), out);
      }
      out += ']';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ' ';
        AppendGoFormat(v[i], out);
      }
      out += ']';
      return;
    }
    case Json::value_t::string:
      out += v.get_ref<const std::string&>();
      return;
    case Json::value_t::null:
      out += "<nil>";
      return;
    case Json::value_t::number_float: {
      // Shortest round-trip form, close to Go's %v for float64 (1.5, 1e+06).
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v.get<double>());
      out.append(buf, ec == std::errc() ? end : buf);
      return;
    }
    default:
      out += v.dump();  // booleans and integers print the same in JSON and Go
      return;
  }
}

}  // namespace

std::string GoFormat(const Json& value) {
  std::string out;
  AppendGoFormat(value, out);
  return out;
}

std::string GoTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: return "map[string]interface {}";
    case Json::value_t::array: return "[]interface {}";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "int64";
    case Json::value_t::number_float: return "float64";
    default: return "<nil>";
  }
}

std::string JsonKindName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "number";
    default: return "null";
  }
}

}  // namespace kubes::apiserver::patch
