#include "app.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kubes::demo {
namespace {

using Json = nlohmann::json;

Request Get(const std::string& target) {
  std::string raw = "GET " + target + " HTTP/1.1\r\nUser-Agent: test\r\n\r\n";
  ParseResult p = ParseRequest(raw);
  EXPECT_EQ(p.kind, ParseResult::Kind::kComplete) << p.error;
  p.request.remote = "10.64.0.7:43122";
  return p.request;
}

class AppTest : public ::testing::Test {
 protected:
  AppTest() : app_(Pod(), &control_, [this](Duration d) { slept_.push_back(d); }) {}
  static PodInfo Pod() {
    PodInfo p;
    p.name = "demo-7d9f";
    p.namespace_ = "shop";
    p.ip = "10.64.0.5";
    p.node = "node-3";
    p.hostname = "demo-7d9f";
    return p;
  }
  Response Call(const std::string& target) { return app_.Handle(Get(target)); }

  Control::TimePoint now_{};
  Control control_{[this] { return now_; }};
  std::vector<Duration> slept_;
  App app_;
};

TEST_F(AppTest, RootSaysWhichPodAnsweredAndCounts) {
  Response r = Call("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "kubes-demo 1.0 answered from pod shop/demo-7d9f\n"
            "pod name:  demo-7d9f\nnamespace: shop\npod IP:    10.64.0.5\nnode:      node-3\n"
            "hostname:  demo-7d9f\nclient:    10.64.0.7:43122\nrequest:   1\n");
  Call("/healthz");  // probes do not count
  r = Call("/?format=json");
  EXPECT_EQ(r.content_type, "application/json");
  Json j = Json::parse(r.body);
  EXPECT_EQ(j, Json::parse(R"({"version":"1.0","pod":"demo-7d9f","namespace":"shop","podIP":"10.64.0.5",
      "node":"node-3","hostname":"demo-7d9f","client":"10.64.0.7:43122","request":2})"));
}

TEST_F(AppTest, UnknownPodFieldsSayUnknown) {
  Control control([] { return Control::TimePoint{}; });
  App app(PodInfo{}, &control, [](Duration) {});
  Json j = Json::parse(app.Handle(Get("/?format=json")).body);
  EXPECT_EQ(j["pod"], "unknown");
  EXPECT_EQ(j["podIP"], "unknown");
}

TEST_F(AppTest, ProbesFollowControl) {
  struct Case {
    std::string set;       // control request first ("" for none)
    std::string probe;
    int status;
    std::string body;
    std::vector<Duration> slept;
  } cases[] = {
      {"", "/healthz", 200, "ok\n", {}},
      {"", "/readyz", 200, "ok\n", {}},
      {"", "/startupz", 200, "ok\n", {}},
      {"/control/healthz?state=fail", "/healthz", 503, "healthz is set to fail\n", {}},
      {"/control/healthz?state=ok", "/healthz", 200, "ok\n", {}},
      {"/control/readyz?state=slow:2s", "/readyz", 200, "ok (after 2s)\n", {Duration(2000)}},
      {"/control/startupz?state=fail", "/startupz", 503, "startupz is set to fail\n", {}},
  };
  for (const Case& c : cases) {
    slept_.clear();
    if (!c.set.empty()) {
      EXPECT_EQ(Call(c.set).status, 200) << c.set;
    }
    Response r = Call(c.probe);
    EXPECT_EQ(r.status, c.status) << c.set << " then " << c.probe;
    EXPECT_EQ(r.body, c.body) << c.set << " then " << c.probe;
    EXPECT_EQ(slept_, c.slept) << c.set << " then " << c.probe;
  }
}

TEST_F(AppTest, ControlWithAfterSchedulesTheChange) {
  Response r = Call("/control/healthz?state=fail&after=30s");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "healthz: ok (fail in 30s)\n");
  EXPECT_EQ(Call("/healthz").status, 200);
  now_ += std::chrono::seconds(30);
  EXPECT_EQ(Call("/healthz").status, 503);
}

TEST_F(AppTest, ControlShowsEveryProbe) {
  Call("/control/readyz?state=fail");
  Response r = Call("/control");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.starts_with("healthz: ok\nreadyz: fail\nstartupz: ok\nusage: ")) << r.body;
  Json j = Json::parse(Call("/control?format=json").body);
  EXPECT_EQ(j, Json::parse(R"({"healthz":{"state":"ok"},"readyz":{"state":"fail"},"startupz":{"state":"ok"},
      "shuttingDown":false})"));
  EXPECT_EQ(Call("/control/readyz").body, "readyz: fail\n");
  Call("/control/readyz?state=ok&after=1500ms");
  EXPECT_EQ(Json::parse(Call("/control/readyz?format=json").body),
            Json::parse(R"({"readyz":{"state":"fail","next":"ok","in":"1.5s"}})"));
}

