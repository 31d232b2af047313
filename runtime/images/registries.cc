#include "runtime/images/registries.h"

#include "pki/base64.h"

#include <yaml-cpp/yaml.h>

#include <arpa/inet.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace kubes::runtime::images {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxRewritePattern = 512;

// Go's "${1}" replacement syntax as std::regex's "$1".
std::string GoReplacement(const std::string& r) {
  std::string out;
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] == '$' && i + 1 < r.size() && r[i + 1] == '{') {
      const size_t close = r.find('}', i);
      if (close != std::string::npos) {
        out += "$" + r.substr(i + 2, close - i - 2);
        i = close;
        continue;
      }
    }
    out += r[i];
  }
  return out;
}

Result<std::string> Scalar(const YAML::Node& n, const std::string& where) {
  if (!n.IsDefined() || n.IsNull()) return std::string();
  if (!n.IsScalar()) return Invalid("registries.yaml: " + where + " must be a string");
  return n.as<std::string>();
}

Status ParseMirror(const std::string& host, const YAML::Node& n, Mirror& m) {
  const std::string where = "mirrors." + host;
  if (!n.IsMap()) return Invalid("registries.yaml: " + where + " must be a map");
  const YAML::Node endpoints = n["endpoint"];
  if (endpoints.IsDefined() && !endpoints.IsNull()) {
    if (!endpoints.IsSequence()) return Invalid("registries.yaml: " + where + ".endpoint must be a list of URLs");
    for (const YAML::Node& e : endpoints) {
      Result<std::string> url = Scalar(e, where + ".endpoint");
      if (!url.ok()) return url.status();
      if (!url->empty()) m.endpoints.push_back(*url);
    }
  }
  const YAML::Node rewrite = n["rewrite"];
  if (rewrite.IsDefined() && !rewrite.IsNull()) {
    if (!rewrite.IsMap()) return Invalid("registries.yaml: " + where + ".rewrite must be a map of regex to replacement");
    for (const auto& kv : rewrite) {
      Result<std::string> pattern = Scalar(kv.first, where + ".rewrite");
      Result<std::string> replacement = Scalar(kv.second, where + ".rewrite");
      if (!pattern.ok()) return pattern.status();
      if (!replacement.ok()) return replacement.status();
      if (pattern->size() > kMaxRewritePattern) return Invalid("registries.yaml: " + where + ".rewrite: regex too long");
      try {
        std::regex check(*pattern);
      } catch (const std::regex_error& e) {
        return Invalid("registries.yaml: " + where + ".rewrite: bad regex \"" + *pattern + "\": " + e.what());
      }
      m.rewrites.emplace_back(*pattern, GoReplacement(*replacement));
    }
  }
  return Status::OK();
}

// "user:password" from a base64 `auth` value.
Status SplitAuth(const std::string& auth, std::string& user, std::string& password, const std::string& where) {
  Result<std::string> decoded = Base64Decode(auth);
  if (!decoded.ok()) return Invalid(where + ": auth is not base64");
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return Invalid(where + ": auth must be base64 of \"username:password\"");
  user = decoded->substr(0, colon);
  password = decoded->substr(colon + 1);
  return Status::OK();
}

Status ParseConfig(const std::string& host, const YAML::Node& n, RegistryConfig& c) {
  const std::string where = "configs." + host;
  if (!n.IsMap()) return Invalid("registries.yaml: " + where + " must be a map");
  if (const YAML::Node auth = n["auth"]; auth.IsDefined() && !auth.IsNull()) {
    if (!auth.IsMap()) return Invalid("registries.yaml: " + where + ".auth must be a map");
    Result<std::string> user = Scalar(auth["username"], where + ".auth.username");
    Result<std::string> password = Scalar(auth["password"], where + ".auth.password");
    Result<std::string> encoded = Scalar(auth["auth"], where + ".auth.auth");
    Result<std::string> token = Scalar(auth["identitytoken"], where + ".auth.identitytoken");
    for (const Status& s : {user.status(), password.status(), encoded.status(), token.status()}) {
      if (!s.ok()) return s;
    }
    c.auth = {*user, *password, *token};
    if (!encoded->empty()) {
      KUBES_RETURN_IF_ERROR(SplitAuth(*encoded, c.auth.username, c.auth.password, "registries.yaml: " + where));
    }
  }
  if (const YAML::Node tls = n["tls"]; tls.IsDefined() && !tls.IsNull()) {
    if (!tls.IsMap()) return Invalid("registries.yaml: " + where + ".tls must be a map");
    Result<std::string> insecure = Scalar(tls["insecure_skip_verify"], where + ".tls.insecure_skip_verify");
    Result<std::string> ca = Scalar(tls["ca_file"], where + ".tls.ca_file");
    Result<std::string> cert = Scalar(tls["cert_file"], where + ".tls.cert_file");
    Result<std::string> key = Scalar(tls["key_file"], where + ".tls.key_file");
    for (const Status& s : {insecure.status(), ca.status(), cert.status(), key.status()}) {
      if (!s.ok()) return s;
    }
    if (*insecure != "" && *insecure != "true" && *insecure != "false") {
      return Invalid("registries.yaml: " + where + ".tls.insecure_skip_verify must be true or false");
    }
    c.tls = {*insecure == "true", *ca, *cert, *key};
  }
  return Status::OK();
}

