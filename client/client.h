// Client — a small typed client of the Kubernetes API, the way components talk to
// the apiserver (upstream: k8s.io/client-go dynamic client + rest).
//
// Every call becomes an apiserver::Request sent through a Transport. In `kubes
// server`, controllers use LocalTransport: the request is handed straight to the
// apiserver's handler in the same process, through exactly the same code path as a
// request from kubectl (authentication aside), so no component has a side door.
//
// Thread-safety: a Client is stateless apart from its transport; share it freely.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apiserver/request.h"
#include "util/status.h"

namespace kubes::client {

using Json = nlohmann::json;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual apiserver::Response Do(apiserver::Request& req) = 0;
};

// Hands requests to an in-process handler as a fixed user.
class LocalTransport : public Transport {
 public:
  using Handler = std::function<apiserver::Response(apiserver::Request&)>;
  LocalTransport(Handler handler, apiserver::UserInfo user) : handler_(std::move(handler)), user_(std::move(user)) {}
  apiserver::Response Do(apiserver::Request& req) override {
    req.user = user_;
    return handler_(req);
  }

 private:
  Handler handler_;
  apiserver::UserInfo user_;
};

// group/version/resource and scope: what a request addresses.
struct Resource {
  std::string group;  // "" for core
  std::string version;
  std::string resource;
  bool namespaced = true;
  std::string kind;

  // "/apis/apps/v1/namespaces/ns/deployments/name/status"
  std::string Path(const std::string& ns = "", const std::string& name = "", const std::string& sub = "") const;
  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  bool operator<(const Resource& o) const {
    return std::tie(group, version, resource) < std::tie(o.group, o.version, o.resource);
  }
};

// An object as lists and watches hand it out, never to be modified. Where `shared` is
// true it is the in-process apiserver cache's own parsed copy: one copy serves the
// cache and every informer. Otherwise it was parsed for this reader alone (over HTTP,
// or a kind the cache keeps as text).
using ObjectPtr = std::shared_ptr<const Json>;

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  ObjectPtr object;  // never null
  bool shared = false;
};

// A list as objects (see ObjectPtr).
struct ObjectList {
  struct Item {
    ObjectPtr object;
    bool shared = false;
  };
  std::vector<Item> items;
  std::string resource_version;
};

class Client {
 public:
  explicit Client(Transport* transport) : transport_(transport) {}

  Result<Json> Get(const Resource& r, const std::string& ns, const std::string& name);
  // The list object (items + metadata.resourceVersion). Selectors may be "".
  Result<Json> List(const Resource& r, const std::string& ns, const std::string& label_selector = "",
                    const std::string& field_selector = "");
  // The same list as objects, shared with an in-process apiserver's cache when it can
  // (informers keep them).
  Result<ObjectList> ListObjects(const Resource& r, const std::string& ns, const std::string& label_selector = "",
                                 const std::string& field_selector = "");
  Result<Json> Create(const Resource& r, const std::string& ns, const Json& obj);
  // POST to a subresource of one object (pods/binding, serviceaccounts/token, pods/eviction).
  Result<Json> CreateSubresource(const Resource& r, const std::string& ns, const std::string& name,
                                 const std::string& sub, const Json& obj);
  Result<Json> Update(const Resource& r, const std::string& ns, const Json& obj, const std::string& sub = "");
  // patch_type: "application/merge-patch+json", "application/strategic-merge-patch+json", ...
  Result<Json> Patch(const Resource& r, const std::string& ns, const std::string& name, const std::string& patch_type,
                     const Json& patch, const std::string& sub = "");
  // options: a DeleteOptions object ({} for defaults).
  Status Delete(const Resource& r, const std::string& ns, const std::string& name, const Json& options = Json::object());
  // Streams events after resource_version ("" = current state first) until on_event
  // returns false, stop becomes true, or the server ends the stream. ERROR events are
  // returned as a failed Status (Expired for 410). In-process, the events' objects are
  // shared with the apiserver's cache.
  Status Watch(const Resource& r, const std::string& ns, const std::string& resource_version,
               const std::function<bool(const WatchEvent&)>& on_event, const std::atomic<bool>& stop,
               int timeout_seconds = 300, const std::string& label_selector = "",
               const std::string& field_selector = "");
  // A raw GET (discovery).
  Result<Json> GetPath(const std::string& path, const std::string& accept = "application/json");

 private:
  Result<Json> Call(apiserver::Request& req, int want_code_min = 200, int want_code_max = 299);
  Transport* transport_;
};

// Turns an error response (a metav1.Status body) back into a Status.
Status StatusFromResponse(const apiserver::Response& resp);

}  // namespace kubes::client
