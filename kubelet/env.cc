#include "kubelet/env.h"

#include <cmath>

#include "apimachinery/resource/quantity.h"

namespace kubes::kubelet {
namespace {

// "metadata.labels['app']" → ("metadata.labels", "app")
bool SubscriptPath(const std::string& path, std::string* base, std::string* key) {
  auto open = path.find("['");
  if (open == std::string::npos || path.size() < open + 4 || path.substr(path.size() - 2) != "']") return false;
  *base = path.substr(0, open);
  *key = path.substr(open + 2, path.size() - open - 4);
  return true;
}

// Labels or annotations as the downward API volume writes them: key="value" lines,
// sorted by key.
std::string FormatMap(const Json& m) {
  std::string out;
  for (const auto& [k, v] : m.items()) {
    std::string quoted;
    for (char c : v.get<std::string>()) {
      if (c == '"' || c == '\\') quoted += '\\';
      if (c == '\n') {
        quoted += "\\n";
        continue;
      }
      quoted += c;
    }
    out += k + "=\"" + quoted + "\"\n";
  }
  if (!out.empty()) out.pop_back();
  return out;
}

std::string JoinIPs(const Json& list) {
  std::string out;
  for (const auto& ip : list) out += (out.empty() ? "" : ",") + ip.value("ip", "");
  return out;
}

std::string FormatNumber(int64_t v) { return std::to_string(v); }

}  // namespace

std::string ExpandReferences(const std::string& in,
                             const std::function<bool(const std::string&, std::string*)>& lookup) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out += in[i];
      continue;
    }
    char next = in[i + 1];
    if (next == '$') {  // "$$" is a literal "$"
      out += '$';
      ++i;
    } else if (next == '(') {
      auto close = in.find(')', i + 2);
      if (close == std::string::npos) {  // unterminated: kept as written
        out += in.substr(i);
        break;
      }
      std::string name = in.substr(i + 2, close - i - 2);
      std::string value;
      if (lookup(name, &value)) out += value;
      else out += in.substr(i, close - i + 1);
      i = close;
    } else {
      out += '$';
    }
  }
  return out;
}

Result<std::string> PodFieldValue(const Json& pod, const std::string& path) {
  const Json& meta = pod.value("metadata", Json::object());
  const Json& spec = pod.value("spec", Json::object());
  const Json& status = pod.value("status", Json::object());
  std::string base, key;
  if (SubscriptPath(path, &base, &key)) {
    if (base == "metadata.labels") return meta.value("labels", Json::object()).value(key, "");
    if (base == "metadata.annotations") return meta.value("annotations", Json::object()).value(key, "");
    return Invalid("unsupported fieldPath: " + path);
  }
  if (path == "metadata.name") return meta.value("name", "");
  if (path == "metadata.namespace") return meta.value("namespace", "");
  if (path == "metadata.uid") return meta.value("uid", "");
  if (path == "metadata.labels") return FormatMap(meta.value("labels", Json::object()));
  if (path == "metadata.annotations") return FormatMap(meta.value("annotations", Json::object()));
  if (path == "spec.nodeName") return spec.value("nodeName", "");
  if (path == "spec.serviceAccountName") return spec.value("serviceAccountName", "");
  if (path == "status.hostIP") return status.value("hostIP", "");
  if (path == "status.hostIPs") return JoinIPs(status.value("hostIPs", Json::array()));
  if (path == "status.podIP") return status.value("podIP", "");
  if (path == "status.podIPs") return JoinIPs(status.value("podIPs", Json::array()));
  return Invalid("unsupported fieldPath: " + path);
}

Result<std::string> ResourceFieldValue(const Json& container, const Json& ref, const Json& node_allocatable) {
  std::string resource = ref.value("resource", "");
  std::string divisor_text = ref.contains("divisor") ? ref["divisor"].get<std::string>() : "1";
  auto divisor = resource::QuantityMilliValue(std::string_view(divisor_text));
  if (!divisor || *divisor <= 0) return Invalid("invalid divisor " + divisor_text);
  auto dot = resource.find('.');
  if (dot == std::string::npos) return Invalid("unsupported container resource: " + resource);
  std::string kind = resource.substr(0, dot), name = resource.substr(dot + 1);
  const Json& resources = container.value("resources", Json::object());
  std::string text;
  if (kind == "limits") {
    text = resources.value("limits", Json::object()).value(name, "");
    if (text.empty()) text = node_allocatable.value(name, "");  // no limit: the node's allocatable
  } else if (kind == "requests") {
    text = resources.value("requests", Json::object()).value(name, "");
    if (text.empty()) text = "0";
  } else {
    return Invalid("unsupported container resource: " + resource);
  }
  auto value = resource::QuantityMilliValue(std::string_view(text.empty() ? "0" : text));
  if (!value) return Invalid("invalid quantity " + text);
  // Upstream rounds up to whole divisors (cpu: at least 1 when set).
  int64_t n = (*value + *divisor - 1) / *divisor;
  if (name == "cpu" && n == 0 && *value > 0) n = 1;
  return FormatNumber(n);
}

