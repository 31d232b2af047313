// The two servers under test, started as child processes on 127.0.0.1:
//
//   KubesServer — `kubes server --data-dir DIR --port 0`: reads the port it prints,
//                 then polls /readyz; authenticates with DIR/pki/admin.token and
//                 verifies TLS against DIR/pki/ca.crt.
//   EtcdServer  — a one-member etcd on two free ports, serving its v3 JSON gateway
//                 over TLS with a certificate the caller provides (kubes' serving
//                 certificate), so both servers pay for TLS alike.
//
// Both are stopped (SIGTERM, then SIGKILL) when they go out of scope.
// Thread-safety: owned by the main thread; target() may be copied to any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bench/load.h"
#include "bench/process.h"

namespace kubes::bench {

class KubesServer {
 public:
  // Starts kubes on data_dir and waits (at most 60 s) until /readyz answers 200.
  static Result<std::unique_ptr<KubesServer>> Start(const std::string& binary, const std::string& data_dir,
                                                    const std::vector<std::string>& extra_args = {});
  // Milliseconds from fork to the first 200 from /readyz.
  double startup_ms() const { return startup_ms_; }
  const Target& target() const { return target_; }
  const std::string& data_dir() const { return data_dir_; }
  int64_t RssKb() const { return bench::RssKb(process_->pid()); }
  bool Stop() { return process_->Stop(); }

 private:
  KubesServer() = default;
  std::unique_ptr<ChildProcess> process_;
  std::string data_dir_;
  Target target_;
  double startup_ms_ = 0;
};

// Whether `kubes server --help` lists a flag.
bool KubesHasFlag(const std::string& binary, const std::string& flag);

class EtcdServer {
 public:
  // REQUIRES: cert_file is valid for IP 127.0.0.1 and signed by ca_file.
  static Result<std::unique_ptr<EtcdServer>> Start(const std::string& binary, const std::string& dir,
                                                   const std::string& cert_file, const std::string& key_file,
                                                   const std::string& ca_file);
  const Target& target() const { return target_; }

 private:
  EtcdServer() = default;
  std::unique_ptr<ChildProcess> process_;
  Target target_;
};

}  // namespace kubes::bench
