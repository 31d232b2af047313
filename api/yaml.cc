#include "api/yaml.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace kubes::api {
namespace {

using Json = nlohmann::json;

constexpr int kMaxDepth = 100;

Json PlainScalar(const std::string& s) {
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  // Integers (decimal, optionally signed) and floats.
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(begin, &end, 10);
  if (*end == '\0' && errno == 0 && end != begin) return i;
  bool looks_numeric = (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.');
  if (looks_numeric) {
    double d = std::strtod(begin, &end);
    if (*end == '\0' && end != begin) return d;
  }
  if (s == ".inf" || s == ".Inf") return std::numeric_limits<double>::infinity();
  return s;
}

Result<Json> Convert(const YAML::Node& node, int depth) {
  if (depth > kMaxDepth) return BadRequest("yaml: document nested too deeply");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Json(nullptr);
    case YAML::NodeType::Scalar:
      // Tag "!" marks a quoted (non-plain) scalar: always a string.
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return Json(node.Scalar());
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& item : node) {
        auto v = Convert(item, depth + 1);
        if (!v.ok()) return v;
        arr.push_back(std::move(v).value());
      }
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return BadRequest("yaml: mapping keys must be strings");
        auto v = Convert(kv.second, depth + 1);
        if (!v.ok()) return v;
        obj[kv.first.Scalar()] = std::move(v).value();
      }
      return obj;
    }
  }
  return Json(nullptr);
}

}  // namespace

Result<Json> YamlToJson(std::string_view yaml) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    return Convert(root, 0);
  } catch (const YAML::Exception& e) {
    return BadRequest(std::string("error converting YAML to JSON: ") + e.what());
  } catch (const std::exception& e) {
    return BadRequest(std::string("error converting YAML to JSON: ") + e.what());
  }
}

}  // namespace kubes::api
