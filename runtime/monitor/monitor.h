// kubes-monitor — the small process that watches one container from its creation to
// its exit (upstream: CRI-O's conmon, containerd's shim; see README.md beside this).
// Runtime::Create (runtime/runtime.cc) starts one per container; it leaves kubes at
// once (own session, not a child kubes waits for), so the container keeps running, its
// output keeps being logged and its exit code gets recorded while kubes is stopped.
//
// Its life in three calls, each in its own file:
//   Create (create.cc): the container's stdio (pipes, or a terminal), `<runtime>
//     create`, and the answer to Runtime::Create over the sync pipe;
//   Run (event_loop.cc): output → CRI log + attach clients, attach input → stdin,
//     control FIFO, until the container's init process ends;
//   Finish (event_loop.cc): the last output, the oom mark, the exit code.
//
// Everything lives in the bundle directory, the monitor's working directory:
// monitor.pid, pidfile (the container's init, written by the runtime), attach, ctl,
// oom. Relative names keep socket addresses short whatever the bundle path.
//
// Thread-safety: one thread; no allocation after start (fixed buffers: it stays small).
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "runtime/monitor/attach.h"
#include "runtime/monitor/cri_log.h"

namespace kubes::monitor {

struct Options {
  const char* id = nullptr;            // the container's ID for the OCI runtime
  const char* bundle = nullptr;        // absolute; the working directory from the start
  const char* runtime = nullptr;       // absolute path of crun or runc
  const char* runtime_root = nullptr;  // the runtime's --root (its state directory)
  const char* exit_dir = nullptr;      // the exit code goes to <exit_dir>/<id>
  const char* log_path = nullptr;      // CRI log file
  const char* oom_file = nullptr;      // memory.oom_control (v1) / memory.events (v2); may be null
  int sync_fd = -1;                    // the pipe Runtime::Create reads the answer from
  bool tty = false;                    // a terminal instead of pipes
  bool stdin = false;                  // keep the container's stdin open for attach
  bool stdin_once = false;             // close it when an attach client goes away
};

class Monitor {
 public:
  explicit Monitor(const Options& o) : o_(o) {}

  // Creates the container and answers over the sync pipe, then closes it:
  // "ok <pid>\n" or "error <text>". False when the container was not created.
  bool Create();
  // Serves the container until its init process has ended.
  void Run();
  // Takes the output still buffered, writes <bundle>/oom after an OOM kill, then the
  // exit code (exited: its code, killed by signal N: 128+N) to <exit_dir>/<id>.
  void Finish();

 private:
  // create.cc
  bool Fail(const char* what, int err);
  void Answer(const char* text);
  bool OpenControlFifo();
  bool MakeStdio(int child[3]);
  pid_t SpawnRuntime(const int child[3]);
  [[noreturn]] void ExecRuntime(const int child[3]);
  bool ReceiveTerminal();
  void AnswerRuntimeError(int status);

  // event_loop.cc
  void Handle(int fd, unsigned events);
  void Watch(int fd, unsigned events);
  void Rewatch(int fd, unsigned events);
  bool ReadOutput(int fd);
  void CloseOutput(int fd);
  void Reap();
  void AcceptClients();
  void ClientInput(int fd, unsigned events);
  void FlushStdin();
  void SetStdinWaiting(bool waiting);
  void CloseStdin();
  void ReadControl();
  void Control(const char* line);
  bool OOMKilled() const;
  void WriteExitFile(int code) const;

  const Options& o_;
  LogFile log_;
  AttachServer attach_;
  int ctl_ = -1;      // the control FIFO, held open for reading and writing
  int console_ = -1;  // where the runtime sends the terminal (with --tty), until it has
  int signals_ = -1;  // signalfd for SIGCHLD
  int epoll_ = -1;
  int out_ = -1;      // read ends of the container's stdout and stderr (no terminal)
  int err_ = -1;
  int tty_ = -1;      // the terminal's master side: the container's output and input
  int in_ = -1;       // write end of the container's stdin pipe (no terminal)
  pid_t pid_ = 0;     // the container's init process
  bool exited_ = false;
  int wait_status_ = 0;
  size_t pending_begin_ = 0, pending_end_ = 0;  // the input waiting in pending_
  bool stdin_waiting_ = false;
  size_t ctl_len_ = 0;  // bytes of ctl_line_ read so far

  // The buffers come last: the constructor writes only the members above, so a page
  // of a buffer costs memory only once the buffer is used.
  //
  // Input from attach clients that the container's stdin has not taken yet. While
  // some is left, clients are not read: their packets wait in their sockets.
  char pending_[kMaxChunk];
  char ctl_line_[128];
  // One read of output, with the attach packet's stream byte in front.
  char packet_[1 + kMaxChunk];
};

}  // namespace kubes::monitor
