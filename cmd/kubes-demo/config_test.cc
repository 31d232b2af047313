#include "config.h"

#include <gtest/gtest.h>

#include <map>

namespace kubes::demo {
namespace {

Getenv FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(LoadConfigTest, DefaultsWhenNothingIsSet) {
  Config c;
  std::string error;
  ASSERT_TRUE(LoadConfig(FakeEnv({}), &c, &error)) << error;
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.tls_port, 8443);
  EXPECT_EQ(c.tls_cert, "/etc/kubes-demo/tls/tls.crt");
  EXPECT_EQ(c.tls_key, "/etc/kubes-demo/tls/tls.key");
  EXPECT_EQ(c.pod.name, "unknown");
  EXPECT_EQ(c.pod.namespace_, "unknown");
  EXPECT_EQ(c.pod.ip, "unknown");
  EXPECT_EQ(c.pod.node, "unknown");
  EXPECT_FALSE(c.ready_after || c.startup_delay || c.fail_healthz_after);
  EXPECT_EQ(c.shutdown_delay, Duration(0));
}

TEST(LoadConfigTest, EverySetting) {
  Config c;
  std::string error;
  ASSERT_TRUE(LoadConfig(FakeEnv({{"PORT", "9000"},
                                  {"TLS_PORT", "9443"},
                                  {"TLS_CERT", "/c.pem"},
                                  {"TLS_KEY", "/k.pem"},
                                  {"POD_NAME", "web-1"},
                                  {"POD_NAMESPACE", "shop"},
                                  {"POD_IP", "10.64.0.9"},
                                  {"NODE_NAME", "node-3"},
                                  {"READY_AFTER", "10s"},
                                  {"STARTUP_DELAY", "1m"},
                                  {"FAIL_HEALTHZ_AFTER", "30"},
                                  {"SHUTDOWN_DELAY", "5s"}}),
                         &c, &error))
      << error;
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.tls_port, 9443);
  EXPECT_EQ(c.tls_cert, "/c.pem");
  EXPECT_EQ(c.tls_key, "/k.pem");
  EXPECT_EQ(c.pod.name, "web-1");
  EXPECT_EQ(c.pod.namespace_, "shop");
  EXPECT_EQ(c.pod.ip, "10.64.0.9");
  EXPECT_EQ(c.pod.node, "node-3");
  EXPECT_EQ(c.ready_after, Duration(10000));
  EXPECT_EQ(c.startup_delay, Duration(60000));
  EXPECT_EQ(c.fail_healthz_after, Duration(30000));
  EXPECT_EQ(c.shutdown_delay, Duration(5000));
}

TEST(LoadConfigTest, EmptyCountsAsUnset) {
  Config c;
  std::string error;
  ASSERT_TRUE(LoadConfig(FakeEnv({{"POD_NAME", ""}, {"PORT", ""}, {"READY_AFTER", ""}}), &c, &error)) << error;
  EXPECT_EQ(c.pod.name, "unknown");
  EXPECT_EQ(c.port, 8080);
  EXPECT_FALSE(c.ready_after);
}

TEST(LoadConfigTest, MalformedValuesNameTheVariable) {
  struct Case {
    std::string name, value, error;
  } cases[] = {
      {"PORT", "http", "PORT: \"http\" is not a port number (1-65535)"},
      {"PORT", "0", "PORT: \"0\" is not a port number (1-65535)"},
      {"PORT", "65536", "PORT: \"65536\" is not a port number (1-65535)"},
      {"TLS_PORT", "-1", "TLS_PORT: \"-1\" is not a port number (1-65535)"},
      {"TLS_PORT", "8080", "PORT and TLS_PORT are both 8080"},
      {"READY_AFTER", "ten", "READY_AFTER: \"ten\" is not a duration (like 10s, 500ms, 1m30s; at most 24h)"},
      {"STARTUP_DELAY", "1d", "STARTUP_DELAY: \"1d\" is not a duration (like 10s, 500ms, 1m30s; at most 24h)"},
      {"FAIL_HEALTHZ_AFTER", "-5s", "FAIL_HEALTHZ_AFTER: \"-5s\" is not a duration (like 10s, 500ms, 1m30s; at most 24h)"},
      {"SHUTDOWN_DELAY", "soon", "SHUTDOWN_DELAY: \"soon\" is not a duration (like 10s, 500ms, 1m30s; at most 24h)"},
  };
  for (const Case& c : cases) {
    Config config;
    std::string error;
    EXPECT_FALSE(LoadConfig(FakeEnv({{c.name, c.value}}), &config, &error)) << c.name << "=" << c.value;
    EXPECT_EQ(error, c.error);
  }
}

TEST(ApplyStartStateTest, DurationsBecomeSchedules) {
  Control::TimePoint now{};
  Control control([&now] { return now; });
  Config c;
  c.ready_after = Duration(10000);
  c.startup_delay = Duration(5000);
  c.fail_healthz_after = Duration(30000);
  ApplyStartState(c, &control);
  EXPECT_EQ(control.Describe(Probe::kReadyz), "fail (ok in 10s)");
  EXPECT_EQ(control.Describe(Probe::kStartupz), "fail (ok in 5s)");
  EXPECT_EQ(control.Describe(Probe::kHealthz), "ok (fail in 30s)");
}

TEST(ApplyStartStateTest, NothingSetLeavesEverythingOk) {
  Control control([] { return Control::TimePoint{}; });
  ApplyStartState(Config{}, &control);
  for (Probe p : kProbes) EXPECT_EQ(control.Describe(p), "ok");
}

}  // namespace
}  // namespace kubes::demo
