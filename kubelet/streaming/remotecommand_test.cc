#include "kubelet/streaming/remotecommand.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "kubelet/streaming/testing.h"
#include "pki/base64.h"

namespace kubes::kubelet::streaming {
namespace {

using nlohmann::json;
using testing::SocketConnection;
using testing::SocketPair;
using testing::WsClient;

int WaitPid(pid_t pid) {
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// `sh -c script` with pipes for stdin, stdout and stderr.
Process StartShell(const std::string& script) {
  int in[2], out[2], err[2];
  EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  Process p;
  p.stdin_fd = in[1];
  p.stdout_fd = out[0];
  p.stderr_fd = err[0];
  p.wait = [pid]() -> Result<int> { return WaitPid(pid); };
  p.command = {"sh", "-c", script};
  return p;
}

// `sh -c script` on a new terminal; the pty master is both stdin and stdout.
Process StartShellOnTerminal(const std::string& script) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  EXPECT_GE(master, 0);
  EXPECT_EQ(grantpt(master), 0);
  EXPECT_EQ(unlockpt(master), 0);
  char name[128];
  EXPECT_EQ(ptsname_r(master, name, sizeof name), 0);
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    int slave = open(name, O_RDWR);
    ioctl(slave, TIOCSCTTY, 0);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  Process p;
  p.stdin_fd = master;
  p.stdout_fd = master;
  p.resize = [master](uint16_t w, uint16_t h) {
    winsize ws{};
    ws.ws_col = w;
    ws.ws_row = h;
    ioctl(master, TIOCSWINSZ, &ws);
  };
  p.wait = [pid]() -> Result<int> { return WaitPid(pid); };
  p.command = {"sh", "-c", script};
  return p;
}

// What a client saw: the bytes of each channel, the first message, the close.
class ExecClient {
 public:
  ExecClient(int fd, bool base64 = false) : ws_(fd), base64_(base64) {}

  // Handles one frame; false on timeout or end of connection.
  bool Pump() {
    auto f = ws_.Next();
    if (!f) return false;
    if (f->opcode == Opcode::kClose) {
      closed_ = true;
      close_payload_ = f->payload;
      ws_.Send(Opcode::kClose, f->payload.substr(0, 2));
      return true;
    }
    if (f->opcode != Opcode::kBinary && f->opcode != Opcode::kText) return true;
    messages_.push_back(f->payload);
    if (f->payload.empty()) return true;
    int channel = base64_ ? f->payload[0] - '0' : static_cast<uint8_t>(f->payload[0]);
    std::string data = f->payload.substr(1);
    if (base64_) data = pki::Base64Decode(data).value_or("<bad base64>");
    channels_[channel] += data;
    return true;
  }
  bool WaitFor(int channel, const std::string& text) {
    while (channels_[channel].find(text) == std::string::npos) {
      if (closed_ || !Pump()) return false;
    }
    return true;
  }
  bool RunToClose() {
    while (!closed_) {
      if (!Pump()) return false;
    }
    return true;
  }
  bool Send(uint8_t channel, std::string_view data) {
    if (base64_) return ws_.Send(Opcode::kText, std::string(1, char('0' + channel)) + pki::Base64Encode(data));
    return ws_.SendChannel(channel, data);
  }
  bool CloseStdin() { return ws_.Send(Opcode::kBinary, std::string("\xff\x00", 2)); }
  WsClient& ws() { return ws_; }

  std::string channel(int c) { return channels_[c]; }
  const std::vector<std::string>& messages() const { return messages_; }
  uint16_t close_code() const {
    return close_payload_.size() < 2 ? 0 : (uint8_t(close_payload_[0]) << 8) | uint8_t(close_payload_[1]);
  }

 private:
  WsClient ws_;
  bool base64_;
  bool closed_ = false;
  std::string close_payload_;
  std::map<int, std::string> channels_;
  std::vector<std::string> messages_;
};

// Runs a session on the server end of a socketpair, in a thread.
class SessionTest : public ::testing::Test {
 protected:
  void Start(std::string protocol, Options options, Process process) {
    server_ = std::thread([this, protocol, options, p = std::move(process)]() mutable {
      SocketConnection conn(pair_.server_fd);
      WebSocket ws(conn);
      RemoteCommandSession session(ws, protocol, options);
      if (session.SendReady()) session.Serve(std::move(p));
    });
  }
  void TearDown() override {
    if (server_.joinable()) server_.join();
  }
  static Options Opts(bool in, bool out, bool err, bool tty = false) {
    Options o;
    o.stdin = in;
    o.stdout = out;
    o.stderr = err;
    o.tty = tty;
    return o;
  }

