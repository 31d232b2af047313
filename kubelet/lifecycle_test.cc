#include "kubelet/lifecycle.h"

#include <gtest/gtest.h>

#include "kubelet/prober/testing.h"

namespace kubes::kubelet {
namespace {

using prober::testing::ReadUntil;
using prober::testing::Server;
using prober::testing::WriteAll;

HookTarget Target() {
  return {{{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "u1"}}}},
          {{"name", "app"}, {"ports", {{{"name", "http"}, {"containerPort", 1}}}}},
          "c1",
          "127.0.0.1"};
}

struct Fixture {
  std::vector<std::string> commands, events;
  prober::ExecResult answer{0, "", false};
  HookOptions Options() {
    HookOptions o;
    o.exec = [this](const std::string& id, const std::vector<std::string>& cmd,
                    std::chrono::milliseconds) -> Result<prober::ExecResult> {
      commands.push_back(id + ": " + prober::JoinCommand(cmd));
      return answer;
    };
    o.pod_event = [this](const std::string& reason, const std::string& msg) { events.push_back(reason + ": " + msg); };
    return o;
  }
};

TEST(LifecycleTest, Exec) {
  Fixture f;
  Json hook = {{"exec", {{"command", {"sh", "-c", "echo hi > /tmp/started"}}}}};
  EXPECT_EQ(RunLifecycleHandler(hook, Target(), f.Options()), "");
  EXPECT_EQ(f.commands, std::vector<std::string>{"c1: sh -c echo hi > /tmp/started"});

  f.answer = {1, "no such file\n", false};
  EXPECT_EQ(RunLifecycleHandler({{"exec", {{"command", {"sh", "-c", "exit 1"}}}}}, Target(), f.Options()),
            "Exec lifecycle hook ([sh -c exit 1]) for Container \"app\" in Pod \"web_default(u1)\" failed - error: "
            "command 'sh -c exit 1' exited with 1: , message: \"no such file\\n\"");
  f.answer = {137, "", true};
  EXPECT_EQ(RunLifecycleHandler({{"exec", {{"command", {"sleep", "60"}}}}}, Target(), f.Options()),
            "Exec lifecycle hook ([sleep 60]) for Container \"app\" in Pod \"web_default(u1)\" failed - error: "
            "command \"sleep 60\" timed out, message: \"\"");
}

TEST(LifecycleTest, HTTPGetFailsOnlyWhenTheRequestFails) {
  std::string got;
  std::mutex mu;
  Server server([&](int fd) {
    std::string req = ReadUntil(fd, "\r\n\r\n");
    {
      std::lock_guard<std::mutex> lock(mu);
      got = req;
    }
    WriteAll(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  });
  Fixture f;
  Json hook = {{"httpGet", {{"path", "/started"}, {"port", server.port()}}}};
  EXPECT_EQ(RunLifecycleHandler(hook, Target(), f.Options()), "");  // a 500 is still an answer
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_NE(got.find("GET /started HTTP/1.1\r\n"), std::string::npos);
    EXPECT_NE(got.find("User-Agent: kube-lifecycle/1.32\r\n"), std::string::npos);
  }
  int port = prober::testing::UnusedPort();
  std::string addr = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(RunLifecycleHandler({{"httpGet", {{"path", "/stop"}, {"port", port}}}}, Target(), f.Options()),
            "HTTP lifecycle hook (/stop) for Container \"app\" in Pod \"web_default(u1)\" failed - error: Get \"http://" +
                addr + "/stop\": dial tcp " + addr + ": connect: connection refused");
}

TEST(LifecycleTest, HTTPSHookOnAPlainServerFallsBack) {
  Server plain([](int fd) {
    std::string first = ReadUntil(fd, "\r\n\r\n");
    if (first.rfind("GET ", 0) == 0) {
      EXPECT_EQ(first.find("Authorization"), std::string::npos);
      WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    } else {
      WriteAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");  // to the TLS hello
    }
  });
  Fixture f;
  Json hook = {{"httpGet",
                {{"path", "/"}, {"port", plain.port()}, {"scheme", "HTTPS"},
                 {"httpHeaders", {{{"name", "Authorization"}, {"value", "Bearer secret"}}}}}}};
  EXPECT_EQ(RunLifecycleHandler(hook, Target(), f.Options()), "");
  EXPECT_EQ(f.events, std::vector<std::string>{"LifecycleHTTPFallback: request to HTTPS lifecycle hook 127.0.0.1:" +
                                                std::to_string(plain.port()) +
                                                " got HTTP response, retry with HTTP succeeded"});
}

TEST(LifecycleTest, Sleep) {
  Fixture f;
  HookOptions o = f.Options();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunLifecycleHandler({{"sleep", {{"seconds", 1}}}}, Target(), o), "");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(990));

  // A preStop sleep longer than the grace period ends with it, without failing.
  o.timeout = std::chrono::milliseconds(200);
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunLifecycleHandler({{"sleep", {{"seconds", 30}}}}, Target(), o), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));

  std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  EXPECT_EQ(RunLifecycleHandler({{"sleep", {{"seconds", 30}}}}, Target(), o),
            "Sleep lifecycle hook (30) for Container \"app\" in Pod \"web_default(u1)\" failed - error: container "
            "terminated before sleep hook finished");
}

TEST(LifecycleTest, TCPSocketIsNotAHandler) {
  Fixture f;
  std::string msg = RunLifecycleHandler({{"tcpSocket", {{"port", 80}}}}, Target(), f.Options());
  EXPECT_EQ(msg.rfind("Cannot run handler: invalid handler: ", 0), 0u) << msg;
}

TEST(GoQuoteTest, Escapes) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("a \"b\"\n\t\\"), "\"a \\\"b\\\"\\n\\t\\\\\"");
  EXPECT_EQ(GoQuote(std::string("\x01", 1)), "\"\\x01\"");
}

}  // namespace
}  // namespace kubes::kubelet