TEST_F(AppTest, ControlErrors) {
  struct Case {
    std::string target;
    int status;
    std::string body_start;
  } cases[] = {
      {"/control/livez?state=fail", 404, "no probe \"livez\"\n"},
      {"/control/readyz?state=broken", 400, "state must be ok, fail or slow:DURATION, not \"broken\"\n"},
      {"/control/readyz?state=slow:forever", 400, "state must be ok, fail or slow:DURATION"},
      {"/control/readyz?state=fail&after=later", 400, "after must be a duration like 30s, not \"later\"\n"},
      {"/control/readyz?after=5s", 400, "after needs a state\n"},
  };
  for (const Case& c : cases) {
    Response r = Call(c.target);
    EXPECT_EQ(r.status, c.status) << c.target;
    EXPECT_TRUE(r.body.starts_with(c.body_start)) << c.target << ": " << r.body;
  }
  for (Probe p : kProbes) EXPECT_EQ(control_.Describe(p), "ok") << "a refused request changes nothing";
}

TEST_F(AppTest, ReadyzFailsOnceShuttingDown) {
  app_.StartShutdown();
  Response r = Call("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "shutting down\n");
  EXPECT_EQ(Call("/healthz").status, 200);
  EXPECT_EQ(Json::parse(Call("/control?format=json").body)["shuttingDown"], true);
}

TEST_F(AppTest, SleepUsesTheSleeper) {
  Response r = Call("/sleep?ms=1500");
  EXPECT_EQ(r.body, "slept 1.5s\n");
  EXPECT_EQ(Call("/sleep").body, "slept 1s\n");
  EXPECT_EQ(slept_, (std::vector<Duration>{Duration(1500), Duration(1000)}));
}

TEST_F(AppTest, CpuBurnsThreadCpuTime) {
  Response r = Call("/cpu?ms=30");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.starts_with("burned 30ms of CPU in ")) << r.body;
}

TEST_F(AppTest, MemHoldsAndFrees) {
  EXPECT_EQ(Call("/mem").body, "holding 0 MiB\n");
  EXPECT_EQ(Call("/mem?mb=8").body, "holding 8 MiB\n");
  EXPECT_EQ(app_.HeldMiB(), 8u);
  EXPECT_EQ(Call("/mem").body, "holding 8 MiB\n");
  EXPECT_EQ(Call("/mem?mb=2").body, "holding 2 MiB\n");
  EXPECT_EQ(Call("/mem?mb=0").body, "holding 0 MiB\n");
  EXPECT_EQ(app_.HeldMiB(), 0u);
}

TEST_F(AppTest, ExitAnswersAndAsksForTheExit) {
  Response r = Call("/exit?code=3");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "exiting with code 3\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(Call("/exit").exit_code, 0);
  EXPECT_EQ(Call("/").exit_code, std::nullopt);
}

TEST_F(AppTest, BadNumbersAreRefused) {
  struct Case {
    std::string target, body;
  } cases[] = {
      {"/cpu?ms=x", "ms must be a whole number in 0..60000, not \"x\"\n"},
      {"/cpu?ms=60001", "ms must be a whole number in 0..60000, not \"60001\"\n"},
      {"/sleep?ms=-1", "ms must be a whole number in 0..600000, not \"-1\"\n"},
      {"/mem?mb=1.5", "mb must be a whole number in 0..65536, not \"1.5\"\n"},
      {"/mem?mb=", "mb must be a whole number in 0..65536, not \"\"\n"},
      {"/exit?code=256", "code must be a whole number in 0..255, not \"256\"\n"},
      {"/exit?code=99999999999999999999", "code must be a whole number in 0..255, not \"99999999999999999999\"\n"},
  };
  for (const Case& c : cases) {
    Response r = Call(c.target);
    EXPECT_EQ(r.status, 400) << c.target;
    EXPECT_EQ(r.body, c.body) << c.target;
    EXPECT_EQ(r.exit_code, std::nullopt) << c.target;
  }
  EXPECT_TRUE(slept_.empty());
}

TEST_F(AppTest, HeadersAreEchoed) {
  ParseResult p = ParseRequest("GET /headers?x=1 HTTP/1.1\r\nHost: pod\r\nX-Probe: liveness\r\nX-Probe: again\r\n\r\n");
  ASSERT_EQ(p.kind, ParseResult::Kind::kComplete);
  EXPECT_EQ(app_.Handle(p.request).body, "GET /headers?x=1 HTTP/1.1\nHost: pod\nX-Probe: liveness\nX-Probe: again\n");
  p = ParseRequest("GET /headers?format=json HTTP/1.1\r\nX-Probe: liveness\r\nX-Probe: again\r\nX-Bin: \xff\r\n\r\n");
  ASSERT_EQ(p.kind, ParseResult::Kind::kComplete);
  Json j = Json::parse(app_.Handle(p.request).body);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["target"], "/headers?format=json");
  EXPECT_EQ(j["headers"]["X-Probe"], "liveness, again");
  EXPECT_EQ(j["headers"]["X-Bin"], "\xef\xbf\xbd") << "invalid UTF-8 is replaced, not thrown";
}

TEST_F(AppTest, UnknownPathsAndMethods) {
  Response r = Call("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.starts_with("not found: /nope\n")) << r.body;
  Request del = Get("/");
  del.method = "DELETE";
  EXPECT_EQ(app_.Handle(del).status, 405);
  Request post = Get("/control/readyz?state=fail");
  post.method = "POST";
  EXPECT_EQ(app_.Handle(post).status, 200);
  EXPECT_EQ(Call("/readyz").status, 503);
}

}  // namespace
}  // namespace kubes::demo
