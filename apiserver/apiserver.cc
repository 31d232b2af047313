#include "apiserver/apiserver.h"

#include <cstdio>
#include <filesystem>
#include <future>

#include "api/protobuf.h"
#include "api/schema.h"
#include "metrics/resource_metrics.h"
#include "pki/certs.h"
#include "pki/files.h"
#include "pki/jwt.h"
#include "pki/kubeconfig.h"
#include "pki/random.h"
#include "storage/sqlite.h"

namespace kubes::apiserver {
namespace {

using Json = nlohmann::json;

constexpr const char* kVersion = "v1.32.0";

// The watch history's fresh window (see Cacher::SetFreshWindow): upstream's watch
// cache keeps 75 s of events; kubes keeps at least 1000 events, whatever their age.
constexpr size_t kFreshHistoryEntries = 1000;
constexpr auto kFreshHistory = std::chrono::seconds(75);

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The body of a review or token request: JSON, or protobuf as kubectl sends it.
Result<Json> DecodeRequestBody(const Request& req) {
  if (req.Header("content-type").starts_with(std::string(api::kProtobufContentType))) {
    return api::DecodeProtobufObject(req.body, api::SchemaRegistry::BuiltIn());
  }
  if (req.body.empty()) return Json::object();
  Json body = Json::parse(req.body, nullptr, false);
  if (!body.is_object()) return BadRequest("the request body is not a JSON object");
  return body;
}

// /openapi/v2: kubes publishes its schemas as OpenAPI v3 only. kubectl still asks for
// v2 (as protobuf) when a kind is missing from v3 — an unknown kind in a manifest — so
// it gets a valid, empty v2 document and goes on to report the kind as unknown, as it
// does against upstream.
Response OpenAPIV2(const Request& req) {
  Response r;
  if (req.Header("accept").find("protobuf") != std::string::npos) {
    // openapi_v2.Document{swagger: "2.0", info: {title: "Kubernetes", version: "v1.32.0"}}
    static const std::string kDoc = std::string("\x0a\x03" "2.0" "\x12\x15" "\x0a\x0a" "Kubernetes" "\x12\x07" "v1.32.0", 28);
    r.content_type = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
    r.body = kDoc;
    return r;
  }
  r.body = Json({{"swagger", "2.0"}, {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
                 {"paths", Json::object()}, {"definitions", Json::object()}})
               .dump();
  return r;
}

Response VersionResponse() {
  Json v = {{"major", "1"}, {"minor", "32"}, {"gitVersion", std::string(kVersion) + "+kubes"},
            {"gitCommit", "kubes"}, {"gitTreeState", "clean"}, {"buildDate", "2026-01-01T00:00:00Z"},
            {"goVersion", "none (C++20)"}, {"compiler", "g++"}, {"platform", "linux/amd64"}};
  return JsonResponse(200, v.dump());
}

Response Text(int code, const std::string& body) {
  Response r;
  r.code = code;
  r.content_type = "text/plain; charset=utf-8";
  r.body = body;
  return r;
}

}  // namespace

APIServer::APIServer(APIServerOptions options) : options_(std::move(options)) {}

APIServer::~APIServer() { Stop(); }

UserInfo APIServer::SystemUser(const std::string& component) {
  return UserInfo{"system:" + component, "", {"system:masters", "system:authenticated"}};
}

Status APIServer::Start() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options_.data_dir, ec);
  if (ec) return Internal("create data dir " + options_.data_dir + ": " + ec.message());
  auto store = storage::SqliteStorage::Open(options_.data_dir + "/state.db");
  if (!store.ok()) return store.status();
  store_ = std::move(store).value();
  // Events are written four or more per pod and read rarely: kept as text (see cacher.h).
  cacher_ = std::make_unique<Cacher>(store_.get(), options_.watch_history,
                                     std::vector<std::string>{"/registry/core/events/", "/registry/events.k8s.io/events/"});
  cacher_->SetFreshWindow(kFreshHistoryEntries, kFreshHistory);
  KUBES_RETURN_IF_ERROR(cacher_->Init());
  registry_ = std::make_unique<Registry>();
  RegisterBuiltins(*registry_, api::SchemaRegistry::BuiltIn());
  endpoints_ = std::make_unique<Endpoints>(cacher_.get(), registry_.get(), &api::SchemaRegistry::BuiltIn(),
                                           &RealClock::Get(), options_.service_cidr);
  if (node_proxy_) endpoints_->SetNodeProxy(node_proxy_);
  metrics_ = std::make_unique<metrics::ResourceMetricsAPI>(
      metrics::Sources{[this] { return ListStored("", "nodes", ""); },
                       [this](const std::string& ns) { return ListStored("", "pods", ns); }},
      [this](const std::string& node, Request& r) {
        if (!node_proxy_) return ErrorResponse(Status(Code::kServiceUnavailable, "no kubelet is reachable for node " + node));
        return node_proxy_(node, r);
      });
  std::string address = options_.address + ":" + std::to_string(options_.port);
  discovery_ = std::make_unique<Discovery>(registry_.get(), address);
  openapi_ = std::make_unique<OpenAPI>(registry_.get());
  KUBES_RETURN_IF_ERROR(EnsureDefaultNamespaces());

