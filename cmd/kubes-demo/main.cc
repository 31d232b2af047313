// kubes-demo — the small web server of kubes' examples: which pod answered, probe
// endpoints that can be told to fail, CPU and memory load, graceful shutdown.
// See README.md. Settings come from environment variables (config.h).
//
// Startup reads as a list of steps: settings, probe start states, TLS, listeners, the
// signal thread, serving. SIGTERM (or SIGINT) starts the graceful stop described in
// server.h, after SHUTDOWN_DELAY.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "app.h"
#include "config.h"
#include "control.h"
#include "log.h"
#include "server.h"
#include "tls.h"

using namespace kubes::demo;

namespace {

std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

void NoOp(int) {}

}  // namespace

int main() {
  // Signals: SIGTERM and SIGINT are taken by the signal thread below (sigwait), so they
  // are blocked in every thread. The empty handler matters when the demo is a
  // container's PID 1: the kernel drops signals that PID 1 left at their default action.
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, NoOp);
  signal(SIGINT, NoOp);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Config config;
  std::string error;
  if (!LoadConfig(RealGetenv, &config, &error)) {
    LogLine("kubes-demo: " + error);
    return 2;
  }
  config.pod.hostname = Hostname();

  Control control([] { return std::chrono::steady_clock::now(); });
  ApplyStartState(config, &control);
  App app(config.pod, &control, [](Duration d) { std::this_thread::sleep_for(d); });

  std::unique_ptr<TlsContext> tls;
  if (FileExists(config.tls_cert) && FileExists(config.tls_key)) {
    tls = TlsContext::Load(config.tls_cert, config.tls_key, &error);
    if (!tls) {
      LogLine("kubes-demo: " + error);
      return 1;
    }
  }

  Server server(&app, tls.get());
  if (!server.Listen(config.port, config.tls_port, &error)) {
    LogLine("kubes-demo: " + error);
    return 1;
  }
  LogLine("kubes-demo " + std::string(kVersion) + " serving http on :" + std::to_string(server.port()) +
          (tls ? " and https on :" + std::to_string(server.tls_port()) : " (no TLS: " + config.tls_cert + " not found)"));
  LogLine("pod " + config.pod.namespace_ + "/" + config.pod.name + " (IP " + config.pod.ip + ") on node " +
          config.pod.node + ", hostname " + config.pod.hostname);
  for (Probe p : kProbes) LogLine(std::string(ProbeName(p)) + ": " + control.Describe(p));

  std::thread signals([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    LogLine(std::string("shutting down (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + "); /readyz now answers 503");
    app.StartShutdown();
    if (config.shutdown_delay.count() > 0) {
      LogLine("still serving for " + FormatDuration(config.shutdown_delay) + " (SHUTDOWN_DELAY)");
      std::this_thread::sleep_for(config.shutdown_delay);
    }
    LogLine("closing the listeners; finishing requests in flight");
    server.Stop();
  });
  server.Run();
  signals.join();
  LogLine("stopped");
  return 0;
}
