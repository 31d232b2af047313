#include "app.h"

#include <time.h>

#include <cstring>
#include <new>
#include <nlohmann/json.hpp>

namespace kubes::demo {
namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxCpuMs = 60 * 1000;
constexpr int64_t kMaxSleepMs = 10 * 60 * 1000;
constexpr int64_t kMaxMemMiB = 64 * 1024;
constexpr size_t kPageSize = 4096;

Response Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response JsonResponse(const Json& j) {
  Response r;
  r.content_type = "application/json";
  // Header values may be any bytes; invalid UTF-8 becomes U+FFFD instead of an exception.
  r.body = j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return r;
}

bool WantsJson(const Request& request) { return request.Query("format") == "json"; }

// The integer query parameter `name`: `fallback` when absent, an error when it is not a
// whole number in [min, max].
std::optional<int64_t> IntParam(const Request& request, const char* name, int64_t min, int64_t max,
                                std::optional<int64_t> fallback, Response* error) {
  auto text = request.Query(name);
  std::string range = std::to_string(min) + ".." + std::to_string(max);
  if (!text) {
    if (!fallback) *error = Text(400, "usage: " + request.path + "?" + name + "=N (" + range + ")\n");
    return fallback;
  }
  bool negative = !text->empty() && (*text)[0] == '-';
  std::string_view digits = std::string_view(*text).substr(negative ? 1 : 0);
  int64_t n = 0;
  bool ok = !digits.empty() && digits.size() <= 12;
  for (char c : digits) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) n = n * 10 + (c - '0');
  }
  if (negative) n = -n;
  if (!ok || n < min || n > max) {
    *error = Text(400, std::string(name) + " must be a whole number in " + range + ", not \"" + *text + "\"\n");
    return std::nullopt;
  }
  return n;
}

Duration ThreadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::duration_cast<Duration>(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

Json StateJson(const Control::State& state) {
  Json j = {{"state", FormatBehaviour(state.current)}};
  if (state.next) {
    j["next"] = FormatBehaviour(*state.next);
    j["in"] = FormatDuration(state.next_in);
  }
  return j;
}

const char* kControlUsage =
    "usage: /control/<healthz|readyz|startupz>?state=<ok|fail|slow:DURATION>[&after=DURATION]\n"
    "  e.g. /control/readyz?state=fail, /control/healthz?state=fail&after=30s, /control/startupz?state=slow:3s\n";

}  // namespace

App::App(PodInfo pod, Control* control, Sleeper sleep)
    : pod_(std::move(pod)), control_(control), sleep_(std::move(sleep)) {}

Response App::Handle(const Request& request) {
  if (request.method != "GET" && request.method != "HEAD" && request.method != "POST") {
    return Text(405, "kubes-demo answers GET, HEAD and POST\n");
  }
  const std::string& path = request.path;
  if (path == "/") return Root(request);
  if (path == "/healthz") return ProbeEndpoint(Probe::kHealthz);
  if (path == "/readyz") return ProbeEndpoint(Probe::kReadyz);
  if (path == "/startupz") return ProbeEndpoint(Probe::kStartupz);
  if (path == "/control" || path.starts_with("/control/")) return ControlEndpoint(request);
  if (path == "/cpu") return Cpu(request);
  if (path == "/mem") return Mem(request);
  if (path == "/sleep") return Sleep(request);
  if (path == "/headers") return Headers(request);
  if (path == "/exit") return Exit(request);
  return Text(404, "not found: " + path +
                       "\nendpoints: / /healthz /readyz /startupz /control /cpu /mem /sleep /headers /exit\n");
}

Response App::Root(const Request& request) {
  uint64_t n = ++root_requests_;
  if (WantsJson(request)) {
    return JsonResponse({{"version", kVersion},
                         {"pod", pod_.name},
                         {"namespace", pod_.namespace_},
                         {"podIP", pod_.ip},
                         {"node", pod_.node},
                         {"hostname", pod_.hostname},
                         {"client", request.remote},
                         {"request", n}});
  }
  return Text(200, "kubes-demo " + std::string(kVersion) + " answered from pod " + pod_.namespace_ + "/" +
                       pod_.name + "\n" +
                       "pod name:  " + pod_.name + "\n" +
                       "namespace: " + pod_.namespace_ + "\n" +
                       "pod IP:    " + pod_.ip + "\n" +
                       "node:      " + pod_.node + "\n" +
                       "hostname:  " + pod_.hostname + "\n" +
                       "client:    " + request.remote + "\n" +
                       "request:   " + std::to_string(n) + "\n");
}

Response App::ProbeEndpoint(Probe probe) {
  if (probe == Probe::kReadyz && shutting_down_) return Text(503, "shutting down\n");
  Behaviour b = control_->Current(probe);
  switch (b.kind) {
    case Behaviour::Kind::kOk:
      return Text(200, "ok\n");
    case Behaviour::Kind::kFail:
      return Text(503, std::string(ProbeName(probe)) + " is set to fail\n");
    case Behaviour::Kind::kSlow:
      sleep_(b.delay);
      return Text(200, "ok (after " + FormatDuration(b.delay) + ")\n");
  }
  return Text(500, "unknown behaviour\n");
}

