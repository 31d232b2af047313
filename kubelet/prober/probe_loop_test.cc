#include "kubelet/prober/probe_loop.h"

#include <gtest/gtest.h>

#include "kubelet/prober/tcp.h"
#include "kubelet/prober/testing.h"

namespace kubes::kubelet::prober {
namespace {

using namespace std::chrono_literals;
using testing::ReadUntil;
using testing::Server;
using testing::WriteAll;

HTTPRequest Request(int port) {
  auto r = NewRequestForHTTPGetAction({{"path", "/healthz"}, {"port", port}}, Json::object(), "127.0.0.1",
                                      "kube-probe/1.32");
  return *r;
}

// Runs the loop until `done` or 5 s.
void RunUntil(ProbeLoop& loop, const std::function<bool()>& done) {
  auto end = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < end) loop.RunOnce(std::chrono::steady_clock::now() + 50ms);
}

// The loop must say exactly what the blocking client says.
TEST(ProbeLoopTest, HTTPAsTheBlockingClientSaysIt) {
  struct Case {
    std::string name;
    std::function<void(int)> serve;
  } cases[] = {
      {"200", [](int fd) { ReadUntil(fd, "\r\n\r\n"), WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); }},
      {"500", [](int fd) { ReadUntil(fd, "\r\n\r\n"), WriteAll(fd, "HTTP/1.1 500 Oops\r\n\r\nbody until close"); }},
      {"redirect elsewhere",
       [](int fd) { ReadUntil(fd, "\r\n\r\n"), WriteAll(fd, "HTTP/1.1 302 Found\r\nLocation: http://192.0.2.9/\r\nContent-Length: 0\r\n\r\n"); }},
      {"silent", [](int fd) { ReadUntil(fd, "never"); }},
      {"head, then silence", [](int fd) { ReadUntil(fd, "\r\n\r\n"), WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"), ReadUntil(fd, "never"); }},
      {"closed", [](int fd) { ReadUntil(fd, "\r\n\r\n"); }},
      {"garbage", [](int fd) { ReadUntil(fd, "\r\n\r\n"), WriteAll(fd, "SSH-2.0-OpenSSH\r\n\r\n"); }},
  };
  for (const auto& c : cases) {
    Server server(c.serve);
    ProbeOutput blocking = DoHTTPProbe(Request(server.port()), 300ms);
    ProbeLoop loop;
    std::optional<ProbeOutput> looped;
    loop.StartHTTP(Request(server.port()), 300ms, [&](Result<HTTPResponse> r) { looped = HTTPProbeOutput(r); });
    RunUntil(loop, [&] { return looped.has_value(); });
    ASSERT_TRUE(looped.has_value()) << c.name;
    EXPECT_EQ(looped->result, blocking.result) << c.name;
    EXPECT_EQ(looped->output, blocking.output) << c.name;
    EXPECT_EQ(loop.active(), 0u);
  }
  int port = testing::UnusedPort();
  ProbeLoop loop;
  std::optional<ProbeOutput> refused;
  loop.StartHTTP(Request(port), 300ms, [&](Result<HTTPResponse> r) { refused = HTTPProbeOutput(r); });
  RunUntil(loop, [&] { return refused.has_value(); });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->output, DoHTTPProbe(Request(port), 300ms).output);
}

TEST(ProbeLoopTest, TCP) {
  Server server([](int fd) { ReadUntil(fd, "never"); });
  int closed = testing::UnusedPort();
  ProbeLoop loop;
  std::optional<ProbeOutput> open, refused;
  loop.StartTCP("127.0.0.1", server.port(), 1s, [&](ProbeOutput o) { open = o; });
  loop.StartTCP("127.0.0.1", closed, 1s, [&](ProbeOutput o) { refused = o; });
  RunUntil(loop, [&] { return open && refused; });
  ASSERT_TRUE(open && refused);
  EXPECT_EQ(open->result, ProbeResult::kSuccess);
  EXPECT_EQ(refused->result, ProbeResult::kFailure);
  EXPECT_EQ(refused->output, DoTCPProbe("127.0.0.1", closed, 1s).output);
}

TEST(ProbeLoopTest, ManyAtOnce) {
  Server server([](int fd) {
    ReadUntil(fd, "\r\n\r\n");
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  ProbeLoop loop;
  int done = 0, ok = 0;
  for (int i = 0; i < 50; ++i) {
    loop.StartHTTP(Request(server.port()), 2s, [&](Result<HTTPResponse> r) {
      ++done;
      ok += r.ok() && r->status == 200;
    });
  }
  RunUntil(loop, [&] { return done == 50; });
  EXPECT_EQ(ok, 50);
}

TEST(ProbeLoopTest, WakeEndsAWait) {
  ProbeLoop loop;
  std::thread waker([&] {
    std::this_thread::sleep_for(50ms);
    loop.Wake();
  });
  auto start = std::chrono::steady_clock::now();
  loop.RunOnce(start + 5s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  waker.join();
}

}  // namespace
}  // namespace kubes::kubelet::prober
