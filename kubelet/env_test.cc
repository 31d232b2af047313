#include "kubelet/env.h"

#include <gtest/gtest.h>

namespace kubes::kubelet {
namespace {

Json Pod() {
  return Json::parse(R"J({"metadata":{"name":"p","namespace":"ns","uid":"u1","labels":{"app":"web","tier":"a"}},
    "spec":{"nodeName":"n1","serviceAccountName":"default","containers":[{"name":"c",
      "resources":{"limits":{"memory":"64Mi"},"requests":{"cpu":"250m"}}}]},
    "status":{"podIP":"10.42.0.5","podIPs":[{"ip":"10.42.0.5"},{"ip":"fd42::5"}],"hostIP":"192.0.2.1"}})J");
}

ObjectSource Objects() {
  ObjectSource o;
  o.config_map = [](const std::string& name) -> Result<std::map<std::string, std::string>> {
    if (name == "cfg") return std::map<std::string, std::string>{{"MODE", "fast"}, {"LEVEL", "3"}};
    return NotFound("configmap \"" + name + "\" not found");
  };
  o.secret = [](const std::string& name) -> Result<std::map<std::string, std::string>> {
    if (name == "s") return std::map<std::string, std::string>{{"password", "hunter2"}};
    return NotFound("secret \"" + name + "\" not found");
  };
  return o;
}

std::string Lookup(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& kv : env) {
    if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
  }
  return "<unset>";
}

TEST(EnvTest, ExpansionRules) {
  auto lookup = [](const std::string& n, std::string* out) {
    if (n != "A") return false;
    *out = "x";
    return true;
  };
  EXPECT_EQ(ExpandReferences("$(A)-$(B)", lookup), "x-$(B)");
  EXPECT_EQ(ExpandReferences("$$(A)", lookup), "$(A)");
  EXPECT_EQ(ExpandReferences("cost $5 $(A", lookup), "cost $5 $(A");
}

TEST(EnvTest, OrderSourcesAndReferences) {
  Json c = Json::parse(R"J({"name":"c","resources":{"limits":{"memory":"64Mi"},"requests":{"cpu":"250m"}},"envFrom":[{"configMapRef":{"name":"cfg"},"prefix":"CFG_"}],
    "env":[{"name":"PATH","value":"/custom"},{"name":"GREETING","value":"hi $(CFG_MODE) $(NOPE)"},
           {"name":"PW","valueFrom":{"secretKeyRef":{"name":"s","key":"password"}}},
           {"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
           {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
           {"name":"IPS","valueFrom":{"fieldRef":{"fieldPath":"status.podIPs"}}},
           {"name":"MEM","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}},
           {"name":"CPU","valueFrom":{"resourceFieldRef":{"resource":"requests.cpu","divisor":"1m"}}},
           {"name":"OPT","valueFrom":{"configMapKeyRef":{"name":"gone","key":"k","optional":true}}}]})J");
  auto env = BuildEnvironment(Pod(), c, {"PATH=/bin", "HOME=/root"}, Objects(), Json::object());
  ASSERT_TRUE(env.ok()) << env.status().message();
  EXPECT_EQ((*env)[0], "PATH=/custom") << "a later definition replaces the image's, in its place";
  EXPECT_EQ(Lookup(*env, "CFG_MODE"), "fast");
  EXPECT_EQ(Lookup(*env, "GREETING"), "hi fast $(NOPE)");
  EXPECT_EQ(Lookup(*env, "PW"), "hunter2");
  EXPECT_EQ(Lookup(*env, "POD"), "p");
  EXPECT_EQ(Lookup(*env, "APP"), "web");
  EXPECT_EQ(Lookup(*env, "IPS"), "10.42.0.5,fd42::5");
  EXPECT_EQ(Lookup(*env, "MEM"), "64");
  EXPECT_EQ(Lookup(*env, "CPU"), "250");
  EXPECT_EQ(Lookup(*env, "OPT"), "<unset>");
}

TEST(EnvTest, MissingReferencesFailLikeUpstream) {
  Json c = Json::parse(R"J({"name":"c","env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"missing","key":"k"}}}]})J");
  auto env = BuildEnvironment(Pod(), c, {}, Objects(), Json::object());
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().message(), "configmap \"missing\" not found");
  c = Json::parse(R"J({"name":"c","env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"nokey"}}}]})J");
  env = BuildEnvironment(Pod(), c, {}, Objects(), Json::object());
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().message(), "couldn't find key nokey in ConfigMap ns/cfg");
}

TEST(EnvTest, CommandFromSpecAndImage) {
  std::vector<std::string> env = {"WHO=world"};
  auto argv = BuildCommand(Json::parse(R"J({"args":["echo hello $(WHO)"]})J"), {"sh", "-c"}, {"default"}, env);
  EXPECT_EQ(*argv, (std::vector<std::string>{"sh", "-c", "echo hello world"}));
  argv = BuildCommand(Json::parse(R"J({"command":["/bin/app"]})J"), {"sh"}, {"x"}, env);
  EXPECT_EQ(*argv, (std::vector<std::string>{"/bin/app"})) << "command drops the image's Cmd";
  argv = BuildCommand(Json::object(), {}, {"nginx", "-g", "daemon off;"}, env);
  EXPECT_EQ(argv->size(), 3u);
  EXPECT_FALSE(BuildCommand(Json::object(), {}, {}, env).ok());
}

}  // namespace
}  // namespace kubes::kubelet
