// Request and Response: the apiserver's view of one HTTP exchange, free of any HTTP
// library type so that handlers can be called in-process (by controllers, through
// client/) exactly as over the network.
#pragma once

#include <functional>
#include <cctype>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kubes::apiserver {

// An object the apiserver hands to an in-process client without serializing it.
// Never to be modified.
struct SharedObject {
  std::shared_ptr<const nlohmann::json> object;
  // True when it is the parsed copy the apiserver's cache keeps (keeping it costs the
  // client nothing); false when it was parsed for this reader alone (kinds the cache
  // keeps as text, older versions).
  bool cached = false;
};

// Who is calling (k8s.io/apiserver/pkg/authentication/user.Info).
struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  bool authenticated() const { return !name.empty(); }
};

struct Request {
  // (Every member has an initializer, so designated initializers may leave any out.)
  std::string method{};                           // GET, POST, PUT, PATCH, DELETE
  std::string path{};                             // "/api/v1/namespaces/default/pods"
  std::multimap<std::string, std::string> query{};  // decoded query parameters
  std::map<std::string, std::string> headers{};   // lower-case names
  std::string body{};
  UserInfo user{};
  // Set by in-process clients (client::Client's lists and watches through a
  // LocalTransport), never from the network: the list may come back as shared objects
  // (Response::items) and the watch may call ResponseStream::WriteObject, instead of
  // text the client would parse into a copy of its own. So one parsed copy of each
  // object serves the watch cache and every in-process informer.
  bool share_objects = false;

  // The first value of a query parameter, or "" when absent.
  std::string Query(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? "" : it->second;
  }
  bool HasQuery(const std::string& name) const { return query.count(name) > 0; }
  // A boolean parameter as the apiserver reads them: absent, "", "0" and "false" (any
  // case) are false; every other value is true (watch=True from the Python client).
  bool QueryBool(const std::string& name) const {
    std::string v = Query(name);
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return !v.empty() && v != "0" && v != "false";
  }
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// A stream the handler writes a long response into (watch, logs). Write returns
// false once the client is gone; the handler then stops.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual bool Write(const std::string& chunk) = 0;
  // True when the peer has closed its side (checked without blocking).
  virtual bool PeerClosed() = 0;
  // One watch event as an object (for a request with share_objects). A stream that
  // takes objects overrides it; this one writes the event's text line.
  virtual bool WriteObject(const char* type, const SharedObject& shared) {
    return Write(std::string("{\"type\":\"") + type + "\",\"object\":" + shared.object->dump() + "}\n");
  }
};

// The connection after a protocol switch (101 Switching Protocols): WebSocket or SPDY
// frames for exec, attach and port-forward. One thread uses it: it polls PollFd()
// together with its own descriptors (a process's pipes), and reads when the
// descriptor is readable or Buffered() says bytes are already waiting.
class UpgradedConnection {
 public:
  virtual ~UpgradedConnection() = default;
  virtual int PollFd() const = 0;
  virtual bool Buffered() = 0;
  // Reads at least one byte, blocking if none is buffered; 0 means the peer closed
  // the connection or it failed.
  virtual size_t Read(char* buf, size_t n) = 0;
  // Writes everything; false once the connection has failed.
  virtual bool Write(const void* data, size_t n) = 0;
};

struct Response {
  int code = 200;
  std::string content_type = "application/json";
  std::string body;
  // A list answered with shared objects (Request::share_objects): the items, in order;
  // the body is then the list without them ("items": []).
  std::optional<std::vector<SharedObject>> items;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Warning, ...)
  // Set for streamed responses: the server sends the headers, then calls it.
  std::function<void(ResponseStream&)> stream;
  // Set for a protocol switch: the server sends the status line (code 101) and the
  // headers, then hands the connection over. The connection ends when it returns.
  std::function<void(UpgradedConnection&)> upgrade;

  // A `Warning: 299 - "text"` header (RFC 7234), quotes and backslashes escaped so
  // clients can parse it.
  void AddWarning(const std::string& text) {
    std::string quoted;
    for (char c : text) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += (c == '\n' || c == '\r') ? ' ' : c;
    }
    headers.emplace_back("Warning", "299 - \"" + quoted + "\"");
  }
};

}  // namespace kubes::apiserver
