// kubeconfig — the file that tells kubectl (and client libraries) where the cluster is
// and who the user is.
//
// Upstream, `kubeadm init` writes /etc/kubernetes/admin.conf and k3s writes
// /etc/rancher/k3s/k3s.yaml; both are a clientcmd v1 Config (k8s.io/client-go/tools/
// clientcmd/api/v1) with one cluster, one user and one context. kubes writes the same
// shape with everything inline (the *-data fields hold base64 of the PEM text), so the
// file can be copied to another machine on its own:
//
//   apiVersion: v1
//   kind: Config
//   clusters: [{name: kubes, cluster: {server, certificate-authority-data}}]
//   users:    [{name: kubes-admin, user: {client-certificate-data, client-key-data | token}}]
//   contexts: [{name: kubes, context: {cluster: kubes, user: kubes-admin}}]
//   current-context: kubes
//
// It holds a private key or a token, so it is written with mode 0600.
//
// Thread-safety: pure functions apart from the file write.
#pragma once

#include <string>

#include "util/status.h"

namespace kubes::pki {

struct Kubeconfig {
  std::string server;           // "https://127.0.0.1:6443"
  std::string ca_cert_pem;      // the CA that signed the server's certificate
  std::string client_cert_pem;  // client certificate authentication ...
  std::string client_key_pem;
  std::string token;            // ... or a bearer token (either may be empty, not both)
  std::string cluster_name = "kubes";
  std::string user_name = "kubes-admin";
  std::string context_name = "kubes";
  std::string context_namespace;  // the context's default namespace; omitted when empty
};

// The YAML text. Invalid when server or ca_cert_pem is empty, when only one of the client
// certificate and key is given, or when there is no credential at all.
Result<std::string> RenderKubeconfig(const Kubeconfig& config);

// Renders config and replaces path with it atomically, mode 0600.
Status WriteKubeconfig(const std::string& path, const Kubeconfig& config);

}  // namespace kubes::pki
