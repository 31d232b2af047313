#include "kubelet/streaming/remotecommand.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "kubelet/streaming/fd.h"
#include "kubelet/streaming/status_json.h"
#include "pki/base64.h"
#include "util/strings.h"

namespace kubes::kubelet::streaming {
namespace {

// Stop reading the client while this much stdin waits for the process to take it.
constexpr size_t kMaxPendingStdin = 4 << 20;
constexpr size_t kReadChunk = 32 * 1024;
constexpr auto kCloseWait = std::chrono::seconds(2);

// Runs Process::wait on its own thread, so the session keeps answering pings and
// moving stdin while the process runs; fd() turns readable when the exit is known.
class ExitWaiter {
 public:
  explicit ExitWaiter(std::function<Result<int>()> wait) {
    if (pipe2(pipe_, O_CLOEXEC) != 0) {
      pipe_[0] = pipe_[1] = -1;
      result_ = Internal("pipe: " + std::string(strerror(errno)));
      return;
    }
    if (!wait) {
      Finish(0);
      return;
    }
    thread_ = std::thread([this, wait = std::move(wait)] { Finish(wait()); });
  }
  ~ExitWaiter() {
    if (thread_.joinable()) thread_.join();
    if (pipe_[0] >= 0) close(pipe_[0]);
    if (pipe_[1] >= 0) close(pipe_[1]);
  }
  int fd() const { return pipe_[0]; }
  // Blocks until the exit is known.
  Result<int> Get() {
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> l(mu_);
    return result_ ? *result_ : Result<int>(Internal("no exit status"));
  }

 private:
  void Finish(Result<int> r) {
    {
      std::lock_guard<std::mutex> l(mu_);
      result_ = std::move(r);
    }
    char one = 1;
    ssize_t ignored = write(pipe_[1], &one, 1);
    (void)ignored;
  }

  int pipe_[2] = {-1, -1};
  std::mutex mu_;
  std::optional<Result<int>> result_;
  std::thread thread_;
};

// Go's %v of a []string: "[sh -c exit 3]".
std::string GoList(const std::vector<std::string>& v) { return "[" + Join(v, " ") + "]"; }

// The Status of a finished process, as the kubelet's ServeExec writes it.
std::string ExitStatusJson(const Result<int>& exit, const std::vector<std::string>& command, std::string* text) {
  if (!exit.ok()) {
    std::string err = "error executing command in container: " + exit.status().message();
    Status s = Status(Code::kInternal, "Internal error occurred: " + err).WithCauses({Cause{"", err, ""}});
    *text = s.message();
    return StatusJson(s).dump();
  }
  if (*exit == 0) return StatusJson(Status::OK()).dump();
  std::string code = std::to_string(*exit);
  nlohmann::ordered_json j;
  j["metadata"] = nlohmann::ordered_json::object();
  j["status"] = "Failure";
  j["message"] = "command terminated with non-zero exit code: error executing command " + GoList(command) +
                 ", exit code " + code;
  j["reason"] = "NonZeroExitCode";
  j["details"]["causes"] = nlohmann::ordered_json::array({{{"reason", "ExitCode"}, {"message", code}}});
  *text = j["message"].get<std::string>();
  return j.dump();
}

}  // namespace

const std::vector<std::string>& RemoteCommandProtocols() {
  static const std::vector<std::string> protocols = {
      kStreamProtocolV5, kStreamProtocolV4, kStreamProtocolV4Base64, kChannelProtocol, kBase64ChannelProtocol, ""};
  return protocols;
}

Result<Options> ParseOptions(const apiserver::Request& req) {
  Options o;
  o.stdin = req.QueryBool("stdin");
  o.stdout = req.QueryBool("stdout");
  o.stderr = req.QueryBool("stderr");
  o.tty = req.QueryBool("tty");
  if (o.tty) o.stderr = false;
  auto [first, last] = req.query.equal_range("command");
  for (auto it = first; it != last; ++it) o.command.push_back(it->second);
  if (!o.stdin && !o.stdout && !o.stderr) return BadRequest("you must specify at least 1 of stdin, stdout, stderr");
  return o;
}

apiserver::Response UpgradeRemoteCommand(const apiserver::Request& req, StartProcess start) {
  Result<Options> options = ParseOptions(req);
  if (!options.ok()) return RefuseUpgrade(options.status());
  if (!IsWebSocketRequest(req)) {
    return RefuseUpgrade(BadRequest("unable to upgrade: exec and attach are served over WebSocket (" +
                                    std::string(kStreamProtocolV5) + "); SPDY is not supported"));
  }
  Result<WebSocketHandshake> handshake = NegotiateWebSocket(req, RemoteCommandProtocols());
  if (!handshake.ok()) return RefuseUpgrade(handshake.status());
  return handshake->Accept([subprotocol = handshake->subprotocol, options = *options,
                            start = std::move(start)](apiserver::UpgradedConnection& conn) {
    WebSocket ws(conn);
    RemoteCommandSession session(ws, subprotocol, options);
    if (!session.SendReady()) return;
    Result<Process> process = start(options);
    if (!process.ok()) {
      session.Fail(process.status());
      return;
    }
    session.Serve(std::move(*process));
  });
}

// ---- RemoteCommandSession --------------------------------------------------------

struct RemoteCommandSession::Io {
  int in = -1, out = -1, err = -1;  // -1 once closed
  std::string pending;              // stdin not yet written; pending_at bytes of it are done
  size_t pending_at = 0;
  bool close_in_requested = false;

