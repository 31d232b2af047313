// kubes-monitor's entry point: arguments, leaving kubes behind, then the Monitor
// (monitor.h). Runtime::Create runs it as
//
//   kubes-monitor --id ID --bundle DIR --runtime PATH --runtime-root DIR
//                 --exit-dir DIR --log FILE --sync-fd N
//                 [--oom-file FILE] [--tty] [--stdin] [--stdin-once]
//
// and reads the answer from the sync pipe (README.md has the protocol).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/monitor/monitor.h"

namespace kubes::monitor {
namespace {

constexpr const char* kUsage =
    "usage: kubes-monitor --id ID --bundle DIR --runtime PATH --runtime-root DIR --exit-dir DIR --log FILE\n"
    "                     --sync-fd N [--oom-file FILE] [--tty] [--stdin] [--stdin-once]\n"
    "Watches one container for kubes; kubes starts it, not people.\n";

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!strcmp(a, "--tty")) o->tty = true;
    else if (!strcmp(a, "--stdin")) o->stdin = true;
    else if (!strcmp(a, "--stdin-once")) o->stdin_once = true;
    else if (i + 1 == argc) return false;  // every other flag takes a value
    else if (!strcmp(a, "--id")) o->id = argv[++i];
    else if (!strcmp(a, "--bundle")) o->bundle = argv[++i];
    else if (!strcmp(a, "--runtime")) o->runtime = argv[++i];
    else if (!strcmp(a, "--runtime-root")) o->runtime_root = argv[++i];
    else if (!strcmp(a, "--exit-dir")) o->exit_dir = argv[++i];
    else if (!strcmp(a, "--log")) o->log_path = argv[++i];
    else if (!strcmp(a, "--oom-file")) o->oom_file = argv[++i];
    else if (!strcmp(a, "--sync-fd")) o->sync_fd = atoi(argv[++i]);
    else return false;
  }
  return o->id && o->bundle && o->bundle[0] == '/' && o->runtime && o->runtime_root && o->exit_dir &&
         o->log_path && o->sync_fd > 2;
}

// Leaves the process that started us: it may exit (or be killed) any time, and we
// must outlive it. The parent returns at once — Runtime::Create waits for that, then
// reads the sync pipe — and the child leads a session of its own, so no terminal
// hangup or process group signal meant for kubes reaches it.
void Daemonize() {
  pid_t pid = fork();
  if (pid < 0) {
    perror("kubes-monitor: fork");
    _exit(1);
  }
  if (pid > 0) _exit(0);
  setsid();
  int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
  if (null > 2) close(null);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);  // a client gone away is an error return, not a death
  signal(SIGCHLD, SIG_DFL);  // ignored, it would let children vanish without an exit code
}

// Written to a temporary name and renamed, as every file others read.
void WritePidFile() {
  char text[16];
  int len = snprintf(text, sizeof text, "%d", static_cast<int>(getpid()));
  int fd = open("monitor.pid.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  bool ok = write(fd, text, len) == len;
  close(fd);
  if (ok) rename("monitor.pid.tmp", "monitor.pid");
}

}  // namespace
}  // namespace kubes::monitor

int main(int argc, char** argv) {
  using namespace kubes::monitor;
  static Options options;  // static: the Monitor keeps a reference and big buffers
  if (!ParseOptions(argc, argv, &options)) {
    fputs(kUsage, stderr);
    return 2;
  }
  if (chdir(options.bundle) != 0) {
    fprintf(stderr, "kubes-monitor: %s: %s\n", options.bundle, strerror(errno));
    return 1;
  }
  fcntl(options.sync_fd, F_SETFD, FD_CLOEXEC);  // not for the runtime or the container
  Daemonize();
  WritePidFile();
  // Orphans of our children become ours: when the runtime's `create` exits, the
  // container's init process is reparented to us, and we can wait for it.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  static Monitor monitor(options);
  if (!monitor.Create()) return 1;
  monitor.Run();
  monitor.Finish();
  return 0;
}
