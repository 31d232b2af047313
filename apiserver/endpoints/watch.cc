// WATCH: a long-lived stream of {"type":…,"object":…} lines (k8s.io/apiserver/pkg/
// endpoints/handlers/watch.go). See docs/kubectl-protocol.md §3 in shared/.
#include <random>

#include "apiserver/endpoints/target.h"

namespace kubes::apiserver {
namespace {

// How often an idle watch checks that its client is still there, and sends a
// bookmark when asked for them.
constexpr auto kPoll = std::chrono::seconds(1);
constexpr auto kBookmarkEvery = std::chrono::seconds(60);

std::string EventLine(const char* type, const std::string& object_json) {
  return std::string("{\"type\":\"") + type + "\",\"object\":" + object_json + "}\n";
}

}  // namespace

Response Endpoints::Watch(const Request& req, const Target& t) {
  auto filter = endpoints::ParseFilter(req, *t.resource);
  if (!filter.ok()) return ErrorResponse(filter.status());
  auto from = endpoints::ParseResourceVersion(req.Query("resourceVersion"));
  if (!from.ok()) return ErrorResponse(from.status());
  // A watch of one object by name (GET .../pods?watch=1&fieldSelector=metadata.name=x
  // is the usual form; GET .../pods/x?watch=1 is the old one).
  endpoints::Filter f = std::move(filter).value();
  if (!t.name.empty()) {
    auto reqs = f.fields.requirements();
    reqs.push_back({"metadata.name", fields::Operator::kEquals, t.name});
    f.fields = fields::Selector(std::move(reqs));
  }
  int64_t timeout_s = req.HasQuery("timeoutSeconds") ? std::atoll(req.Query("timeoutSeconds").c_str()) : 0;
  if (timeout_s <= 0) {
    // Upstream spreads watch lifetimes between 30 and 60 minutes.
    thread_local std::mt19937 rng(std::random_device{}());
    timeout_s = 1800 + std::uniform_int_distribution<int>(0, 1800)(rng);
  }
  bool bookmarks = req.QueryBool("allowWatchBookmarks");
  auto watcher = cacher_->Watch(t.ListPrefix(), *from);
  Response resp;
  auto out = endpoints::Negotiate(req);
  if (!watcher.ok()) {
    // Too old: a 200 stream with one ERROR event, as upstream does for watches.
    std::string line = EventLine("ERROR", StatusJson(watcher.status()).dump());
    resp.stream = [line](ResponseStream& s) { s.Write(line); };
    return resp;
  }
  ResourcePtr r = t.resource;
  std::shared_ptr<Cacher::Watcher> w = std::move(watcher).value();
  const Clock* clock = clock_;
  // An in-process watcher takes the cache's parsed objects themselves (see
  // Request::share_objects) when they go out as stored.
  bool share = req.share_objects && !out.table && !r->from_storage;
  resp.stream = [r, w, f, out, timeout_s, bookmarks, clock, share](ResponseStream& s) {
    auto encode = [&](const char* type, const ObjectPtr& obj, bool first) {
      if (!out.table) return EventLine(type, endpoints::Encode(*r, *obj));
      return EventLine(type, endpoints::EncodeTable(*r, {obj.get()}, out, std::to_string(obj->revision), "",
                                                    clock->Now(), first));
    };
    // Older versions in the cacher's history are kept as text only: selectors and
    // Table rows need them parsed, a plain watch sends the text as it is.
    bool needs_parsed = share || out.table || !f.labels.Empty() || !f.fields.Empty();
    bool first = true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    auto last_bookmark = std::chrono::steady_clock::now();
    // An empty first chunk makes the server send the headers at once.
    if (!s.Write("")) return;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto events = w->Next(std::min<std::chrono::milliseconds>(left, kPoll));
      if (!events.ok()) {
        if (events.status().code() == Code::kExpired) s.Write(EventLine("ERROR", StatusJson(events.status()).dump()));
        return;
      }
      std::string batch;
      for (WatchEvent ev : *events) {
        bool cached = ev.object->parsed();
        if (needs_parsed) {
          ev.object = ParsedLean(ev.object);
          ev.prev = ParsedLean(ev.prev);
        }
        bool now_matches = f.Matches(*r, ev.object->object);
        bool was_matching = ev.prev && f.Matches(*r, ev.prev->object);
        const char* type = WatchEventTypeName(ev.type);
        if (ev.type == WatchEvent::Type::kModified) {
          if (now_matches && !was_matching) type = "ADDED";
          else if (!now_matches && was_matching) type = "DELETED";
          else if (!now_matches) continue;
        } else if (ev.type == WatchEvent::Type::kDeleted) {
          if (!(ev.prev ? was_matching : now_matches)) continue;
        } else if (!now_matches) {
          continue;
        }
        if (share) {
          if (!s.WriteObject(type, SharedObject{{ev.object, &ev.object->object}, cached})) return;
          continue;
        }
        batch += encode(type, ev.object, first);
        first = false;
      }
      if (!batch.empty()) {
        if (!s.Write(batch)) return;
        continue;
      }
      if (s.PeerClosed()) return;
      if (bookmarks && std::chrono::steady_clock::now() - last_bookmark > kBookmarkEvery) {
        last_bookmark = std::chrono::steady_clock::now();
        Json bm = {{"kind", r->kind}, {"apiVersion", r->GroupVersion()},
                   {"metadata", {{"resourceVersion", std::to_string(w->revision())}}}};
        bool sent = share ? s.WriteObject("BOOKMARK", SharedObject{std::make_shared<const Json>(std::move(bm))})
                          : s.Write(EventLine("BOOKMARK", bm.dump()));
        if (!sent) return;
      }
    }
  };
  return resp;
}

}  // namespace kubes::apiserver
