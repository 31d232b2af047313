// Informer transforms and SharedInformers against a real apiserver in the test's
// process (apiserver/testing/test_server.h: a temporary SQLite store, nothing beyond
// 127.0.0.1).
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "apiserver/testing/test_server.h"
#include "client/informer.h"
#include "client/resources.h"
#include "client/shared_informers.h"

namespace kubes::client {
namespace {

using apiserver::testing::TestServer;

Json ConfigMap(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", {{"app", "x"}}}}},
          {"data", {{"k", value}}}};
}

TEST(TransformTest, StockTransforms) {
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"managedFields", Json::array({{{"manager", "kubectl"}}})}}},
              {"spec", {{"nodeName", "n"}}},
              {"status", {{"phase", "Running"}}}};
  struct Case {
    const char* name;
    void (*transform)(Json&);
    Json in;
    Json want;
  };
  const Case cases[] = {
      {"strip: managedFields go, the rest stays", StripManagedFields, pod,
       {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}, {"spec", {{"nodeName", "n"}}},
        {"status", {{"phase", "Running"}}}}},
      {"strip: nothing to strip", StripManagedFields, {{"metadata", {{"name", "p"}}}}, {{"metadata", {{"name", "p"}}}}},
      {"strip: no metadata", StripManagedFields, {{"kind", "Pod"}}, {{"kind", "Pod"}}},
      {"metadata only", KeepMetadataOnly, pod, {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}}},
      {"metadata only: an item of a list has no kind", KeepMetadataOnly,
       {{"metadata", {{"name", "p"}}}, {"spec", Json::object()}}, {{"metadata", {{"name", "p"}}}}},
      {"metadata only: not an object", KeepMetadataOnly, Json::array(), Json::array()},
  };
  for (const Case& c : cases) {
    Json obj = c.in;
    c.transform(obj);
    EXPECT_EQ(obj, c.want) << c.name;
  }
}

// The in-process server as a client across the network sees it: requests lose
// share_objects (HTTPTransport never sends it), so every object comes as text.
class AsIfRemote : public Transport {
 public:
  explicit AsIfRemote(TestServer* server) : handler_(server->handler()) {}
  apiserver::Response Do(apiserver::Request& req) override {
    req.share_objects = false;
    req.user = {"system:admin", "", {"system:masters", "system:authenticated"}};
    return handler_(req);
  }