  SocketPair pair_;
  std::thread server_;
};

TEST_F(SessionTest, StdinRoundTripAndTheV5CloseSignal) {
  Start(kStreamProtocolV5, Opts(true, true, true), StartShell("cat"));
  ExecClient c(pair_.client_fd);
  ASSERT_TRUE(c.Pump());
  EXPECT_EQ(c.messages()[0], std::string(1, '\x01'));  // "ready": empty message on stdout
  ASSERT_TRUE(c.Send(kStdinChannel, "hello\n"));
  ASSERT_TRUE(c.WaitFor(kStdoutChannel, "hello\n"));
  ASSERT_TRUE(c.Send(kStdinChannel, "again\n"));
  ASSERT_TRUE(c.CloseStdin());  // cat sees EOF only through the close signal
  ASSERT_TRUE(c.RunToClose());
  EXPECT_EQ(c.channel(kStdoutChannel), "hello\nagain\n");
  EXPECT_EQ(json::parse(c.channel(kErrorChannel)), json::parse(R"({"metadata":{},"status":"Success"})"));
  EXPECT_EQ(c.close_code(), 1000);
}

TEST_F(SessionTest, NonZeroExitCodeIsAStatusOnChannel3) {
  Start(kStreamProtocolV5, Opts(false, true, true), StartShell("echo out; echo err >&2; exit 3"));
  ExecClient c(pair_.client_fd);
  ASSERT_TRUE(c.RunToClose());
  EXPECT_EQ(c.channel(kStdoutChannel), "out\n");
  EXPECT_EQ(c.channel(kStderrChannel), "err\n");
  EXPECT_EQ(json::parse(c.channel(kErrorChannel)), json::parse(R"({
    "metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
    "message": "command terminated with non-zero exit code: error executing command [sh -c echo out; echo err >&2; exit 3], exit code 3",
    "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}})"));
  EXPECT_EQ(c.close_code(), 1000);
}

TEST_F(SessionTest, AProcessThatClosesItsStdinDoesNotHurtTheServer) {
  // SIGPIPE keeps its default action in this test binary: a write to the closed
  // pipe that raised it would kill the test.
  Start(kStreamProtocolV5, Opts(true, true, false), StartShell("exec 0<&-; echo closed; sleep 0.3; echo done"));
  ExecClient c(pair_.client_fd);
  ASSERT_TRUE(c.WaitFor(kStdoutChannel, "closed\n"));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.Send(kStdinChannel, std::string(16 * 1024, 'x')));
  ASSERT_TRUE(c.RunToClose());
  EXPECT_EQ(c.channel(kStdoutChannel), "closed\ndone\n");
  EXPECT_EQ(json::parse(c.channel(kErrorChannel))["status"], "Success");
}

TEST_F(SessionTest, TerminalWithResize) {
  Start(kStreamProtocolV5, Opts(true, true, true, /*tty=*/true), StartShellOnTerminal("read x; stty size; exit 4"));
  ExecClient c(pair_.client_fd);
  ASSERT_TRUE(c.Send(kResizeChannel, R"({"Width":100,"Height":40})" "\n"));
  ASSERT_TRUE(c.Send(kStdinChannel, "go\n"));
  ASSERT_TRUE(c.RunToClose());
  EXPECT_NE(c.channel(kStdoutChannel).find("40 100"), std::string::npos) << c.channel(kStdoutChannel);
  EXPECT_EQ(c.channel(kStderrChannel), "");  // a terminal has one output
  json status = json::parse(c.channel(kErrorChannel));
  EXPECT_EQ(status["details"]["causes"][0]["message"], "4");
}

TEST_F(SessionTest, ResizeMessagesMayBeSplitJoinedOrWithoutNewline) {
  std::mutex mu;
  std::vector<std::pair<int, int>> sizes;
  Process p = StartShell("cat");
  p.resize = [&](uint16_t w, uint16_t h) {
    std::lock_guard<std::mutex> l(mu);
    sizes.emplace_back(w, h);
  };
  Start(kStreamProtocolV5, Opts(true, true, false, /*tty=*/true), std::move(p));
  ExecClient c(pair_.client_fd);
  ASSERT_TRUE(c.Send(kResizeChannel, "{\"Width\":10,\"Height\":20}\n{\"Width\":30,\"Height\":40}\n"));
  ASSERT_TRUE(c.Send(kResizeChannel, "{\"Width\": 50, \"Height\": 60}"));  // the Python client's form
  ASSERT_TRUE(c.Send(kResizeChannel, "{\"Width\":70,"));
  ASSERT_TRUE(c.Send(kResizeChannel, "\"Height\":80}\n"));
  ASSERT_TRUE(c.Send(kResizeChannel, "{\"Width\":-1,\"Height\":5}\n"));  // ignored
  ASSERT_TRUE(c.Send(kStdinChannel, "sync\n"));
  ASSERT_TRUE(c.WaitFor(kStdoutChannel, "sync\n"));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(sizes, (std::vector<std::pair<int, int>>{{10, 20}, {30, 40}, {50, 60}, {70, 80}}));
  }
  ASSERT_TRUE(c.CloseStdin());
  ASSERT_TRUE(c.RunToClose());
}

