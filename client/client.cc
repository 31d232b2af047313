#include "client/client.h"

#include <map>

namespace kubes::client {
namespace {

const std::map<std::string, Code>& Reasons() {
  static const std::map<std::string, Code> m = {
      {"BadRequest", Code::kBadRequest}, {"Unauthorized", Code::kUnauthorized}, {"Forbidden", Code::kForbidden},
      {"NotFound", Code::kNotFound}, {"MethodNotAllowed", Code::kMethodNotAllowed}, {"AlreadyExists", Code::kAlreadyExists},
      {"Conflict", Code::kConflict}, {"Gone", Code::kGone}, {"Expired", Code::kExpired}, {"Invalid", Code::kInvalid},
      {"TooManyRequests", Code::kTooManyRequests}, {"UnsupportedMediaType", Code::kUnsupportedMediaType},
      {"RequestEntityTooLarge", Code::kRequestEntityTooLarge}, {"ServiceUnavailable", Code::kServiceUnavailable},
      {"Timeout", Code::kTimeout}};
  return m;
}

Status StatusFromJson(const Json& s, int http_code) {
  std::string reason = s.value("reason", "");
  std::string message = s.value("message", "HTTP " + std::to_string(http_code));
  auto it = Reasons().find(reason);
  Code code = it != Reasons().end() ? it->second : http_code == 404 ? Code::kNotFound
                                                 : http_code == 409 ? Code::kConflict
                                                                    : Code::kInternal;
  return Status(code, message);
}

}  // namespace

std::string Resource::Path(const std::string& ns, const std::string& name, const std::string& sub) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + ns;
  p += "/" + resource;
  if (!name.empty()) p += "/" + name;
  if (!sub.empty()) p += "/" + sub;
  return p;
}

Status StatusFromResponse(const apiserver::Response& resp) {
  Json s = Json::parse(resp.body, nullptr, false);
  if (!s.is_object()) return Status(Code::kInternal, "HTTP " + std::to_string(resp.code) + ": " + resp.body);
  return StatusFromJson(s, resp.code);
}

Result<Json> Client::Call(apiserver::Request& req, int lo, int hi) {
  if (req.headers.find("content-type") == req.headers.end() && !req.body.empty()) {
    req.headers["content-type"] = "application/json";
  }
  apiserver::Response resp = transport_->Do(req);
  if (resp.code < lo || resp.code > hi) return StatusFromResponse(resp);
  Json j = Json::parse(resp.body, nullptr, false);
  if (j.is_discarded()) return Internal("unparseable response from " + req.path);
  return j;
}

Result<Json> Client::Get(const Resource& r, const std::string& ns, const std::string& name) {
  apiserver::Request req{.method = "GET", .path = r.Path(ns, name)};
  return Call(req);
}

namespace {
// GET of a collection, with its selectors ("" for none): a list, or a watch.
apiserver::Request CollectionRequest(const Resource& r, const std::string& ns, const std::string& label_selector,
                                     const std::string& field_selector) {
  apiserver::Request req{.method = "GET", .path = r.Path(ns)};
  if (!label_selector.empty()) req.query.emplace("labelSelector", label_selector);
  if (!field_selector.empty()) req.query.emplace("fieldSelector", field_selector);
  return req;
}
}  // namespace

Result<Json> Client::List(const Resource& r, const std::string& ns, const std::string& label_selector,
                          const std::string& field_selector) {
  apiserver::Request req = CollectionRequest(r, ns, label_selector, field_selector);
  return Call(req);
}

Result<ObjectList> Client::ListObjects(const Resource& r, const std::string& ns, const std::string& label_selector,
                                      const std::string& field_selector) {
  apiserver::Request req = CollectionRequest(r, ns, label_selector, field_selector);
  req.share_objects = true;
  apiserver::Response resp = transport_->Do(req);
  if (resp.code != 200) return StatusFromResponse(resp);
  Json list = Json::parse(resp.body, nullptr, false);
  if (!list.is_object()) return Internal("unparseable response from " + req.path);
  ObjectList out;
  out.resource_version = list["metadata"].value("resourceVersion", "");
  if (resp.items) {
    for (auto& item : *resp.items) out.items.push_back({std::move(item.object), item.cached});
    return out;
  }
  for (auto& item : list["items"]) out.items.push_back({std::make_shared<const Json>(std::move(item)), false});
  return out;
}

