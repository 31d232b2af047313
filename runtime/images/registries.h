// Where images are pulled from, and with which credentials.
//
// Two inputs decide it, as on a k3s node:
//   - the node's registries.yaml (k3s's format, read by containerd there):
//       mirrors:
//         docker.io:                       # or "*" for every registry without its own entry
//           endpoint: ["http://127.0.0.1:5000"]
//           rewrite: {"^library/(.*)": "mirrored/$1"}
//       configs:
//         "127.0.0.1:5000":                # an endpoint's host[:port]
//           auth: {username: u, password: p}   # or auth: base64(u:p), or identitytoken
//           tls: {insecure_skip_verify: false, ca_file: /path/ca.pem}
//     Mirrors are tried in order, then the registry itself (docker.io is served by
//     https://registry-1.docker.io) unless disable_default_endpoint is set (k3s's
//     --disable-default-registry-endpoint).
//   - the pod's imagePullSecrets: `.dockerconfigjson` content (ParseDockerConfigJson),
//     matched by registry host like the kubelet's credential keyring does.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/images/reference.h"
#include "util/status.h"

namespace kubes::runtime::images {

struct RegistryAuth {
  std::string username, password;
  std::string identity_token;  // an OAuth2 refresh token (docker login with an identity provider)
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

struct RegistryTls {
  bool insecure_skip_verify = false;
  std::string ca_file, cert_file, key_file;
};

struct Mirror {
  std::vector<std::string> endpoints;
  // regex → replacement ($1 for groups), applied to the repository on mirror endpoints;
  // the first that matches wins.
  std::vector<std::pair<std::string, std::string>> rewrites;
};

struct RegistryConfig {
  RegistryAuth auth;
  RegistryTls tls;
};

struct RegistriesConfig {
  std::map<std::string, Mirror> mirrors;          // by registry host, or "*"
  std::map<std::string, RegistryConfig> configs;  // by endpoint host[:port]
  bool disable_default_endpoint = false;
};

// One entry of a pull secret: credentials for a registry host ("docker.io",
// "registry.example.com:5000", or a wildcard "*.example.com").
struct Credential {
  std::string registry;
  std::string username, password;
  std::string identity_token;
  std::string registry_token;  // a bearer token to send as is
};

struct PullOptions {
  const RegistriesConfig* registries = nullptr;  // may be null: no mirrors
  std::vector<Credential> credentials;           // from the pod's imagePullSecrets
};

// One place to try a pull from: the base URL of its distribution API (ends in "/v2").
struct Endpoint {
  std::string base_url;    // "https://registry-1.docker.io/v2", "http://127.0.0.1:5000/v2"
  std::string host;        // "registry-1.docker.io", "127.0.0.1:5000"
  std::string repository;  // the repository on this endpoint, after rewrites
  bool mirror = false;
  RegistryAuth auth;
  std::string registry_token;
  RegistryTls tls;
};

Result<RegistriesConfig> ParseRegistriesYaml(const std::string& text);
// Reads the file at path; an absent file is an empty configuration.
Result<RegistriesConfig> LoadRegistriesYaml(const std::string& path);

// The credentials in a kubernetes.io/dockerconfigjson secret's `.dockerconfigjson` (or a
// legacy `.dockercfg`, which lacks the "auths" wrapper).
Result<std::vector<Credential>> ParseDockerConfigJson(const std::string& text);

// Where to pull ref from, in the order to try them.
Result<std::vector<Endpoint>> ResolveEndpoints(const Reference& ref, const PullOptions& opts);

// Base64 (standard alphabet, padding optional — docker config files are lenient; for the
// strict form see pki/base64.h). Invalid on other characters. Encoding is pki's.
Result<std::string> Base64Decode(std::string_view in);
std::string Base64Encode(std::string_view in);

}  // namespace kubes::runtime::images