  // Certificates, the service account signing key and the admin token.
  std::string pki_dir = options_.data_dir + "/pki";
  // The certificate names the address kubes listens on too, so clients that connect
  // there (an agent in another network namespace) can verify it.
  std::vector<std::string> sans = options_.extra_sans;
  if (options_.address != "0.0.0.0" && options_.address != "::") sans.push_back(options_.address);
  auto certs = pki::EnsureServerCertificates(pki_dir, pki::ApiserverSubjectAltNames(sans), UnixNow());
  if (!certs.ok()) return certs.status();
  // The token signing key: generating an RSA key takes a few hundred milliseconds, so
  // on first start it is made in the background while the server starts answering.
  sa_key_ = std::async(std::launch::async, [pki_dir]() -> std::shared_ptr<pki::ServiceAccountKey> {
              auto key = pki::ServiceAccountKey::LoadOrCreate(pki_dir);
              if (!key.ok()) {
                std::fprintf(stderr, "kubes: service account key: %s\n", key.status().ToString().c_str());
                return nullptr;
              }
              return std::shared_ptr<pki::ServiceAccountKey>(std::move(key).value());
            }).share();
  std::string token_file = pki_dir + "/admin.token";
  auto token = pki::ReadFile(token_file);
  if (token.ok() && !token->empty()) {
    admin_token_ = *token;
    while (!admin_token_.empty() && std::isspace(static_cast<unsigned char>(admin_token_.back()))) admin_token_.pop_back();
  } else {
    auto fresh = pki::RandomHexToken();
    if (!fresh.ok()) return fresh.status();
    admin_token_ = *fresh;
    KUBES_RETURN_IF_ERROR(pki::WriteFileAtomic(token_file, admin_token_ + "\n", 0600));
  }

  ServerOptions so;
  so.address = options_.address;
  so.port = options_.port;
  so.cert_file = certs->serving_cert_file;
  so.key_file = certs->serving_key_file;
  so.client_ca_file = certs->ca_cert_file;
  server_ = std::make_unique<Server>(so, [this](Request& r) { return Handle(r); });
  KUBES_RETURN_IF_ERROR(server_->Start());

  pki::Kubeconfig kc;
  std::string host = options_.address.find(':') != std::string::npos ? "[" + options_.address + "]" : options_.address;
  if (options_.address == "0.0.0.0") host = "127.0.0.1";
  kc.server = "https://" + host + ":" + std::to_string(server_->port());
  kc.ca_cert_pem = certs->ca->cert_pem();
  kc.client_cert_pem = certs->admin.cert_pem;
  kc.client_key_pem = certs->admin.key_pem;
  kubeconfig_path_ = options_.data_dir + "/kubeconfig.yaml";
  KUBES_RETURN_IF_ERROR(pki::WriteKubeconfig(kubeconfig_path_, kc));
  if (!options_.write_kubeconfig.empty()) KUBES_RETURN_IF_ERROR(pki::WriteKubeconfig(options_.write_kubeconfig, kc));

  KUBES_RETURN_IF_ERROR(EnsureKubernetesService());
  KUBES_RETURN_IF_ERROR(EnsureDefaultStorageClass());
  compactor_ = std::thread([this] { CompactionLoop(); });
  custom_resources_ = std::make_unique<CustomResources>(cacher_.get(), registry_.get(), [this](Request& r) { return Handle(r); });
  custom_resources_thread_ = std::thread([this] { custom_resources_->Run(stop_flag_); });
  if (options_.run_controllers) {
    controllers_ = std::make_unique<controller::ControllerManager>([this](Request& r) { return Handle(r); },
                                                                   certs->ca->cert_pem(), options_.controllers);
    controllers_->Start();
  }
  return Status::OK();
}

void APIServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  stop_flag_ = true;
  if (server_) server_->Stop();
  if (controllers_) controllers_->Stop();
  if (cacher_) cacher_->Stop();
  if (compactor_.joinable()) compactor_.join();
  if (custom_resources_thread_.joinable()) custom_resources_thread_.join();
}

int APIServer::port() const { return server_ ? server_->port() : 0; }

// Every few minutes, forget history older than what the previous tick saw — like
// kube-apiserver's etcd compaction — so watches can resume across short gaps while
// the database stays small.
void APIServer::CompactionLoop() {
  int64_t previous = cacher_->Revision();
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, options_.compaction_interval, [this] { return stopping_; })) {
    int64_t current = cacher_->Revision();
    if (previous > 0) {
      Status s = cacher_->Compact(previous);
      if (!s.ok()) std::fprintf(stderr, "kubes: compaction: %s\n", s.ToString().c_str());
    }
    previous = current;
  }
}

Status APIServer::EnsureDefaultNamespaces() {
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    Request req;
    req.method = "POST";
    req.path = "/api/v1/namespaces";
    req.user = SystemUser("apiserver");
    req.headers["content-type"] = "application/json";
    req.body = Json({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}).dump();
    Response r = Handle(req);
    if (r.code != 201 && r.code != 409) return Internal("creating namespace " + std::string(ns) + ": " + r.body);
  }
  return Status::OK();
}

// The `local-path` StorageClass k3s ships too: node-local directories, provisioned once a
// pod that uses the claim is on a node (controller/localpath). Made at every start when
// missing, as k3s re-applies its manifests; a user's changes to it are kept.
Status APIServer::EnsureDefaultStorageClass() {
  Request req;
  req.method = "POST";
  req.path = "/apis/storage.k8s.io/v1/storageclasses";
  req.user = SystemUser("apiserver");
  req.headers["content-type"] = "application/json";
  req.body = Json({{"apiVersion", "storage.k8s.io/v1"},
                   {"kind", "StorageClass"},
                   {"metadata", {{"name", "local-path"},
                                 {"annotations", {{"storageclass.kubernetes.io/is-default-class", "true"}}}}},
                   {"provisioner", "kubes.io/local-path"},
                   {"reclaimPolicy", "Delete"},
                   {"volumeBindingMode", "WaitForFirstConsumer"}})
                 .dump();
  Response r = Handle(req);
  if (r.code != 201 && r.code != 409) return Internal("creating the local-path StorageClass: " + r.body);
  return Status::OK();
}

Status APIServer::Reconcile(const std::string& collection_path, const std::string& name, const Json& obj) {
  Request get{.method = "GET", .path = collection_path + "/" + name};
  get.user = SystemUser("apiserver");
  Response current = Handle(get);
  Request write{.method = current.code == 200 ? "PUT" : "POST",
                .path = current.code == 200 ? collection_path + "/" + name : collection_path,
                .body = obj.dump()};
  write.headers["content-type"] = "application/json";
  write.query.emplace("fieldManager", "kube-apiserver");
  write.user = SystemUser("apiserver");
  if (current.code == 200) {
    Json existing = Json::parse(current.body);
    Json merged = obj;
    merged["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"];
    write.body = merged.dump();
  }
  Response r = Handle(write);
  if (r.code >= 300) return Internal("reconciling " + collection_path + "/" + name + ": " + r.body);
  return Status::OK();
}

