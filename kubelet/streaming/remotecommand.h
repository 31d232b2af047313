// Remote command: one `kubectl exec` or `kubectl attach` session over WebSocket,
// with the Kubernetes channel subprotocols.
//
// Upstream counterparts: the server side of k8s.io/kubelet's
// pkg/cri/streaming/remotecommand (ServeExec, ServeAttach, createWebSocketStreams)
// and k8s.io/apiserver's pkg/util/proxy/websocket.go; the client is
// k8s.io/client-go/tools/remotecommand (websocket.go, v4.go).
//
// Every WebSocket message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr,
// 3 error (one metav1.Status at the end), 4 resize (JSON {"Width":W,"Height":H}).
// Subprotocols served, newest first:
//   v5.channel.k8s.io         v4 plus the close signal [255, channel]: kubectl sends
//                             [255, 0] when its stdin ends (kubectl cp needs it).
//   v4.channel.k8s.io         the Status on channel 3 carries the exit code.
//   v4.base64.channel.k8s.io  the same, with '0'+channel and base64 payloads in text
//                             messages (browsers).
//   channel.k8s.io, base64.channel.k8s.io and none: versions 1–3, where channel 3
//                             carries only an error's message text.
// The session first sends an empty message on the lowest output channel asked for
// (the client waits for it), then moves bytes both ways in one poll loop until the
// process has exited and its output has ended, sends the Status, and closes (1000).
//
// Thread-safety: a session runs on the connection's thread, plus one helper thread
// that blocks in Process::wait.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "apiserver/request.h"
#include "kubelet/streaming/websocket.h"
#include "util/status.h"

namespace kubes::kubelet::streaming {

inline constexpr char kStreamProtocolV5[] = "v5.channel.k8s.io";
inline constexpr char kStreamProtocolV4[] = "v4.channel.k8s.io";
inline constexpr char kStreamProtocolV4Base64[] = "v4.base64.channel.k8s.io";
inline constexpr char kChannelProtocol[] = "channel.k8s.io";
inline constexpr char kBase64ChannelProtocol[] = "base64.channel.k8s.io";

// The subprotocols UpgradeRemoteCommand accepts ("" = the client named none).
const std::vector<std::string>& RemoteCommandProtocols();

enum Channel : uint8_t {
  kStdinChannel = 0,
  kStdoutChannel = 1,
  kStderrChannel = 2,
  kErrorChannel = 3,
  kResizeChannel = 4,
  kCloseSignal = 255,  // v5: [255, channel] half-closes a channel
};

// What the client asked for (query parameters of …/exec and …/attach).
struct Options {
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;  // always false with tty: a terminal has one output
  bool tty = false;
  std::vector<std::string> command;  // exec only: the `command` parameters in order
};

// Reads stdin, stdout, stderr, tty and command. With tty, stderr is dropped (as the
// kubelet does). BadRequest "you must specify at least 1 of stdin, stdout, stderr"
// when none is set.
Result<Options> ParseOptions(const apiserver::Request& req);

// The process side of a session, given by the caller (the kubelet, through the
// container runtime). The session takes ownership of the descriptors and closes
// them. With a terminal, stdin_fd and stdout_fd may be the same pty master; closing
// stdin then only stops writing to it.
struct Process {
  int stdin_fd = -1;   // written with the client's stdin; closed when stdin ends
  int stdout_fd = -1;  // read to EOF (EIO from a pty master counts as EOF)
  int stderr_fd = -1;
  // Called (on the session's thread) when the client's terminal changes size; only
  // with tty. May be empty.
  std::function<void(uint16_t width, uint16_t height)> resize;
  // Blocks until the process has exited and returns its exit code; a failed Status
  // becomes an InternalError "error executing command in container: …". Called
  // once, on a helper thread, as soon as the session starts. Empty = exit code 0.
  std::function<Result<int>()> wait;
  // The command, for the message of a non-zero exit ("… error executing command
  // [sh -c exit 3], exit code 3").
  std::vector<std::string> command;
};

// Starts the process once the connection is upgraded; a failed Status is reported
// to the client on the error channel (e.g. NotFound for a missing container).
using StartProcess = std::function<Result<Process>(const Options& options)>;

// The exec/attach endpoint in one call: parses the options, negotiates the
// WebSocket and returns the 101 Response whose upgrade runs the session (or a
// 400/403 refusal). `start` runs on the connection's thread after the upgrade.
apiserver::Response UpgradeRemoteCommand(const apiserver::Request& req, StartProcess start);

// One session on an upgraded WebSocket, for callers that need the steps apart.
class RemoteCommandSession {
 public:
  RemoteCommandSession(WebSocket& ws, std::string subprotocol, Options options);

  // Sends the empty message that tells the client its streams are ready.
  bool SendReady();
  // Reports an error that happened before the process started: a Status on the
  // error channel, then close 1000.
  void Fail(const Status& status);
  // Runs the process's I/O to the end, then sends its exit Status and closes. If
  // the client goes away first, closes the process's descriptors (EOF on stdin,
  // EPIPE on output, SIGHUP on a terminal) and still waits for it to exit.
  void Serve(Process process);

 private:
  struct Io;  // the process's descriptors and the stdin not yet written
  bool SendChannel(uint8_t channel, std::string_view data);
  void SendStatusAndClose(const std::string& status_json, const std::string& text);
  void HandleMessage(const Message& m, Io& io, Process& p);
  void HandleResize(std::string_view data, Process& p);
  void PumpOutput(int& fd, bool wanted, uint8_t channel, Io& io);

  WebSocket& ws_;
  std::string subprotocol_;
  Options options_;
  bool base64_ = false;
  bool v4_status_ = false;    // the error channel carries a JSON Status (v4, v5)
  bool close_signal_ = false; // v5
  std::string resize_buffer_;
};

}  // namespace kubes::kubelet::streaming
