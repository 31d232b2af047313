#include "pki/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include "pki/base64.h"
#include "pki/files.h"

namespace kubes::pki {
namespace {

Status Validate(const Kubeconfig& c) {
  if (c.server.empty()) return Invalid("kubeconfig: server URL is required");
  if (c.ca_cert_pem.empty()) return Invalid("kubeconfig: CA certificate is required");
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return Invalid("kubeconfig: client certificate and client key go together");
  }
  if (c.client_cert_pem.empty() && c.token.empty()) return Invalid("kubeconfig: no client certificate and no token");
  if (c.cluster_name.empty() || c.user_name.empty() || c.context_name.empty()) {
    return Invalid("kubeconfig: cluster, user and context names must not be empty");
  }
  return Status::OK();
}

// One entry of a named list: "- name: <name>\n  <kind>: {...}"; the caller emits the map.
void BeginNamed(YAML::Emitter& out, const std::string& name, const char* kind) {
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name;
  out << YAML::Key << kind << YAML::Value << YAML::BeginMap;
}

void EndNamed(YAML::Emitter& out) { out << YAML::EndMap << YAML::EndMap; }

}  // namespace

Result<std::string> RenderKubeconfig(const Kubeconfig& c) {
  KUBES_RETURN_IF_ERROR(Validate(c));
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Config";

  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq;
  BeginNamed(out, c.cluster_name, "cluster");
  out << YAML::Key << "server" << YAML::Value << c.server;
  out << YAML::Key << "certificate-authority-data" << YAML::Value << Base64Encode(c.ca_cert_pem);
  EndNamed(out);
  out << YAML::EndSeq;

  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
  BeginNamed(out, c.user_name, "user");
  if (!c.client_cert_pem.empty()) {
    out << YAML::Key << "client-certificate-data" << YAML::Value << Base64Encode(c.client_cert_pem);
    out << YAML::Key << "client-key-data" << YAML::Value << Base64Encode(c.client_key_pem);
  }
  if (!c.token.empty()) out << YAML::Key << "token" << YAML::Value << c.token;
  EndNamed(out);
  out << YAML::EndSeq;

  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq;
  BeginNamed(out, c.context_name, "context");
  out << YAML::Key << "cluster" << YAML::Value << c.cluster_name;
  out << YAML::Key << "user" << YAML::Value << c.user_name;
  if (!c.context_namespace.empty()) out << YAML::Key << "namespace" << YAML::Value << c.context_namespace;
  EndNamed(out);
  out << YAML::EndSeq;

  out << YAML::Key << "current-context" << YAML::Value << c.context_name;
  out << YAML::Key << "preferences" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  out << YAML::EndMap;
  if (!out.good()) return Internal("kubeconfig: emit YAML: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

Status WriteKubeconfig(const std::string& path, const Kubeconfig& config) {
  Result<std::string> text = RenderKubeconfig(config);
  if (!text.ok()) return text.status();
  return WriteFileAtomic(path, *text, 0600);
}

}  // namespace kubes::pki