TEST_F(SessionTest, V4HasNoCloseSignal) {
  Start(kStreamProtocolV4, Opts(true, true, false), StartShell("head -c 5"));
  ExecClient c(pair_.client_fd);
  ASSERT_TRUE(c.CloseStdin());  // channel 255 means nothing in v4: ignored
  ASSERT_TRUE(c.Send(kStdinChannel, "hello world"));
  ASSERT_TRUE(c.RunToClose());
  EXPECT_EQ(c.channel(kStdoutChannel), "hello");
  EXPECT_EQ(json::parse(c.channel(kErrorChannel))["status"], "Success");
}

TEST_F(SessionTest, Base64Protocol) {
  Start(kStreamProtocolV4Base64, Opts(true, true, false), StartShell("head -n 1"));
  ExecClient c(pair_.client_fd, /*base64=*/true);
  ASSERT_TRUE(c.Send(kStdinChannel, "line\n"));
  ASSERT_TRUE(c.RunToClose());
  EXPECT_EQ(c.messages()[0], "1");  // ready, as text: '1' and no payload
  EXPECT_EQ(c.channel(kStdoutChannel), "line\n");
  EXPECT_EQ(json::parse(c.channel(kErrorChannel))["status"], "Success");
}

TEST_F(SessionTest, OldProtocolsCarryOnlyTheErrorText) {
  Start(kChannelProtocol, Opts(false, true, false), StartShell("exit 2"));
  ExecClient c(pair_.client_fd);
  ASSERT_TRUE(c.RunToClose());
  EXPECT_EQ(c.channel(kErrorChannel),
            "command terminated with non-zero exit code: error executing command [sh -c exit 2], exit code 2");
}

TEST_F(SessionTest, FailingWaitIsAnInternalError) {
  Process p = StartShell("true");
  p.wait = [reap = p.wait]() -> Result<int> {
    (void)reap();
    return Internal("runtime went away");
  };
  Start(kStreamProtocolV5, Opts(false, true, false), std::move(p));
  ExecClient c(pair_.client_fd);
  ASSERT_TRUE(c.RunToClose());
  json status = json::parse(c.channel(kErrorChannel));
  EXPECT_EQ(status["reason"], "InternalError");
  EXPECT_EQ(status["code"], 500);
  EXPECT_EQ(status["message"], "Internal error occurred: error executing command in container: runtime went away");
}

TEST_F(SessionTest, ClientGoingAwayEndsTheSession) {
  Start(kStreamProtocolV5, Opts(true, true, false), StartShell("cat"));
  ExecClient c(pair_.client_fd);
  ASSERT_TRUE(c.Pump());
  close(pair_.client_fd);  // no close frame: the connection just ends
  pair_.client_fd = -1;
  server_.join();  // cat sees EOF on stdin and exits; Serve returns
}

TEST(RemoteCommandTest, FailBeforeStartIsAStatus) {
  SocketPair pair;
  std::thread server([&] {
    SocketConnection conn(pair.server_fd);
    WebSocket ws(conn);
    RemoteCommandSession session(ws, kStreamProtocolV5, Options{false, true, true, false, {}});
    session.SendReady();
    session.Fail(NotFound("container \"nope\" not found in pod default/web"));
  });
  ExecClient c(pair.client_fd);
  ASSERT_TRUE(c.RunToClose());
  server.join();
  EXPECT_EQ(json::parse(c.channel(kErrorChannel)), json::parse(R"({"metadata":{},"status":"Failure",
    "message":"container \"nope\" not found in pod default/web","reason":"NotFound","code":404})"));
}

