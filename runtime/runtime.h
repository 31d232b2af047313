// Runtime — runs containers as OCI bundles through an OCI runtime (crun, else runc),
// each watched by its own kubes-monitor (upstream: containerd/CRI-O with their shims,
// CRI-O's conmon).
//
// One container is one directory under `root` (the bundle): config.json, the overlay
// rootfs (image layers + an upper dir of its own), kubes.json (the labels the kubelet
// finds it by) and the monitor's files. kubes carries the monitor program inside its
// own binary; Open writes it to `<run_dir>/kubes-monitor` (to `<root>/` when the run
// dir is mounted noexec), and Create starts one per container. The monitor
// (runtime/monitor/README.md):
//   - runs `<runtime> create` with the container's stdio on pipes it holds (or a
//     terminal) and reports the container's pid — or the runtime's error — to Create;
//   - writes the container's stdout and stderr to its log file in the CRI format
//     (kubelet/logs.cc reads it), reopening the file on request after rotation;
//   - serves the attach socket (`kubectl attach`: output out, input to stdin) and a
//     control FIFO (terminal size, log reopen);
//   - when the container's process ends: writes `<bundle>/oom` if the memory cgroup
//     recorded an OOM kill, then the exit code to `<root>/exits/<id>`, which the
//     kubelet watches to learn of exits at once; then exits.
// Monitors leave kubes at once (own session), so containers keep running — and their
// exit codes and logs keep being recorded — while kubes is stopped or killed; a new
// Runtime over the same directories sees them again (adoption).
//
// Thread-safety: all methods may be called from any thread; operations on one
// container should not race (the kubelet serializes per pod).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/container_config.h"
#include "util/status.h"
#include "util/time.h"

namespace kubes::runtime {

enum class ContainerState { kCreated, kRunning, kExited, kUnknown };

struct ContainerStatus {
  std::string id;
  ContainerLabels labels;
  ContainerState state = ContainerState::kUnknown;
  int pid = 0;
  int exit_code = 0;
  bool oom_killed = false;
  std::string start_error;  // set when the container could not be started at all
  TimePoint created_at{};
  TimePoint started_at{};   // epoch when never started
  TimePoint finished_at{};  // epoch while running
  std::string log_path;
};

struct RuntimeOptions {
  std::string root;     // bundles; on disk (the data dir): survives restarts of kubes
  std::string run_dir;  // OCI runtime state and attach sockets; under /run
  std::string oci_runtime;  // "" = pick crun or runc (see PickOCIRuntime)
};

class Runtime {
 public:
  static Result<std::unique_ptr<Runtime>> Open(RuntimeOptions options);

  // Mounts the rootfs, writes the bundle and starts the container's monitor, which
  // creates the container (not started yet). A failure of the OCI runtime comes back
  // with the runtime's own message ("exec: \"/nope\": … no such file or directory").
  Status Create(const ContainerConfig& c);
  Status Start(const std::string& id);
  // Records an instance that failed to be created or started (a command missing from
  // the image): it exists from then on as exited with code 128 and the error, so the
  // kubelet counts it as a failed attempt (reason StartError) like containerd does.
  Status RecordFailedStart(const ContainerConfig& c, const std::string& error);
  // Sends a signal to the container's init process (no error when it is gone).
  Status Signal(const std::string& id, int signal);
  // Deletes the container and everything of it but its log file.
  Status Remove(const std::string& id);

  Result<ContainerStatus> Inspect(const std::string& id) const;
  std::vector<ContainerStatus> List() const;

  // The command that runs `argv` inside a running container (`runc exec`).
  std::vector<std::string> ExecCommand(const std::string& id, const std::vector<std::string>& argv, bool tty) const;
  // The monitor's attach socket and control FIFO for a container (kubectl attach, log
  // rotation); runtime/monitor/README.md has their protocols.
  std::string AttachSocket(const std::string& id) const;
  std::string ControlFifo(const std::string& id) const;

  const std::string& exit_dir() const { return exit_dir_; }
  const std::string& oci_runtime() const { return oci_runtime_; }

 private:
  explicit Runtime(RuntimeOptions o);
  std::string BundleDir(const std::string& id) const { return options_.root + "/" + id; }
  std::vector<std::string> RuntimeArgs(std::vector<std::string> tail) const;

  RuntimeOptions options_;
  std::string oci_runtime_;  // absolute path of crun or runc
  std::string state_dir_;    // --root of the OCI runtime
  std::string exit_dir_;
  std::string monitor_;      // <run_dir>/kubes-monitor, or <root>/kubes-monitor
};

// 64 random hex characters, as containerd's container IDs.
std::string NewContainerID();

// crun when the cgroup layout lets it run, else runc (see machine-notes: crun refuses a
// hybrid layout whose unified hierarchy has controllers). Empty when neither exists.
std::string PickOCIRuntime(std::string* why);

}  // namespace kubes::runtime