Status ParseYaml(const YAML::Node& root, RegistriesConfig& out) {
  if (!root.IsDefined() || root.IsNull()) return Status::OK();
  if (!root.IsMap()) return Invalid("registries.yaml: the document must be a map");
  if (const YAML::Node mirrors = root["mirrors"]; mirrors.IsDefined() && !mirrors.IsNull()) {
    if (!mirrors.IsMap()) return Invalid("registries.yaml: mirrors must be a map");
    for (const auto& kv : mirrors) {
      Result<std::string> host = Scalar(kv.first, "mirrors");
      if (!host.ok()) return host.status();
      KUBES_RETURN_IF_ERROR(ParseMirror(*host, kv.second, out.mirrors[*host]));
    }
  }
  if (const YAML::Node configs = root["configs"]; configs.IsDefined() && !configs.IsNull()) {
    if (!configs.IsMap()) return Invalid("registries.yaml: configs must be a map");
    for (const auto& kv : configs) {
      Result<std::string> host = Scalar(kv.first, "configs");
      if (!host.ok()) return host.status();
      KUBES_RETURN_IF_ERROR(ParseConfig(*host, kv.second, out.configs[*host]));
    }
  }
  return Status::OK();
}

// "https://index.docker.io/v1/" → "docker.io"; "registry:5000/path" → "registry:5000".
std::string CredentialHost(std::string key) {
  if (const size_t scheme = key.find("://"); scheme != std::string::npos) key = key.substr(scheme + 3);
  key = key.substr(0, key.find('/'));
  if (key == "index.docker.io" || key == "registry-1.docker.io" || key == "registry.hub.docker.com") return "docker.io";
  return key;
}

// A pull-secret key matches a host exactly or by a "*." wildcard for one DNS label.
bool CredentialMatches(const std::string& pattern, const std::string& host) {
  if (pattern == host) return true;
  if (pattern.rfind("*.", 0) != 0) return false;
  const size_t dot = host.find('.');
  return dot != std::string::npos && host.substr(dot) == pattern.substr(1);
}

bool IsLoopbackHost(const std::string& host_port) {
  std::string host = host_port;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    host = host.substr(0, host.find(':'));
  }
  if (host == "localhost") return true;
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) return buf[0] == 127;
  return host == "::1";
}

// "http://h:5000/prefix" → {"http://h:5000/prefix/v2", "h:5000"}.
std::pair<std::string, std::string> EndpointUrl(std::string url) {
  if (url.find("://") == std::string::npos) url = "https://" + url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const size_t host_start = url.find("://") + 3;
  const size_t path_start = url.find('/', host_start);
  const std::string host = url.substr(host_start, path_start == std::string::npos ? std::string::npos
                                                                                  : path_start - host_start);
  if (url.size() < 3 || url.compare(url.size() - 3, 3, "/v2") != 0) url += "/v2";
  return {url, host};
}

const Credential* FindCredential(const std::vector<Credential>& creds, const std::string& host) {
  for (const Credential& c : creds) {
    if (CredentialMatches(c.registry, host)) return &c;
  }
  return nullptr;
}