TEST(RemoteCommandTest, ParseOptions) {
  struct Case {
    std::multimap<std::string, std::string> query;
    bool ok, in, out, err, tty;
  };
  const std::vector<Case> cases = {
      {{{"stdin", "true"}, {"stdout", "true"}, {"stderr", "true"}}, true, true, true, true, false},
      {{{"stdout", "1"}, {"stderr", "1"}, {"tty", "true"}}, true, false, true, false, true},
      {{{"stdin", "true"}, {"stdout", "false"}}, true, true, false, false, false},
      {{{"tty", "true"}}, false, false, false, false, false},
      {{}, false, false, false, false, false},
  };
  for (const Case& c : cases) {
    apiserver::Request r;
    r.query = c.query;
    auto o = ParseOptions(r);
    ASSERT_EQ(o.ok(), c.ok);
    if (!c.ok) {
      EXPECT_EQ(o.status().message(), "you must specify at least 1 of stdin, stdout, stderr");
      continue;
    }
    EXPECT_EQ(o->stdin, c.in);
    EXPECT_EQ(o->stdout, c.out);
    EXPECT_EQ(o->stderr, c.err);
    EXPECT_EQ(o->tty, c.tty);
  }
  apiserver::Request r;
  r.query = {{"stdout", "true"}, {"command", "sh"}, {"command", "-c"}, {"command", "echo hi"}};
  EXPECT_EQ(ParseOptions(r)->command, (std::vector<std::string>{"sh", "-c", "echo hi"}));
}

apiserver::Request ExecRequest() {
  apiserver::Request r;
  r.method = "GET";
  r.path = "/api/v1/namespaces/default/pods/web/exec";
  r.query = {{"stdout", "true"}, {"stderr", "true"}, {"command", "sh"}, {"command", "-c"}, {"command", "echo hello from exec"}};
  r.headers = {{"connection", "Upgrade"},
               {"upgrade", "websocket"},
               {"sec-websocket-version", "13"},
               {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
               {"sec-websocket-protocol", "v5.channel.k8s.io"}};
  return r;
}

TEST(RemoteCommandTest, UpgradeServesTheWholeExchange) {
  Options seen;
  apiserver::Response resp = UpgradeRemoteCommand(ExecRequest(), [&](const Options& o) -> Result<Process> {
    seen = o;
    return StartShell(o.command[2]);
  });
  ASSERT_EQ(resp.code, 101);
  ASSERT_TRUE(resp.upgrade);
  std::map<std::string, std::string> headers(resp.headers.begin(), resp.headers.end());
  EXPECT_EQ(headers["Sec-WebSocket-Protocol"], "v5.channel.k8s.io");
  EXPECT_EQ(headers["Sec-WebSocket-Accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

  SocketPair pair;
  std::thread server([&] {
    SocketConnection conn(pair.server_fd);
    resp.upgrade(conn);
  });
  ExecClient c(pair.client_fd);
  ASSERT_TRUE(c.RunToClose());
  server.join();
  EXPECT_EQ(c.channel(kStdoutChannel), "hello from exec\n");
  EXPECT_TRUE(seen.stdout && seen.stderr && !seen.stdin);
}

TEST(RemoteCommandTest, UpgradeReportsAFailedStart) {
  apiserver::Response resp = UpgradeRemoteCommand(
      ExecRequest(), [](const Options&) -> Result<Process> { return NotFound("container \"app\" is not running"); });
  SocketPair pair;
  std::thread server([&] {
    SocketConnection conn(pair.server_fd);
    resp.upgrade(conn);
  });
  ExecClient c(pair.client_fd);
  ASSERT_TRUE(c.RunToClose());
  server.join();
  EXPECT_EQ(json::parse(c.channel(kErrorChannel))["message"], "container \"app\" is not running");
}

TEST(RemoteCommandTest, UpgradeRefusals) {
  auto never = [](const Options&) -> Result<Process> { return Internal("must not start"); };
  apiserver::Request no_streams = ExecRequest();
  no_streams.query = {{"command", "ls"}};
  apiserver::Response r = UpgradeRemoteCommand(no_streams, never);
  EXPECT_EQ(r.code, 400);
  EXPECT_EQ(json::parse(r.body)["message"], "you must specify at least 1 of stdin, stdout, stderr");

  apiserver::Request spdy = ExecRequest();
  spdy.method = "POST";
  spdy.headers = {{"connection", "Upgrade"}, {"upgrade", "SPDY/3.1"}, {"x-stream-protocol-version", "v4.channel.k8s.io"}};
  EXPECT_EQ(UpgradeRemoteCommand(spdy, never).code, 400);

  apiserver::Request wrong = ExecRequest();
  wrong.headers["sec-websocket-protocol"] = "v9.channel.k8s.io";
  EXPECT_EQ(UpgradeRemoteCommand(wrong, never).code, 403);
}

}  // namespace
}  // namespace kubes::kubelet::streaming
