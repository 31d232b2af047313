#include "kubelet/prober/prober.h"

#include <gtest/gtest.h>

#include "kubelet/prober/testing.h"

namespace kubes::kubelet::prober {
namespace {

struct Recorder {
  std::vector<std::string> events;
  std::vector<std::string> commands;
  std::chrono::milliseconds timeout{0};
  ProberOptions Options() {
    ProberOptions o;
    o.exec = [this](const std::string& id, const std::vector<std::string>& cmd,
                    std::chrono::milliseconds t) -> Result<ExecResult> {
      commands.push_back(id + ": " + JoinCommand(cmd));
      timeout = t;
      return ExecResult{0, "ok", false};
    };
    o.event = [this](const Json&, const std::string& path, const std::string& type, const std::string& reason,
                     const std::string& msg) { events.push_back(path + " " + type + " " + reason + ": " + msg); };
    o.expand = [](const std::vector<std::string>& cmd, const Json& container) {
      std::vector<std::string> out;
      for (const auto& a : cmd) out.push_back(a == "$(TARGET)" ? container["env"][0].value("value", "") : a);
      return out;
    };
    return o;
  }
};

PodView Pod(const Json& container, bool init = false) {
  PodView v;
  v.pod = std::make_shared<const Json>(Json{{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "u1"}}},
                                            {"spec", {{init ? "initContainers" : "containers", {container}}}}});
  v.pod_ip = "127.0.0.1";
  return v;
}

TEST(ProberTest, Handlers) {
  testing::Server http([](int fd) {
    testing::ReadUntil(fd, "\r\n\r\n");
    testing::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nup");
  });
  int closed = testing::UnusedPort();
  Recorder rec;
  Prober prober(rec.Options());
  Json container = {{"name", "app"},
                    {"env", {{{"name", "TARGET"}, {"value", "/tmp/healthy"}}}},
                    {"ports", {{{"name", "web"}, {"containerPort", http.port()}}}}};
  PodView pod = Pod(container);
  struct Case {
    Json probe;
    ProbeResult want;
    std::string output;
  } cases[] = {
      {{{"exec", {{"command", {"cat", "$(TARGET)"}}}}, {"timeoutSeconds", 3}}, ProbeResult::kSuccess, "ok"},
      {{{"httpGet", {{"path", "/healthz"}, {"port", "web"}}}}, ProbeResult::kSuccess, "up"},
      {{{"tcpSocket", {{"port", http.port()}}}}, ProbeResult::kSuccess, ""},
      {{{"tcpSocket", {{"port", closed}}}},
       ProbeResult::kFailure,
       "dial tcp 127.0.0.1:" + std::to_string(closed) + ": connect: connection refused"},
      {{{"grpc", {{"port", closed}}}},
       ProbeResult::kFailure,
       "timeout: failed to connect service \"127.0.0.1:" + std::to_string(closed) +
           "\" within 1s: context deadline exceeded"},
  };
  for (const auto& c : cases) {
    ProbeOutput out = prober.RunProbe(c.probe, pod, container, "c1");
    EXPECT_TRUE(out.error.ok()) << c.probe << ": " << out.error.message();
    EXPECT_EQ(out.result, c.want) << c.probe;
    EXPECT_EQ(out.output, c.output) << c.probe;
  }
  EXPECT_EQ(rec.commands, std::vector<std::string>{"c1: cat /tmp/healthy"});
  EXPECT_EQ(rec.timeout, std::chrono::seconds(3));

  ProbeOutput bad = prober.RunProbe({{"httpGet", {{"port", "metrics"}}}}, pod, container, "c1");
  EXPECT_EQ(bad.error.message(), "strconv.Atoi: parsing \"metrics\": invalid syntax");
  bad = prober.RunProbe({{"periodSeconds", 1}}, pod, container, "c1");
  EXPECT_EQ(bad.error.message(), "missing probe handler for web_default(u1):app");
}

TEST(ProberTest, EventsNameTheProbeAndTheContainer) {
  testing::Server redirect([](int fd) {
    testing::ReadUntil(fd, "\r\n\r\n");
    testing::WriteAll(fd, "HTTP/1.1 302 Found\r\nLocation: http://192.0.2.1/\r\nContent-Length: 2\r\n\r\ngo");
  });
  testing::Server failing([](int fd) {
    testing::ReadUntil(fd, "\r\n\r\n");
    testing::WriteAll(fd, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
  });
  Recorder rec;
  Prober prober(rec.Options());
  struct Case {
    ProbeType type;
    Json probe;
    bool init;
    ProbeResult want;
    bool errored;
    std::string event;
  } cases[] = {
      {ProbeType::kReadiness, {{"httpGet", {{"port", redirect.port()}}}}, false, ProbeResult::kSuccess, false,
       "spec.containers{app} Warning ProbeWarning: Readiness probe warning: Probe terminated redirects, Response body: go"},
      {ProbeType::kLiveness, {{"httpGet", {{"port", failing.port()}}}}, true, ProbeResult::kFailure, false,
       "spec.initContainers{app} Warning Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500"},
      {ProbeType::kStartup, {{"tcpSocket", {{"port", "db"}}}}, false, ProbeResult::kFailure, true,
       "spec.containers{app} Warning Unhealthy: Startup probe errored and resulted in unknown state: strconv.Atoi: "
       "parsing \"db\": invalid syntax"},
      {ProbeType::kLiveness, {{"exec", {{"command", {"true"}}}}}, false, ProbeResult::kSuccess, false, ""},
  };
  for (const auto& c : cases) {
    rec.events.clear();
    Json container = {{"name", "app"}, {ProbeField(c.type), c.probe}};
    bool errored = false;
    EXPECT_EQ(prober.Probe(c.type, Pod(container, c.init), container, "c1", &errored), c.want) << c.probe;
    EXPECT_EQ(errored, c.errored) << c.probe;
    EXPECT_EQ(rec.events, c.event.empty() ? std::vector<std::string>{} : std::vector<std::string>{c.event});
  }
}

}  // namespace
}  // namespace kubes::kubelet::prober