  size_t pending_size() const { return pending.size() - pending_at; }
  // Closes one of the three, unless another still uses the same descriptor (a pty).
  void Close(int& fd) {
    if (fd < 0) return;
    int n = fd;
    fd = -1;
    if (n != in && n != out && n != err) close(n);
  }
  void CloseIn() {
    Close(in);
    pending.clear();
    pending_at = 0;
  }
  // Writes what stdin the process will take now.
  void FlushStdin() {
    while (in >= 0 && pending_size() > 0) {
      ssize_t w = WriteNoSigpipe(in, pending.data() + pending_at, pending_size());
      if (w > 0) {
        pending_at += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && errno == EAGAIN) {
        return;
      } else {
        CloseIn();  // the process closed its stdin: drop the rest
      }
    }
    pending.clear();
    pending_at = 0;
  }
};

RemoteCommandSession::RemoteCommandSession(WebSocket& ws, std::string subprotocol, Options options)
    : ws_(ws), subprotocol_(std::move(subprotocol)), options_(std::move(options)) {
  if (options_.tty) options_.stderr = false;
  base64_ = subprotocol_ == kStreamProtocolV4Base64 || subprotocol_ == kBase64ChannelProtocol;
  v4_status_ = subprotocol_ == kStreamProtocolV5 || subprotocol_ == kStreamProtocolV4 ||
               subprotocol_ == kStreamProtocolV4Base64;
  close_signal_ = subprotocol_ == kStreamProtocolV5;
}

bool RemoteCommandSession::SendChannel(uint8_t channel, std::string_view data) {
  if (base64_) {
    std::string prefix(1, static_cast<char>('0' + channel));
    return ws_.Send(Opcode::kText, pki::Base64Encode(data), prefix);
  }
  char prefix = static_cast<char>(channel);
  return ws_.Send(Opcode::kBinary, data, std::string_view(&prefix, 1));
}

bool RemoteCommandSession::SendReady() {
  uint8_t channel = options_.stdout ? kStdoutChannel : options_.stderr ? kStderrChannel : kErrorChannel;
  return SendChannel(channel, "");
}

void RemoteCommandSession::SendStatusAndClose(const std::string& status_json, const std::string& text) {
  if (v4_status_) {
    SendChannel(kErrorChannel, status_json);
  } else if (!text.empty()) {
    SendChannel(kErrorChannel, text);  // versions 1–3: the message only, nothing on success
  }
  ws_.SendClose(kCloseNormal);
  ws_.AwaitClose(kCloseWait);
}

void RemoteCommandSession::Fail(const Status& status) {
  SendStatusAndClose(StatusJson(status).dump(), status.message());
}

void RemoteCommandSession::HandleResize(std::string_view data, Process& p) {
  resize_buffer_ += data;
  // client-go writes one JSON object per message, newline-terminated; other clients
  // omit the newline. Take whole objects, keep a partial one for the next message.
  while (!resize_buffer_.empty()) {
    size_t nl = resize_buffer_.find('\n');
    std::string_view candidate = std::string_view(resize_buffer_).substr(0, nl);
    nlohmann::json j = nlohmann::json::parse(candidate, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() && nl == std::string::npos) {
      if (resize_buffer_.size() > 4096) resize_buffer_.clear();  // never going to parse
      return;
    }
    resize_buffer_.erase(0, nl == std::string::npos ? std::string::npos : nl + 1);
    if (!j.is_object() || !p.resize || !options_.tty) continue;
    auto dim = [&](const char* key) -> int64_t {
      auto it = j.find(key);
      return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
    };
    int64_t w = dim("Width"), h = dim("Height");
    if (w >= 0 && w <= 0xFFFF && h >= 0 && h <= 0xFFFF) p.resize(static_cast<uint16_t>(w), static_cast<uint16_t>(h));
  }
}

void RemoteCommandSession::HandleMessage(const Message& m, Io& io, Process& p) {
  std::string_view d = m.data;
  if (d.empty()) return;
  if (close_signal_ && static_cast<uint8_t>(d[0]) == kCloseSignal) {
    if (d.size() == 2 && static_cast<uint8_t>(d[1]) == kStdinChannel) io.close_in_requested = true;
    return;  // other channels have nothing to close on our side
  }
  uint8_t channel;
  std::string decoded;
  if (base64_) {
    channel = static_cast<uint8_t>(d[0] - '0');
    auto bytes = pki::Base64Decode(d.substr(1));
    if (!bytes) return;  // the kubelet drops what it cannot decode
    decoded = std::move(*bytes);
    d = decoded;
  } else {
    channel = static_cast<uint8_t>(d[0]);
    d.remove_prefix(1);
  }
  if (channel == kStdinChannel) {
    if (options_.stdin && io.in >= 0 && !io.close_in_requested) io.pending.append(d);
  } else if (channel == kResizeChannel) {
    HandleResize(d, p);
  }
}

void RemoteCommandSession::PumpOutput(int& fd, bool wanted, uint8_t channel, Io& io) {
  char buf[kReadChunk];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    if (wanted) SendChannel(channel, std::string_view(buf, static_cast<size_t>(n)));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  // EOF, or EIO from a pty master whose terminal has no process left.
  if (fd == io.in) io.CloseIn();  // the same pty: stdin goes with it
  io.Close(fd);
}

void RemoteCommandSession::Serve(Process p) {
  Io io;
  io.in = p.stdin_fd;
  io.out = p.stdout_fd;
  io.err = p.stderr_fd;
  if (!options_.stdin) io.CloseIn();
  for (int fd : {io.in, io.out, io.err}) {
    if (fd >= 0) SetNonBlocking(fd);
  }
  ExitWaiter exit(std::move(p.wait));
  bool exited = false;

  while (!(exited && io.out < 0 && io.err < 0)) {
    if (ws_.closed()) {
      // The client is gone: let the process see it, then wait for it to end.
      io.CloseIn();
      io.Close(io.out);
      io.Close(io.err);
      (void)exit.Get();
      return;
    }
    const bool backlog = io.pending_size() >= kMaxPendingStdin;
    const bool buffered = !backlog && ws_.Buffered();
    pollfd fds[5];
    nfds_t n = 0;
    auto add = [&](int fd, short events) -> int {
      if (fd < 0 || events == 0) return -1;
      fds[n] = pollfd{fd, events, 0};
      return static_cast<int>(n++);
    };
    int ws_i = add(ws_.PollFd(), backlog ? 0 : POLLIN);
    int in_i = add(io.in, io.pending_size() > 0 ? POLLOUT : 0);
    int out_i = add(io.out, POLLIN);
    int err_i = add(io.err, POLLIN);
    int exit_i = add(exited ? -1 : exit.fd(), POLLIN);
    if (poll(fds, n, buffered ? 0 : -1) < 0 && errno != EINTR) break;
    auto ready = [&](int i) { return i >= 0 && fds[i].revents != 0; };

    if (ready(in_i)) io.FlushStdin();
    if (ready(out_i)) PumpOutput(io.out, options_.stdout, kStdoutChannel, io);
    if (ready(err_i)) PumpOutput(io.err, options_.stderr, kStderrChannel, io);
    if (ready(exit_i)) exited = true;
    if (buffered || ready(ws_i)) {
      std::vector<Message> messages;
      (void)ws_.Receive(&messages);  // a protocol error closes; handled at the loop's top
      for (const Message& m : messages) HandleMessage(m, io, p);
    }
    if (io.close_in_requested && io.pending_size() == 0 && io.in >= 0 && io.in != io.out) io.CloseIn();
  }

  io.CloseIn();
  io.Close(io.out);
  io.Close(io.err);
  std::string text;
  std::string json = ExitStatusJson(exit.Get(), p.command, &text);
  SendStatusAndClose(json, text);
}

}  // namespace kubes::kubelet::streaming