Response App::ControlEndpoint(const Request& request) {
  if (request.path == "/control" || request.path == "/control/") {
    if (WantsJson(request)) {
      Json j = Json::object();
      for (Probe p : kProbes) j[std::string(ProbeName(p))] = StateJson(control_->Get(p));
      j["shuttingDown"] = ShuttingDown();
      return JsonResponse(j);
    }
    std::string body;
    for (Probe p : kProbes) body += std::string(ProbeName(p)) + ": " + control_->Describe(p) + "\n";
    if (ShuttingDown()) body += "shutting down: readyz answers 503\n";
    return Text(200, body + kControlUsage);
  }
  std::string name = request.path.substr(std::strlen("/control/"));
  auto probe = ParseProbe(name);
  if (!probe) return Text(404, "no probe \"" + name + "\"\n" + kControlUsage);
  auto state = request.Query("state");
  auto after = request.Query("after");
  if (state) {
    auto behaviour = ParseBehaviour(*state);
    if (!behaviour) return Text(400, "state must be ok, fail or slow:DURATION, not \"" + *state + "\"\n" + kControlUsage);
    if (after) {
      auto d = ParseDuration(*after);
      if (!d) return Text(400, "after must be a duration like 30s, not \"" + *after + "\"\n" + kControlUsage);
      control_->SetAfter(*probe, *d, *behaviour);
    } else {
      control_->Set(*probe, *behaviour);
    }
  } else if (after) {
    return Text(400, "after needs a state\n" + std::string(kControlUsage));
  }
  if (WantsJson(request)) return JsonResponse({{name, StateJson(control_->Get(*probe))}});
  return Text(200, name + ": " + control_->Describe(*probe) + "\n");
}

Response App::Cpu(const Request& request) {
  Response error;
  auto ms = IntParam(request, "ms", 0, kMaxCpuMs, 100, &error);
  if (!ms) return error;
  // Count CPU time, not wall time: under a CPU limit the burn takes longer, as real work would.
  auto start_wall = std::chrono::steady_clock::now();
  Duration start_cpu = ThreadCpuTime(), want(*ms);
  volatile uint64_t sink = 0;
  while (ThreadCpuTime() - start_cpu < want) {
    for (int i = 0; i < 10000; i++) sink = sink * 31 + i;
  }
  auto wall = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start_wall);
  return Text(200, "burned " + FormatDuration(want) + " of CPU in " + FormatDuration(wall) + "\n");
}

Response App::Mem(const Request& request) {
  if (!request.Query("mb")) return Text(200, "holding " + std::to_string(HeldMiB()) + " MiB\n");
  Response error;
  auto mib = IntParam(request, "mb", 0, kMaxMemMiB, std::nullopt, &error);
  if (!mib) return error;
  std::lock_guard lock(mem_mu_);
  // Free first, so going from 100 to 150 MiB peaks at 150, not 250.
  held_.reset();
  held_mib_ = 0;
  if (*mib == 0) return Text(200, "holding 0 MiB\n");
  size_t bytes = static_cast<size_t>(*mib) << 20;
  held_.reset(new (std::nothrow) char[bytes]);
  if (!held_) return Text(500, "could not allocate " + std::to_string(*mib) + " MiB\n");
  // Touch every page: untouched pages would not count against the memory limit.
  for (size_t i = 0; i < bytes; i += kPageSize) held_[i] = 1;
  held_mib_ = static_cast<size_t>(*mib);
  return Text(200, "holding " + std::to_string(held_mib_) + " MiB\n");
}

size_t App::HeldMiB() {
  std::lock_guard lock(mem_mu_);
  return held_mib_;
}

Response App::Sleep(const Request& request) {
  Response error;
  auto ms = IntParam(request, "ms", 0, kMaxSleepMs, 1000, &error);
  if (!ms) return error;
  sleep_(Duration(*ms));
  return Text(200, "slept " + FormatDuration(Duration(*ms)) + "\n");
}

Response App::Headers(const Request& request) {
  if (WantsJson(request)) {
    Json headers = Json::object();
    for (const auto& [name, value] : request.headers) {
      // Repeated headers are joined as HTTP allows: "a, b".
      headers[name] = headers.contains(name) ? headers[name].get<std::string>() + ", " + value : value;
    }
    return JsonResponse({{"method", request.method}, {"target", request.target}, {"headers", headers}});
  }
  std::string body = request.method + " " + request.target + " " + request.version + "\n";
  for (const auto& [name, value] : request.headers) body += name + ": " + value + "\n";
  return Text(200, body);
}

Response App::Exit(const Request& request) {
  Response error;
  auto code = IntParam(request, "code", 0, 255, 0, &error);
  if (!code) return error;
  Response r = Text(200, "exiting with code " + std::to_string(*code) + "\n");
  r.exit_code = static_cast<int>(*code);
  return r;
}

}  // namespace kubes::demo