Result<std::vector<std::string>> BuildEnvironment(const Json& pod, const Json& container,
                                                  const std::vector<std::string>& image_env,
                                                  const ObjectSource& objects, const Json& node_allocatable) {
  std::vector<std::pair<std::string, std::string>> vars;
  std::map<std::string, size_t> index;
  auto set = [&](const std::string& name, const std::string& value) {
    auto it = index.find(name);
    if (it != index.end()) {
      vars[it->second].second = value;
    } else {
      index[name] = vars.size();
      vars.emplace_back(name, value);
    }
  };
  for (const auto& kv : image_env) {
    auto eq = kv.find('=');
    set(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  // Values from envFrom and valueFrom may only refer to variables of the container
  // itself (not the image's): the lookup sees the map as it grows.
  std::map<std::string, std::string> defined;
  auto lookup = [&](const std::string& name, std::string* out) {
    auto it = defined.find(name);
    if (it == defined.end()) return false;
    *out = it->second;
    return true;
  };
  for (const auto& from : container.value("envFrom", Json::array())) {
    std::string prefix = from.value("prefix", "");
    bool is_cm = from.contains("configMapRef");
    const Json& ref = is_cm ? from["configMapRef"] : from.value("secretRef", Json::object());
    std::string name = ref.value("name", "");
    bool optional = ref.value("optional", false);
    auto data = is_cm ? objects.config_map(name) : objects.secret(name);
    if (!data.ok()) {
      if (optional && data.status().code() == Code::kNotFound) continue;
      return data.status();
    }
    for (const auto& [k, v] : *data) {
      set(prefix + k, v);
      defined[prefix + k] = v;
    }
  }
  for (const auto& e : container.value("env", Json::array())) {
    std::string name = e.value("name", "");
    std::string value;
    if (e.contains("value")) {
      value = ExpandReferences(e["value"].get<std::string>(), lookup);
    } else if (e.contains("valueFrom")) {
      const Json& from = e["valueFrom"];
      if (from.contains("fieldRef")) {
        auto v = PodFieldValue(pod, from["fieldRef"].value("fieldPath", ""));
        if (!v.ok()) return v.status();
        value = *v;
      } else if (from.contains("resourceFieldRef")) {
        const Json& ref = from["resourceFieldRef"];
        Json target = container;
        std::string cname = ref.value("containerName", "");
        if (!cname.empty()) {
          for (const auto& c : pod["spec"].value("containers", Json::array())) {
            if (c.value("name", "") == cname) target = c;
          }
        }
        auto v = ResourceFieldValue(target, ref, node_allocatable);
        if (!v.ok()) return v.status();
        value = *v;
      } else if (from.contains("configMapKeyRef") || from.contains("secretKeyRef")) {
        bool is_cm = from.contains("configMapKeyRef");
        const Json& ref = is_cm ? from["configMapKeyRef"] : from["secretKeyRef"];
        std::string obj = ref.value("name", ""), key = ref.value("key", "");
        bool optional = ref.value("optional", false);
        auto data = is_cm ? objects.config_map(obj) : objects.secret(obj);
        if (!data.ok()) {
          if (optional && data.status().code() == Code::kNotFound) continue;
          return data.status();
        }
        auto it = data->find(key);
        if (it == data->end()) {
          if (optional) continue;
          return NotFound("couldn't find key " + key + " in " + (is_cm ? "ConfigMap " : "Secret ") +
                          pod["metadata"].value("namespace", "") + "/" + obj);
        }
        value = it->second;
      }
    }
    set(name, value);
    defined[name] = value;
  }
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

Result<std::vector<std::string>> BuildCommand(const Json& container, const std::vector<std::string>& entrypoint,
                                              const std::vector<std::string>& cmd,
                                              const std::vector<std::string>& env) {
  std::map<std::string, std::string> vars;
  for (const auto& kv : env) {
    auto eq = kv.find('=');
    vars[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  auto lookup = [&](const std::string& name, std::string* out) {
    auto it = vars.find(name);
    if (it == vars.end()) return false;
    *out = it->second;
    return true;
  };
  std::vector<std::string> command, args;
  bool has_command = container.contains("command") && !container["command"].empty();
  bool has_args = container.contains("args") && !container["args"].empty();
  if (has_command) {
    for (const auto& c : container["command"]) command.push_back(ExpandReferences(c.get<std::string>(), lookup));
  } else {
    command = entrypoint;
  }
  if (has_args) {
    for (const auto& a : container["args"]) args.push_back(ExpandReferences(a.get<std::string>(), lookup));
  } else if (!has_command) {
    args = cmd;  // the image's Cmd only applies when the pod sets neither
  }
  command.insert(command.end(), args.begin(), args.end());
  if (command.empty()) return Invalid("no command specified");
  return command;
}

}  // namespace kubes::kubelet
