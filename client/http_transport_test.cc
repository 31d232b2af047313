// HttpTransport against a real apiserver in this process, over HTTPS on 127.0.0.1
// (a temporary data directory; the admin token and the CA come from its pki/), driven
// through client::Client and Informer exactly as `kubes agent`'s kubelet uses them.
#include "client/http_transport.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "apiserver/apiserver.h"
#include "client/http/testing.h"
#include "client/informer.h"
#include "pki/files.h"

namespace kubes::client {
namespace {

const Resource kConfigMaps{"", "v1", "configmaps", true, "ConfigMap"};

Json ConfigMap(const std::string& name, Json labels = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"data", {{"text", "a b+c&d=e%f"}}}};
}

class HttpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubes-http-transport-XXXXXX";
    dir_ = mkdtemp(tmpl);
    apiserver::APIServerOptions opts;
    opts.data_dir = dir_;
    opts.port = 0;
    opts.run_controllers = false;
    server_ = std::make_unique<apiserver::APIServer>(opts);
    ASSERT_TRUE(server_->Start().ok());
    auto token = pki::ReadFile(dir_ + "/pki/admin.token");
    ASSERT_TRUE(token.ok());
    token_ = *token;
    while (!token_.empty() && std::isspace(static_cast<unsigned char>(token_.back()))) token_.pop_back();
    transport_ = New({.server = Server(), .bearer_token = token_, .ca_file = CaFile()});
    ASSERT_TRUE(transport_);
    client_ = std::make_unique<Client>(transport_.get());
  }
  void TearDown() override {
    client_.reset();
    transport_.reset();
    if (server_) server_->Stop();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Server() const { return "https://127.0.0.1:" + std::to_string(server_->port()); }
  std::string CaFile() const { return dir_ + "/pki/ca.crt"; }
  static std::unique_ptr<HttpTransport> New(HttpTransportOptions o) {
    auto t = HttpTransport::New(std::move(o));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(*t) : nullptr;
  }
  // Waits (bounded) for pred to hold.
  static bool Eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string dir_;
  std::string token_;
  std::unique_ptr<apiserver::APIServer> server_;
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<Client> client_;
};

TEST_F(HttpTransportTest, CreateGetListPatchUpdateDelete) {
  auto created = client_->Create(kConfigMaps, "default", ConfigMap("a", {{"app", "web"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("b", {{"app", "db"}})).ok());
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("c", {{"app", "cache"}})).ok());

  auto got = client_->Get(kConfigMaps, "default", "a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["data"]["text"], "a b+c&d=e%f");

  // Selectors with spaces, parentheses, commas and '=' survive the query encoding.
  struct Case {
    std::string label, field;
    std::vector<std::string> names;
  };
  const Case cases[] = {
      {"app in (web,db)", "", {"a", "b"}},
      {"app notin (web, db)", "", {"c"}},
      {"", "metadata.name=b", {"b"}},
      {"app!=web", "metadata.name!=c", {"b"}},
  };
  for (const Case& c : cases) {
    auto list = client_->List(kConfigMaps, "default", c.label, c.field);
    ASSERT_TRUE(list.ok()) << c.label << " " << c.field << ": " << list.status().ToString();
    std::vector<std::string> names;
    for (const auto& item : (*list)["items"]) names.push_back(item["metadata"]["name"]);
    EXPECT_EQ(names, c.names) << c.label << " " << c.field;
  }

  auto patched = client_->Patch(kConfigMaps, "default", "a", "application/merge-patch+json",
                                {{"data", {{"more", "yes"}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["data"]["more"], "yes");

  Json stale = *created;  // the resourceVersion from before the patch
  stale["data"]["text"] = "lost update";
  EXPECT_EQ(client_->Update(kConfigMaps, "default", stale).status().code(), Code::kConflict);
  Json fresh = *patched;
  fresh["data"]["text"] = "updated";
  auto updated = client_->Update(kConfigMaps, "default", fresh);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["data"]["text"], "updated");

  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "a").ok());
  Status missing = client_->Get(kConfigMaps, "default", "a").status();
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_EQ(missing.message(), "configmaps \"a\" not found");
  Status again = client_->Create(kConfigMaps, "default", ConfigMap("b")).status();
  EXPECT_EQ(again.code(), Code::kAlreadyExists);
  EXPECT_EQ(again.message(), "configmaps \"b\" already exists");
}

TEST_F(HttpTransportTest, WatchSeesEventsInOrder) {
  std::atomic<bool> stop{false};
  std::vector<std::string> events;
  std::atomic<bool> watching{false};
  Status result;
  std::thread watcher([&] {
    result = client_->Watch(kConfigMaps, "default", "", [&](const WatchEvent& ev) {
      if (ev.type == "BOOKMARK") return true;
      events.push_back(ev.type + " " + (*ev.object)["metadata"].value("name", ""));
      watching = true;
      return events.size() < 4;
    }, stop);
  });
  // The watch starts from the current state: a first object marks it as running.
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("first")).ok());
  ASSERT_TRUE(Eventually([&] { return watching.load(); }));
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("w")).ok());
  ASSERT_TRUE(
      client_->Patch(kConfigMaps, "default", "w", "application/merge-patch+json", {{"data", {{"x", "1"}}}}).ok());
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "w").ok());
  watcher.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(events, (std::vector<std::string>{"ADDED first", "ADDED w", "MODIFIED w", "DELETED w"}));
}