 private:
  LocalTransport::Handler handler_;
};

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start("kubes-informer").ok()); }
  void TearDown() override {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  void Run(Informer* inf) {
    threads_.emplace_back([this, inf] { inf->Run(stop_); });
  }
  Client* client() { return server_.client(); }

  TestServer server_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// Of objects the informer owns (received as text), what the handlers and the store
// see is the transformed object, on the initial list and on watch events alike.
TEST_F(InformerTest, TransformAppliesBeforeStoreAndHandlers) {
  ASSERT_TRUE(client()->Create(kConfigMaps, "default", ConfigMap("listed", "1")).ok());
  AsIfRemote transport(&server_);
  Client remote(&transport);
  Informer inf(&remote, kConfigMaps, "default");
  inf.SetTransform(KeepMetadataOnly);
  std::mutex mu;
  std::vector<Json> seen;  // every object a handler got, old states included
  auto note = [&](const Json& o) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(o);
  };
  inf.AddHandlers({.on_add = note,
                   .on_update = [&](const Json& old, const Json& o) {
                     note(old);
                     note(o);
                   },
                   .on_delete = note});
  Run(&inf);
  ASSERT_TRUE(TestServer::Eventually([&] { return inf.HasSynced(); }));
  ASSERT_TRUE(client()->Create(kConfigMaps, "default", ConfigMap("watched", "1")).ok());
  ASSERT_TRUE(client()->Update(kConfigMaps, "default", ConfigMap("watched", "2")).ok());
  ASSERT_TRUE(client()->Delete(kConfigMaps, "default", "listed").ok());
  ASSERT_TRUE(TestServer::Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size() >= 5;  // add listed, add watched, update (old, new), delete listed
  }));
  std::lock_guard<std::mutex> lock(mu);
  for (const Json& o : seen) {
    EXPECT_FALSE(o.contains("data")) << o.dump();
    EXPECT_FALSE(o["metadata"].contains("managedFields")) << o.dump();
    EXPECT_EQ(o["metadata"]["labels"]["app"], "x");
  }
  Json got;
  ASSERT_TRUE(inf.Get("default/watched", &got));
  EXPECT_EQ(got, (Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", got["metadata"]}}));
  EXPECT_FALSE(inf.Get("default/listed", &got));
  EXPECT_EQ(inf.List().size(), 1u);
}

// The namespace and controller indexes follow creates, relabels (an owner added or
// changed) and deletes, across namespaces.
TEST_F(InformerTest, IndexesFollowTheStore) {
  auto owned = [](const std::string& name, const std::string& owner_uid) {
    Json cm = ConfigMap(name, "1");
    if (!owner_uid.empty()) {
      cm["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                                        {"name", "owner"}, {"uid", owner_uid}, {"controller", true}}});
    }
    return cm;
  };
  ASSERT_TRUE(client()->Create(kNamespaces, "", {{"metadata", {{"name", "other"}}}}).ok());
  ASSERT_TRUE(client()->Create(kConfigMaps, "default", owned("a", "u1")).ok());
  ASSERT_TRUE(client()->Create(kConfigMaps, "default", owned("b", "")).ok());
  ASSERT_TRUE(client()->Create(kConfigMaps, "other", owned("c", "")).ok());
  Informer inf(client(), kConfigMaps);
  inf.AddIndex(Informer::kNamespaceIndex);
  inf.AddIndex(Informer::kControllerIndex);
  inf.AddIndex(Informer::kControllerIndex);  // a second component asking again: no change
  inf.AddIndex("data", [](const Json& o) { return std::vector<std::string>{o["data"].value("k", "")}; });
  Run(&inf);
  ASSERT_TRUE(TestServer::Eventually([&] { return inf.HasSynced(); }));
  auto names = [&](const char* index, const std::string& value) {
    std::set<std::string> out;
    for (const auto& o : inf.ByIndex(index, value)) out.insert((*o)["metadata"].value("name", ""));
    return out;
  };
  using Names = std::set<std::string>;
  EXPECT_EQ(names(Informer::kNamespaceIndex, "default"), (Names{"a", "b"}));
  EXPECT_EQ(names(Informer::kNamespaceIndex, "other"), (Names{"c"}));
  EXPECT_EQ(names(Informer::kControllerIndex, "u1"), (Names{"a"}));
  EXPECT_EQ(names(Informer::kControllerIndex, Informer::OrphansOf("default")), (Names{"b"}));
  EXPECT_EQ(names(Informer::kControllerIndex, Informer::OrphansOf("other")), (Names{"c"}));
  EXPECT_EQ(names("data", "1"), (Names{"a", "b", "c"}));
  EXPECT_TRUE(names("no-such-index", "1").empty());

  // b is adopted, a released to another owner, c deleted.
  ASSERT_TRUE(client()->Update(kConfigMaps, "default", owned("b", "u1")).ok());
  ASSERT_TRUE(client()->Update(kConfigMaps, "default", owned("a", "u2")).ok());
  ASSERT_TRUE(client()->Delete(kConfigMaps, "other", "c").ok());
  EXPECT_TRUE(TestServer::Eventually([&] {
    return names(Informer::kControllerIndex, "u1") == Names{"b"} && names(Informer::kControllerIndex, "u2") == Names{"a"} &&
           names(Informer::kNamespaceIndex, "other").empty();
  }));
  EXPECT_TRUE(names(Informer::kControllerIndex, Informer::OrphansOf("default")).empty());
  EXPECT_TRUE(names(Informer::kControllerIndex, Informer::OrphansOf("other")).empty());
}

// Two components on one informer: both get every event, the store exists once, and
// managedFields are gone from it.
TEST_F(InformerTest, SharedInformersHandOutOneInformerPerResource) {
  ASSERT_TRUE(client()->Create(kConfigMaps, "default", ConfigMap("a", "1")).ok());
  SharedInformers shared(client());
  Informer* first = shared.For(kConfigMaps);
  Informer* second = shared.For(kConfigMaps);
  Informer* nodes = shared.For(kNodes);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, nodes);
  std::atomic<int> adds_a{0}, adds_b{0}, updates_b{0};
  first->AddHandlers({.on_add = [&](const Json&) { ++adds_a; }});
  second->AddHandlers({.on_add = [&](const Json&) { ++adds_b; },
                       .on_update = [&](const Json&, const Json&) { ++updates_b; }});
  shared.Start(stop_);
  ASSERT_TRUE(shared.WaitForSync(stop_));
  EXPECT_TRUE(first->HasSynced() && nodes->HasSynced());
  ASSERT_TRUE(client()->Create(kConfigMaps, "default", ConfigMap("b", "1")).ok());
  ASSERT_TRUE(client()->Update(kConfigMaps, "default", ConfigMap("a", "2")).ok());
  EXPECT_TRUE(TestServer::Eventually([&] { return updates_b == 1 && adds_a == 2 && adds_b == 2; }))
      << adds_a << " " << adds_b << " " << updates_b;
  Json a;
  ASSERT_TRUE(first->Get("default/a", &a));
  EXPECT_EQ(a["data"]["k"], "2");
  stop_ = true;
  shared.Join();
}

// In-process, informers keep the apiserver cache's own objects: two informers of one
// resource hold the same object (one copy per object however many watch it), whole
// (a transform would cost a copy), on the list and on watch events; kinds the cache
// keeps as text (Events) are parsed for each informer, which transforms its copy.
TEST_F(InformerTest, InProcessInformersShareTheCachesObjects) {
  ASSERT_TRUE(client()->Create(kConfigMaps, "default", ConfigMap("listed", "1")).ok());
  Json event = {{"apiVersion", "v1"}, {"kind", "Event"},
                {"metadata", {{"name", "e1"}}}, {"involvedObject", {{"kind", "Pod"}, {"name", "p"}}},
                {"reason", "Test"}, {"message", "hello"}, {"type", "Normal"}};
  ASSERT_TRUE(client()->Create(kEvents, "default", event).ok());
  Informer a(client(), kConfigMaps, "default"), b(client(), kConfigMaps, "default");
  Informer events(client(), kEvents, "default");
  a.SetTransform(KeepMetadataOnly);
  events.SetTransform(KeepMetadataOnly);
  Run(&a);
  Run(&b);
  Run(&events);
  ASSERT_TRUE(TestServer::Eventually([&] { return a.HasSynced() && b.HasSynced() && events.HasSynced(); }));
  ASSERT_TRUE(client()->Create(kConfigMaps, "default", ConfigMap("watched", "1")).ok());
  ASSERT_TRUE(TestServer::Eventually([&] { return a.Get("default/watched") && b.Get("default/watched"); }));
  for (const char* key : {"default/listed", "default/watched"}) {
    Informer::ObjectPtr in_a = a.Get(key), in_b = b.Get(key);
    ASSERT_TRUE(in_a && in_b) << key;
    EXPECT_EQ(in_a.get(), in_b.get()) << key << ": one object, shared";
    EXPECT_EQ((*in_a)["data"]["k"], "1") << key << ": kept whole, the transform is not applied";
  }
  Informer::ObjectPtr e = events.Get("default/e1");
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->contains("message")) << "parsed for this informer: transformed";
}

TEST_F(InformerTest, WaitForSyncReturnsFalseOnceStopped) {
  SharedInformers shared(client());
  shared.For(kConfigMaps);
  std::atomic<bool> stopped{true};
  EXPECT_FALSE(shared.WaitForSync(stopped)) << "never started: only stop ends the wait";
}

TEST(SharedInformersDeathTest, ForAfterStartAborts) {
  EXPECT_DEATH(
      {
        Client client(nullptr);
        SharedInformers shared(&client);
        std::atomic<bool> stop{true};
        shared.Start(stop);
        shared.For(kPods);
      },
      "after Start");
}

}  // namespace
}  // namespace kubes::client
