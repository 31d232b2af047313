// The kubelet's streaming endpoints: container logs, exec, attach and port-forward
// (upstream: pkg/kubelet/server/server.go and the CRI streaming server). The
// apiserver proxies pods/log, pods/exec, pods/attach and pods/portforward here.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "kubelet/kubelet.h"
#include "kubelet/logs.h"
#include "kubelet/streaming/portforward.h"
#include "kubelet/streaming/remotecommand.h"
#include "network/netns.h"
#include "util/subprocess.h"

namespace kubes::kubelet {
namespace {

apiserver::Response Error(int code, const std::string& reason, const std::string& message) {
  apiserver::Response r;
  r.code = code;
  r.body = Json({{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
                 {"message", message}, {"reason", reason}, {"code", code}})
               .dump();
  return r;
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// Runs `argv` (a `runc exec`) with pipes or a terminal and hands its ends to the
// remote command session.
Result<streaming::Process> Spawn(const std::vector<std::string>& argv, const streaming::Options& o) {
  streaming::Process p;
  p.command = o.command;
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  int master = -1, slave = -1;
  if (o.tty) {
    if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) return Internal(std::string("openpty: ") + strerror(errno));
    fcntl(master, F_SETFD, FD_CLOEXEC);
  } else if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    return Internal(std::string("pipe: ") + strerror(errno));
  }
  std::vector<char*> args;
  std::vector<std::string> copy = argv;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Internal(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    if (o.tty) {
      setsid();
      ioctl(slave, TIOCSCTTY, 0);
      dup2(slave, 0);
      dup2(slave, 1);
      dup2(slave, 2);
    } else {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
    }
    CloseDescriptorsExcept({});
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (o.tty) {
    close(slave);
    p.stdin_fd = o.stdin ? dup(master) : -1;
    p.stdout_fd = master;
    p.resize = [master](uint16_t w, uint16_t h) {
      winsize ws{h, w, 0, 0};
      ioctl(master, TIOCSWINSZ, &ws);
    };
  } else {
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (o.stdin) p.stdin_fd = in[1];
    else close(in[1]);
    if (o.stdout) p.stdout_fd = out[0];
    else close(out[0]);
    if (o.stderr) p.stderr_fd = err[0];
    else close(err[0]);
  }
  p.wait = [pid]() -> Result<int> {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  };
  return p;
}

}  // namespace

apiserver::Response Kubelet::Serve(apiserver::Request& req) {
  auto parts = SplitPath(req.path);
  if (!ready_) return Error(503, "ServiceUnavailable", "the node " + options_.node_name + " is not ready");
  if (parts.size() >= 4 && parts[0] == "containerLogs") return ServeLogs(req, parts);
  if (parts.size() >= 4 && parts[0] == "exec") return ServeExec(req, parts, false);
  if (parts.size() >= 4 && parts[0] == "attach") return ServeExec(req, parts, true);
  if (parts.size() >= 3 && parts[0] == "portForward") return ServePortForward(req, parts);
  if (parts.size() == 2 && parts[0] == "stats" && parts[1] == "summary") return ServeStatsSummary(req);
  return Error(404, "NotFound", "the kubelet has no endpoint " + req.path);
}

Result<runtime::ContainerStatus> Kubelet::FindContainer(const std::string& ns, const std::string& pod_name,
                                                        const std::string& container, bool previous) {
  Json pod;
  if (!pods_.Get(ns + "/" + pod_name, &pod)) return NotFound("pod \"" + pod_name + "\" not found");
  std::string uid = pod["metadata"].value("uid", "");
  std::vector<runtime::ContainerStatus> instances;
  for (auto& c : runtime_->List()) {
    if (c.labels.pod_uid == uid && c.labels.container_name == container) instances.push_back(std::move(c));
  }
  std::sort(instances.begin(), instances.end(), [](const auto& a, const auto& b) {
    return a.labels.attempt < b.labels.attempt;
  });
  if (previous) {
    if (instances.size() < 2) {
      return BadRequest("previous terminated container \"" + container + "\" in pod \"" + pod_name + "\" not found");
    }
    return instances[instances.size() - 2];
  }
  if (instances.empty()) {
    // Upstream's message names the waiting reason.
    std::string reason = "ContainerCreating";
    for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
      for (const auto& s : pod.value("status", Json::object()).value(list, Json::array())) {
        if (s.value("name", "") == container && s["state"].contains("waiting")) {
          reason = s["state"]["waiting"].value("reason", reason);
        }
      }
    }
    return BadRequest("container \"" + container + "\" in pod \"" + pod_name + "\" is waiting to start: " + reason);
  }
  return instances.back();
}

apiserver::Response Kubelet::ServeLogs(const apiserver::Request& req, const std::vector<std::string>& parts) {
  auto c = FindContainer(parts[1], parts[2], parts[3], req.QueryBool("previous"));
  if (!c.ok()) return Error(c.status().HttpCode(), c.status().Reason(), c.status().message());
  LogOptions o;
  o.follow = req.QueryBool("follow");
  o.timestamps = req.QueryBool("timestamps");
  if (req.HasQuery("tailLines")) o.tail_lines = std::atoll(req.Query("tailLines").c_str());
  if (req.HasQuery("limitBytes")) o.limit_bytes = std::atoll(req.Query("limitBytes").c_str());
  if (req.HasQuery("sinceSeconds")) {
    o.since = clock_.Now() - std::chrono::seconds(std::atoll(req.Query("sinceSeconds").c_str()));
  } else if (req.HasQuery("sinceTime")) {
    auto t = ParseRFC3339(req.Query("sinceTime"));
    if (t) o.since = *t;
  }
  std::string id = c->id;
  std::string path = c->log_path;
  runtime::Runtime* rt = runtime_.get();
  apiserver::Response r;
  r.content_type = "text/plain";
  if (!o.follow) {
    r.body = ReadLog(path, o, nullptr);
    return r;
  }
  r.stream = [path, o, id, rt](apiserver::ResponseStream& out) {
    // Following ends once the container has exited and everything it wrote is sent.
    auto running = [rt, id] {
      auto st = rt->Inspect(id);
      return st.ok() && (st->state == runtime::ContainerState::kRunning ||
                         st->state == runtime::ContainerState::kCreated);
    };
    FollowLog(path, o, out, running);
  };
  return r;
}

apiserver::Response Kubelet::ServeExec(const apiserver::Request& req, const std::vector<std::string>& parts,
                                       bool attach) {
  std::string ns = parts[1], pod = parts[2], container = parts[3];
  runtime::Runtime* rt = runtime_.get();
  auto start = [this, rt, ns, pod, container, attach](const streaming::Options& o) -> Result<streaming::Process> {
    auto c = FindContainer(ns, pod, container, false);
    if (!c.ok()) return c.status();
    if (c->state != runtime::ContainerState::kRunning) {
      return BadRequest("container " + container + " is not valid for pod " + pod);
    }
    if (!attach) return Spawn(rt->ExecCommand(c->id, o.command, o.tty), o);
    return AttachProcess(c->id, o);
  };
  return streaming::UpgradeRemoteCommand(req, start);
}

apiserver::Response Kubelet::ServePortForward(const apiserver::Request& req, const std::vector<std::string>& parts) {
  Json pod;
  if (!pods_.Get(parts[1] + "/" + parts[2], &pod)) return Error(404, "NotFound", "pod \"" + parts[2] + "\" not found");
  std::string uid = pod["metadata"].value("uid", "");
  streaming::PortForwarder f;
  f.pod = parts[2];
  f.uid = uid;
  bool host = pod["spec"].value("hostNetwork", false);
  std::string netns = host ? "/proc/1/ns/net" : network_->NetnsPath(uid);
  f.dial = [netns](uint16_t port) { return network::DialInNetns(netns, port); };
  return streaming::UpgradePortForward(req, f);
}

}  // namespace kubes::kubelet