Status APIServer::EnsureKubernetesService() {
  // The first address of the service range is the API's (10.43.0.1 by default).
  std::string cidr = options_.service_cidr;
  std::string base = cidr.substr(0, cidr.find('/'));
  std::string first = base.substr(0, base.rfind('.') + 1) + std::to_string(std::stoi(base.substr(base.rfind('.') + 1)) + 1);
  std::string ip = options_.address == "0.0.0.0" ? "127.0.0.1" : options_.address;
  int port = server_->port();
  Json labels = {{"component", "apiserver"}, {"provider", "kubernetes"}};
  KUBES_RETURN_IF_ERROR(Reconcile(
      "/api/v1/namespaces/default/services", "kubernetes",
      {{"apiVersion", "v1"}, {"kind", "Service"},
       {"metadata", {{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
       {"spec", {{"type", "ClusterIP"}, {"clusterIP", first}, {"sessionAffinity", "None"},
                 {"ports", Json::array({{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", port}}})}}}}));
  KUBES_RETURN_IF_ERROR(Reconcile(
      "/api/v1/namespaces/default/endpoints", "kubernetes",
      {{"apiVersion", "v1"}, {"kind", "Endpoints"},
       {"metadata", {{"name", "kubernetes"}, {"namespace", "default"}, {"labels", {{"endpointslice.kubernetes.io/skip-mirror", "true"}}}}},
       {"subsets", Json::array({{{"addresses", Json::array({{{"ip", ip}}})},
                                 {"ports", Json::array({{{"name", "https"}, {"port", port}, {"protocol", "TCP"}}})}}})}}));
  return Reconcile(
      "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", "kubernetes",
      {{"apiVersion", "discovery.k8s.io/v1"}, {"kind", "EndpointSlice"},
       {"metadata", {{"name", "kubernetes"}, {"namespace", "default"},
                     {"labels", {{"kubernetes.io/service-name", "kubernetes"}, {"endpointslice.kubernetes.io/managed-by", "kube-apiserver"}}}}},
       {"addressType", "IPv4"},
       {"endpoints", Json::array({{{"addresses", Json::array({ip})}, {"conditions", {{"ready", true}}}}})},
       {"ports", Json::array({{{"name", "https"}, {"port", port}, {"protocol", "TCP"}}})}});
}

bool APIServer::Authenticate(Request& req) {
  if (req.user.authenticated()) return true;
  std::string auth = req.Header("authorization");
  if (!auth.starts_with("Bearer ")) return false;
  std::string token = auth.substr(7);
  if (!admin_token_.empty() && token == admin_token_) {
    req.user = UserInfo{"kubes-admin", "", {"system:masters", "system:authenticated"}};
    return true;
  }
  auto key = sa_key_.get();
  if (!key) return false;
  auto claims = key->Verify(token, UnixNow());
  if (!claims.ok()) return false;
  std::string sub = claims->value("sub", "");
  if (!sub.starts_with("system:serviceaccount:")) return false;
  std::string ns = sub.substr(22, sub.find(':', 22) - 22);
  req.user = UserInfo{sub, "", {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}};
  return true;
}

Response APIServer::Handle(Request& req) {
  // A bug in a handler must cost one request, never the server: anything thrown
  // becomes a 500 with the reason.
  try {
    return HandleUnsafe(req);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kubes: internal error serving %s %s: %s\n", req.method.c_str(), req.path.c_str(), e.what());
    return ErrorResponse(Internal(std::string("an error on the server (\"") + e.what() +
                                  "\") has prevented the request from succeeding"));
  }
}

Response APIServer::HandleUnsafe(Request& req) {
  const std::string& p = req.path;
  if (p == "/healthz" || p == "/livez" || p == "/readyz" || p.starts_with("/healthz/") || p.starts_with("/livez/") ||
      p.starts_with("/readyz/")) {
    return Text(200, "ok");
  }
  if (p == "/version" || p == "/version/") return VersionResponse();
  if (!Authenticate(req)) {
    return ErrorResponse(Status(Code::kUnauthorized, "Unauthorized"));
  }
  if (p.starts_with("/openapi/v3")) return openapi_->Serve(req);
  if (p.starts_with("/openapi/v2")) return OpenAPIV2(req);
  RequestInfo info = ParseRequestInfo(req);
  if (!info.is_resource_request) {
    if (!info.prefix.empty()) return discovery_->Serve(req, SplitPath(p));
    if (p == "/" || p.empty()) {
      return JsonResponse(200, Json({{"paths", {"/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3",
                                                "/readyz", "/version"}}}).dump());
    }
    return ErrorResponse(Status(Code::kNotFound, "the server could not find the requested resource"));
  }
  if (info.group == "authorization.k8s.io" || info.group == "authentication.k8s.io") return HandleReview(req, info);
  if (info.resource == "serviceaccounts" && info.subresource == "token") return HandleTokenRequest(req, info);
  if (info.group == "metrics.k8s.io") return HandleMetrics(req, info);
  return endpoints_->Serve(req, info);
}

// The review APIs answer questions and store nothing: can-i (access reviews), whoami
// (SelfSubjectReview), and TokenReview.
Response APIServer::HandleReview(Request& req, const RequestInfo& info) {
  if (info.verb != "create") {
    return ErrorResponse(Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
  }
  ResourcePtr r = registry_->Find(info.group, info.version, info.resource);
  if (!r) return ErrorResponse(Status(Code::kNotFound, "the server could not find the requested resource"));
  auto decoded = DecodeRequestBody(req);
  if (!decoded.ok()) return ErrorResponse(decoded.status());
  Json body = std::move(decoded).value();
  Json out = {{"apiVersion", r->GroupVersion()}, {"kind", r->kind}, {"metadata", {{"creationTimestamp", nullptr}}}};
  if (body.contains("spec")) out["spec"] = body["spec"];
  Json user = {{"username", req.user.name}, {"groups", req.user.groups}};
  if (r->kind == "SelfSubjectReview") {
    out["status"] = {{"userInfo", user}};
  } else if (r->kind == "TokenReview") {
    Request probe;
    probe.headers["authorization"] = "Bearer " + body.value("spec", Json::object()).value("token", "");
    bool ok = Authenticate(probe);
    out["status"] = {{"authenticated", ok}};
    if (ok) out["status"]["user"] = {{"username", probe.user.name}, {"groups", probe.user.groups}};
  } else if (r->kind == "SelfSubjectRulesReview") {
    out["status"] = {{"resourceRules", {{{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}}}},
                     {"nonResourceRules", {{{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}}}},
                     {"incomplete", false}};
  } else {
    out["status"] = {{"allowed", true}, {"reason", "kubes allows every authenticated request (RBAC is not enforced yet)"}};
  }
  return JsonResponse(201, out.dump());
}

Response APIServer::HandleMetrics(const Request& req, const RequestInfo& info) {
  auto body = metrics_->Serve(req, info);
  if (!body.ok()) return ErrorResponse(body.status());
  return JsonResponse(200, std::move(body).value());
}

std::vector<Json> APIServer::ListStored(const std::string& group, const std::string& resource, const std::string& ns) {
  std::vector<Json> out;
  ResourcePtr r = registry_->Find(group, "v1", resource);
  if (!r) return out;
  std::string prefix = ns.empty() ? r->KeyPrefix() : r->KeyPrefix() + ns + "/";
  for (const auto& o : cacher_->List(prefix, nullptr)) out.push_back(o->object);
  return out;
}

// POST serviceaccounts/<name>/token: a signed, expiring JWT for the account
// (TokenRequest, as `kubectl create token` asks for).
Response APIServer::HandleTokenRequest(Request& req, const RequestInfo& info) {
  if (info.verb != "create") {
    return ErrorResponse(Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
  }
  ResourcePtr sa = registry_->Find("", "v1", "serviceaccounts");
  auto obj = cacher_->Get(sa->Key(info.namespace_, info.name));
  if (!obj.ok()) return ErrorResponse(NewNotFound(*sa, info.name));
  int64_t expiration = 3600;
  Json audiences = Json::array({"https://kubernetes.default.svc.cluster.local", "kubes"});
  auto body = DecodeRequestBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  const Json& spec = body->value("spec", Json::object());
  if (spec.contains("expirationSeconds") && spec["expirationSeconds"].is_number_integer()) {
    expiration = spec["expirationSeconds"].get<int64_t>();
  }
  if (spec.contains("audiences") && spec["audiences"].is_array() && !spec["audiences"].empty()) {
    audiences = spec["audiences"];
  }
  if (expiration < 600) {
    return ErrorResponse(validation::NewInvalid("TokenRequest.authentication.k8s.io", "",
                                                {validation::InvalidValue(validation::Path("spec").Child("expirationSeconds"),
                                                                          expiration, "may not specify a duration less than 10 minutes")}));
  }
  int64_t now = UnixNow();
  const Json& meta = (*obj)->object["metadata"];
  Json claims = {{"iss", "https://kubernetes.default.svc.cluster.local"},
                 {"sub", "system:serviceaccount:" + info.namespace_ + ":" + info.name},
                 {"aud", audiences},
                 {"iat", now},
                 {"nbf", now},
                 {"exp", now + expiration},
                 {"kubernetes.io", {{"namespace", info.namespace_},
                                    {"serviceaccount", {{"name", info.name}, {"uid", meta.value("uid", "")}}}}}};
  auto key = sa_key_.get();
  if (!key) return ErrorResponse(Internal("the service account signing key is not available"));
  auto token = key->Sign(claims);
  if (!token.ok()) return ErrorResponse(token.status());
  Json out = {{"apiVersion", "authentication.k8s.io/v1"},
              {"kind", "TokenRequest"},
              {"metadata", {{"name", info.name}, {"namespace", info.namespace_}, {"creationTimestamp", nullptr}}},
              {"spec", {{"audiences", audiences}, {"expirationSeconds", expiration}, {"boundObjectRef", nullptr}}},
              {"status", {{"token", *token},
                          {"expirationTimestamp", FormatRFC3339(std::chrono::system_clock::from_time_t(now + expiration))}}}};
  return JsonResponse(201, out.dump());
}

}  // namespace kubes::apiserver
