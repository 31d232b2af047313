#include "kubelet/lifecycle.h"

#include <thread>

#include "kubelet/prober/http.h"
#include "kubelet/prober/net.h"
#include "util/strings.h"

namespace kubes::kubelet {
namespace {

// "web_default(<uid>)", as upstream's format.Pod.
std::string PodName(const Json& pod) {
  const Json& meta = pod.value("metadata", Json::object());
  return meta.value("name", "") + "_" + meta.value("namespace", "") + "(" + meta.value("uid", "") + ")";
}

std::vector<std::string> Command(const Json& exec) {
  std::vector<std::string> out;
  for (const auto& a : exec.value("command", Json::array())) {
    if (a.is_string()) out.push_back(a.get<std::string>());
  }
  return out;
}

// "" or the error of running the command (as kuberuntime's RunInContainer reports it).
std::string RunExec(const Json& exec, const HookTarget& t, const HookOptions& o, std::string* output) {
  std::vector<std::string> cmd = Command(exec);
  if (!o.exec) return "exec hooks are not available here";
  auto ran = o.exec(t.container_id, cmd, o.timeout);
  if (!ran.ok()) return ran.status().message();
  *output = ran->output;
  if (ran->timed_out) return "command \"" + prober::JoinCommand(cmd) + "\" timed out";
  if (ran->exit_code != 0) {
    return "command '" + prober::JoinCommand(cmd) + "' exited with " + std::to_string(ran->exit_code) + ": ";
  }
  return "";
}

std::string RunHTTP(const Json& action, const HookTarget& t, const HookOptions& o) {
  if (action.value("host", "").empty() && t.pod_ip.empty()) return "failed to find networking container";
  auto req = prober::NewRequestForHTTPGetAction(action, t.container, t.pod_ip, "kube-lifecycle/" + o.version);
  if (!req.ok()) return req.status().message();
  prober::HTTPGetOptions get;
  get.timeout = o.timeout;
  get.cancel = o.cancel;
  auto resp = prober::DoHTTPGet(*req, get);
  if (resp.ok()) return "";
  // An HTTPS hook on a plain HTTP server: tried again over HTTP, without credentials.
  if (req->scheme == "https" && resp.status().message().find(prober::kHTTPResponseToHTTPSClient) != std::string::npos) {
    prober::HTTPRequest plain = *req;
    plain.scheme = "http";
    std::erase_if(plain.headers, [](const prober::HTTPHeader& h) { return h.name == "Authorization"; });
    if (prober::DoHTTPGet(plain, get).ok()) {
      if (o.pod_event) {
        o.pod_event("LifecycleHTTPFallback", "request to HTTPS lifecycle hook " + prober::JoinHostPort(req->host, req->port) +
                                                 " got HTTP response, retry with HTTP succeeded");
      }
      return "";
    }
  }
  return resp.status().message();
}

// Waits `seconds`, or until the hook's time is up (a preStop sleep longer than the
// grace period simply ends with it); false when cancelled.
bool Sleep(int64_t seconds, const HookOptions& o) {
  auto now = std::chrono::steady_clock::now();
  auto until = std::min(now + std::chrono::seconds(std::max<int64_t>(seconds, 0)),
                        now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(o.timeout));
  while ((now = std::chrono::steady_clock::now()) < until) {
    if (o.cancel && o.cancel->load()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(100), until - now));
  }
  return true;
}

}  // namespace

std::string GoQuote(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string RunLifecycleHandler(const Json& handler, const HookTarget& t, const HookOptions& o) {
  std::string name = GoQuote(t.container.value("name", ""));
  std::string pod = GoQuote(PodName(t.pod));
  if (handler.contains("exec")) {
    std::string output;
    std::string err = RunExec(handler["exec"], t, o, &output);
    if (err.empty()) return "";
    return "Exec lifecycle hook ([" + Join(Command(handler["exec"]), " ") + "]) for Container " + name + " in Pod " +
           pod + " failed - error: " + err + ", message: " + GoQuote(output);
  }
  if (handler.contains("httpGet")) {
    std::string err = RunHTTP(handler["httpGet"], t, o);
    if (err.empty()) return "";
    return "HTTP lifecycle hook (" + handler["httpGet"].value("path", "") + ") for Container " + name + " in Pod " +
           pod + " failed - error: " + err;
  }
  if (handler.contains("sleep")) {
    int64_t seconds = handler["sleep"].value("seconds", int64_t{0});
    if (Sleep(seconds, o)) return "";
    return "Sleep lifecycle hook (" + std::to_string(seconds) + ") for Container " + name + " in Pod " + pod +
           " failed - error: container terminated before sleep hook finished";
  }
  return "Cannot run handler: invalid handler: " + handler.dump();
}

}  // namespace kubes::kubelet