Result<Json> Client::Create(const Resource& r, const std::string& ns, const Json& obj) {
  apiserver::Request req{.method = "POST", .path = r.Path(ns), .body = obj.dump()};
  return Call(req);
}

Result<Json> Client::CreateSubresource(const Resource& r, const std::string& ns, const std::string& name,
                                       const std::string& sub, const Json& obj) {
  apiserver::Request req{.method = "POST", .path = r.Path(ns, name, sub), .body = obj.dump()};
  return Call(req);
}

Result<Json> Client::Update(const Resource& r, const std::string& ns, const Json& obj, const std::string& sub) {
  std::string name = obj.value("metadata", Json::object()).value("name", "");
  apiserver::Request req{.method = "PUT", .path = r.Path(ns, name, sub), .body = obj.dump()};
  return Call(req);
}

Result<Json> Client::Patch(const Resource& r, const std::string& ns, const std::string& name,
                           const std::string& patch_type, const Json& patch, const std::string& sub) {
  apiserver::Request req{.method = "PATCH", .path = r.Path(ns, name, sub), .body = patch.dump()};
  req.headers["content-type"] = patch_type;
  return Call(req);
}

Status Client::Delete(const Resource& r, const std::string& ns, const std::string& name, const Json& options) {
  apiserver::Request req{.method = "DELETE", .path = r.Path(ns, name), .body = options.dump()};
  return Call(req).status();
}

Result<Json> Client::GetPath(const std::string& path, const std::string& accept) {
  apiserver::Request req{.method = "GET", .path = path};
  req.headers["accept"] = accept;
  return Call(req);
}

namespace {

// Receives the chunks of a watch response and turns each line into an event.
class EventStream : public apiserver::ResponseStream {
 public:
  EventStream(const std::function<bool(const WatchEvent&)>& on_event, const std::atomic<bool>& stop)
      : on_event_(on_event), stop_(stop) {}
  bool Write(const std::string& chunk) override {
    buffer_ += chunk;
    size_t nl;
    while ((nl = buffer_.find('\n')) != std::string::npos) {
      Json line = Json::parse(buffer_.substr(0, nl), nullptr, false);
      buffer_.erase(0, nl + 1);
      if (!line.is_object()) continue;
      std::string type = line.value("type", "");
      auto object = line.find("object");
      WatchEvent ev{type, std::make_shared<const Json>(object != line.end() ? std::move(*object) : Json::object())};
      if (ev.type == "ERROR") {
        error_ = StatusFromJson(*ev.object, ev.object->value("code", 500));
        return false;
      }
      if (!on_event_(ev)) return false;
    }
    return !stop_;
  }
  bool WriteObject(const char* type, const apiserver::SharedObject& shared) override {
    if (!on_event_(WatchEvent{type, shared.object, shared.cached})) return false;
    return !stop_;
  }
  bool PeerClosed() override { return stop_; }
  Status error() const { return error_; }

 private:
  const std::function<bool(const WatchEvent&)>& on_event_;
  const std::atomic<bool>& stop_;
  std::string buffer_;
  Status error_;
};

}  // namespace

Status Client::Watch(const Resource& r, const std::string& ns, const std::string& resource_version,
                     const std::function<bool(const WatchEvent&)>& on_event, const std::atomic<bool>& stop,
                     int timeout_seconds, const std::string& label_selector, const std::string& field_selector) {
  apiserver::Request req = CollectionRequest(r, ns, label_selector, field_selector);
  req.share_objects = true;
  req.query.emplace("watch", "true");
  req.query.emplace("allowWatchBookmarks", "true");
  req.query.emplace("timeoutSeconds", std::to_string(timeout_seconds));
  if (!resource_version.empty()) req.query.emplace("resourceVersion", resource_version);
  apiserver::Response resp = transport_->Do(req);
  if (!resp.stream) return resp.code == 200 ? Status::OK() : StatusFromResponse(resp);
  EventStream s(on_event, stop);
  resp.stream(s);
  return s.error();
}

}  // namespace kubes::client
