// TestServer — a real apiserver in the test's process, for tests of the components
// that talk to it (controllers, scheduler, clients): a temporary SQLite store, no
// controllers running (the test drives them), and an in-process client acting as a
// cluster admin. Nothing but a listener on 127.0.0.1 leaves the process.
//
//   TestServer server;             // ASSERT_TRUE(server.Start().ok()) in SetUp
//   server.client()->Create(...);
//
// Thread-safety: as APIServer and Client.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "apiserver/apiserver.h"
#include "client/client.h"

namespace kubes::apiserver::testing {

class TestServer {
 public:
  ~TestServer() { Stop(); }

  // prefix names the temporary data directory (/tmp/<prefix>-XXXXXX).
  Status Start(const std::string& prefix = "kubes-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    APIServerOptions opts;
    opts.data_dir = dir_;
    opts.port = 0;
    opts.run_controllers = false;
    server_ = std::make_unique<APIServer>(opts);
    Status s = server_->Start();
    if (!s.ok()) return s;
    transport_ = std::make_unique<client::LocalTransport>(
        [this](Request& r) { return server_->Handle(r); },
        UserInfo{"test", "", {"system:masters", "system:authenticated"}});
    client_ = std::make_unique<client::Client>(transport_.get());
    return Status::OK();
  }

  void Stop() {
    if (!server_) return;
    server_->Stop();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  client::Client* client() { return client_.get(); }
  APIServer* server() { return server_.get(); }
  const std::string& dir() const { return dir_; }
  // The handler, for components that make their own LocalTransport.
  client::LocalTransport::Handler handler() {
    return [this](Request& r) { return server_->Handle(r); };
  }

  // Waits (up to ~5 s) for pred to hold.
  static bool Eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  std::string dir_;
  std::unique_ptr<APIServer> server_;
  std::unique_ptr<client::LocalTransport> transport_;
  std::unique_ptr<client::Client> client_;
};

}  // namespace kubes::apiserver::testing