TEST_F(HttpTransportTest, AWatchRefusedBeforeStreamingIsAStatus) {
  std::atomic<bool> stop{false};
  Status s = client_->Watch(kConfigMaps, "default", "", [](const WatchEvent&) { return true; }, stop, 300,
                            "app in (unclosed");
  EXPECT_EQ(s.code(), Code::kBadRequest) << s.ToString();
}

TEST_F(HttpTransportTest, InformerFollowsChangesAndStopsPromptly) {
  Informer informer(client_.get(), kConfigMaps, "default");
  std::mutex mu;
  std::vector<std::string> seen;
  auto note = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(what);
  };
  informer.AddHandlers({.on_add = [&](const Json& o) { note("add " + o["metadata"]["name"].get<std::string>()); },
                        .on_update = [&](const Json&, const Json& o) {
                          note("update " + o["data"].value("x", ""));
                        },
                        .on_delete = [&](const Json& o) {
                          note("delete " + o["metadata"]["name"].get<std::string>());
                        }});
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("before")).ok());
  std::atomic<bool> stop{false};
  std::thread run([&] { informer.Run(stop); });
  ASSERT_TRUE(Eventually([&] { return informer.HasSynced(); }));
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("after")).ok());
  ASSERT_TRUE(
      client_->Patch(kConfigMaps, "default", "after", "application/merge-patch+json", {{"data", {{"x", "2"}}}}).ok());
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "before").ok());
  EXPECT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size() >= 4;
  }));
  Json obj;
  EXPECT_TRUE(informer.Get("default/after", &obj));
  EXPECT_FALSE(informer.Get("default/before", &obj));

  // The watch is idle now; stopping must not wait for the server to say anything.
  auto t0 = std::chrono::steady_clock::now();
  stop = true;
  run.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"add before", "add after", "update 2", "delete before"}));
}

TEST_F(HttpTransportTest, ConnectionsAreReusedAcrossThreads) {
  ASSERT_TRUE(client_->Create(kConfigMaps, "default", ConfigMap("shared")).ok());
  constexpr int kThreads = 8, kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (!client_->Get(kConfigMaps, "default", "shared").ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  // At most one connection per thread at a time, and the pool keeps them.
  int64_t dials = transport_->dials();
  EXPECT_LE(dials, kThreads + 1);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client_->Get(kConfigMaps, "default", "shared").ok());
  EXPECT_EQ(transport_->dials(), dials);
}

TEST_F(HttpTransportTest, FailuresAreStatuses) {
  int port = http::testing::UnusedPort();
  auto refused = New({.server = "https://127.0.0.1:" + std::to_string(port), .ca_file = CaFile()});
  Status s = Client(refused.get()).Get(kConfigMaps, "default", "x").status();
  EXPECT_EQ(s.code(), Code::kServiceUnavailable);
  EXPECT_EQ(s.message(), "Get \"https://127.0.0.1:" + std::to_string(port) +
                             "/api/v1/namespaces/default/configmaps/x\": dial tcp 127.0.0.1:" + std::to_string(port) +
                             ": connect: connection refused");

  auto bad_token = New({.server = Server(), .bearer_token = "wrong", .ca_file = CaFile()});
  EXPECT_EQ(Client(bad_token.get()).Get(kConfigMaps, "default", "x").status().code(), Code::kUnauthorized);

  auto untrusted = New({.server = Server(), .bearer_token = token_});  // the system trust store
  Status tls = Client(untrusted.get()).Get(kConfigMaps, "default", "x").status();
  EXPECT_EQ(tls.code(), Code::kServiceUnavailable);
  EXPECT_NE(tls.message().find("tls: failed to verify certificate"), std::string::npos) << tls.message();

  auto insecure = New({.server = Server(), .bearer_token = token_, .insecure = true});
  EXPECT_EQ(Client(insecure.get()).Get(kConfigMaps, "default", "x").status().code(), Code::kNotFound);

  EXPECT_EQ(HttpTransport::New({.server = "127.0.0.1:6443"}).status().code(), Code::kBadRequest);
  // Built directly, a transport with unusable options says so, and so does every request.
  HttpTransport no_scheme({.server = "127.0.0.1:6443"});
  EXPECT_EQ(no_scheme.status().code(), Code::kBadRequest);
  Status s400 = Client(&no_scheme).Get(kConfigMaps, "default", "x").status();
  EXPECT_EQ(s400.code(), Code::kBadRequest);
  EXPECT_EQ(s400.message(), no_scheme.status().message());
  EXPECT_EQ(HttpTransport::New({.server = "https://h:1", .ca_file = dir_ + "/missing.crt"}).status().code(),
            Code::kBadRequest);
}

// A pooled connection the server has since closed is dropped, not used.
TEST(HttpTransportPoolTest, ServerRestartBetweenRequests) {
  http::testing::TestPki pki;
  auto handler = [](apiserver::Request& r) {
    apiserver::Response resp;
    resp.body = "{\"path\":\"" + r.path + "\"}";
    return resp;
  };
  auto server = http::testing::StartServer(pki, "127.0.0.1", {{}, {"127.0.0.1"}}, handler);
  ASSERT_TRUE(server);
  int port = server->port();
  auto t = HttpTransport::New({.server = "https://127.0.0.1:" + std::to_string(port), .ca_file = pki.ca_file()});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Client c(t->get());
  ASSERT_TRUE(c.GetPath("/one").ok());
  server->Stop();
  server = http::testing::StartServer(pki, "127.0.0.1", {{}, {"127.0.0.1"}}, handler, "", port);
  ASSERT_TRUE(server);
  auto second = c.GetPath("/two");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)["path"], "/two");
  EXPECT_EQ((*t)->dials(), 2);
}

}  // namespace
}  // namespace kubes::client