// Credentials and TLS for one endpoint: the pod's pull secret for that host, else the
// node's registries.yaml entry for it.
void Authorize(Endpoint& e, const std::string& secret_host, const std::vector<std::string>& config_hosts,
               const PullOptions& opts) {
  if (opts.registries != nullptr) {
    for (const std::string& h : config_hosts) {
      auto it = opts.registries->configs.find(h);
      if (it == opts.registries->configs.end()) continue;
      e.tls = it->second.tls;
      if (e.auth.empty()) e.auth = it->second.auth;
      break;
    }
  }
  if (const Credential* c = FindCredential(opts.credentials, secret_host)) {
    e.auth = {c->username, c->password, c->identity_token};
    e.registry_token = c->registry_token;
  }
}

}  // namespace

Result<RegistriesConfig> ParseRegistriesYaml(const std::string& text) {
  RegistriesConfig out;
  try {
    KUBES_RETURN_IF_ERROR(ParseYaml(YAML::Load(text), out));
  } catch (const std::exception& e) {
    return Invalid(std::string("registries.yaml: ") + e.what());
  }
  return out;
}

Result<RegistriesConfig> LoadRegistriesYaml(const std::string& path) {
  std::ifstream in(path);
  if (!in) return RegistriesConfig{};
  std::stringstream ss;
  ss << in.rdbuf();
  Result<RegistriesConfig> c = ParseRegistriesYaml(ss.str());
  if (!c.ok()) return c.status().Wrap(path);
  return c;
}

Result<std::vector<Credential>> ParseDockerConfigJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Invalid("docker config: not a JSON object");
  const Json* auths = &j;
  if (auto it = j.find("auths"); it != j.end()) auths = &*it;
  if (!auths->is_object()) return Invalid("docker config: auths must be an object");
  std::vector<Credential> out;
  for (auto item = auths->begin(); item != auths->end(); ++item) {
    const std::string key = item.key();
    const Json& entry = item.value();
    if (!entry.is_object()) return Invalid("docker config: auths[\"" + key + "\"] must be an object");
    auto str = [&](const char* k) {
      auto it = entry.find(k);
      return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    Credential c{CredentialHost(key), str("username"), str("password"), str("identitytoken"), str("registrytoken")};
    if (const std::string auth = str("auth"); !auth.empty()) {
      KUBES_RETURN_IF_ERROR(SplitAuth(auth, c.username, c.password, "docker config: auths[\"" + key + "\"]"));
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<Endpoint>> ResolveEndpoints(const Reference& ref, const PullOptions& opts) {
  std::vector<Endpoint> out;
  const RegistriesConfig* cfg = opts.registries;
  const Mirror* mirror = nullptr;
  if (cfg != nullptr) {
    auto it = cfg->mirrors.find(ref.registry);
    if (it == cfg->mirrors.end()) it = cfg->mirrors.find("*");
    if (it != cfg->mirrors.end()) mirror = &it->second;
  }
  if (mirror != nullptr) {
    std::string repository = ref.repository;
    for (const auto& [pattern, replacement] : mirror->rewrites) {
      try {
        const std::regex re(pattern);
        if (!std::regex_search(ref.repository, re)) continue;
        repository = std::regex_replace(ref.repository, re, replacement);
      } catch (const std::regex_error&) {
        continue;
      }
      break;
    }
    for (const std::string& url : mirror->endpoints) {
      auto [base, host] = EndpointUrl(url);
      Endpoint e{base, host, repository, /*mirror=*/true, {}, {}, {}};
      Authorize(e, host, {host}, opts);
      out.push_back(std::move(e));
    }
  }
  if (cfg == nullptr || !cfg->disable_default_endpoint) {
    const bool hub = ref.registry == "docker.io";
    const std::string host = hub ? "registry-1.docker.io" : ref.registry;
    const std::string scheme = IsLoopbackHost(host) ? "http://" : "https://";
    Endpoint e{scheme + host + "/v2", host, ref.repository, /*mirror=*/false, {}, {}, {}};
    Authorize(e, ref.registry, hub ? std::vector<std::string>{"docker.io", host} : std::vector<std::string>{host},
              opts);
    // A mirror entry naming the registry's own default endpoint is not tried twice.
    bool listed = false;
    for (const Endpoint& m : out) listed = listed || m.base_url == e.base_url;
    if (!listed) out.push_back(std::move(e));
  }
  if (out.empty()) {
    return NotFound("no endpoint to pull " + ref.String() + " from: the default endpoint is disabled and " +
                    ref.registry + " has no mirror");
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && (in.back() == '=' || in.back() == '\n')) in.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) return Invalid("not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string Base64Encode(std::string_view in) { return pki::Base64Encode(in); }

}  // namespace kubes::runtime::images
