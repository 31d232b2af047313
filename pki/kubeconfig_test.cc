#include "pki/kubeconfig.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "pki/base64.h"
#include "pki/files.h"

namespace kubes::pki {
namespace {

Kubeconfig AdminConfig() {
  Kubeconfig c;
  c.server = "https://127.0.0.1:6443";
  c.ca_cert_pem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
  c.client_cert_pem = "-----BEGIN CERTIFICATE-----\nADMIN\n-----END CERTIFICATE-----\n";
  c.client_key_pem = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";
  return c;
}

std::string Decoded(const YAML::Node& node) {
  std::optional<std::string> text = Base64Decode(node.as<std::string>());
  EXPECT_TRUE(text.has_value()) << node.as<std::string>();
  return text.value_or("");
}

TEST(KubeconfigTest, RendersClientcmdV1WithInlineCredentials) {
  Result<std::string> text = RenderKubeconfig(AdminConfig());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  YAML::Node doc = YAML::Load(*text);
  EXPECT_EQ(doc["apiVersion"].as<std::string>(), "v1");
  EXPECT_EQ(doc["kind"].as<std::string>(), "Config");
  EXPECT_EQ(doc["current-context"].as<std::string>(), "kubes");

  ASSERT_EQ(doc["clusters"].size(), 1u);
  EXPECT_EQ(doc["clusters"][0]["name"].as<std::string>(), "kubes");
  const YAML::Node cluster = doc["clusters"][0]["cluster"];
  EXPECT_EQ(cluster["server"].as<std::string>(), "https://127.0.0.1:6443");
  EXPECT_EQ(Decoded(cluster["certificate-authority-data"]), AdminConfig().ca_cert_pem);

  ASSERT_EQ(doc["users"].size(), 1u);
  EXPECT_EQ(doc["users"][0]["name"].as<std::string>(), "kubes-admin");
  const YAML::Node user = doc["users"][0]["user"];
  EXPECT_EQ(Decoded(user["client-certificate-data"]), AdminConfig().client_cert_pem);
  EXPECT_EQ(Decoded(user["client-key-data"]), AdminConfig().client_key_pem);
  EXPECT_FALSE(user["token"]);

  ASSERT_EQ(doc["contexts"].size(), 1u);
  EXPECT_EQ(doc["contexts"][0]["name"].as<std::string>(), "kubes");
  const YAML::Node context = doc["contexts"][0]["context"];
  EXPECT_EQ(context["cluster"].as<std::string>(), "kubes");
  EXPECT_EQ(context["user"].as<std::string>(), "kubes-admin");
  EXPECT_FALSE(context["namespace"]);
}

TEST(KubeconfigTest, TokenUserAndNamespaceAndNamesNeedingQuotes) {
  Kubeconfig c = AdminConfig();
  c.client_cert_pem.clear();
  c.client_key_pem.clear();
  c.token = "0123abcd";
  c.context_namespace = "dev";
  c.user_name = "system:admin";      // ':' must survive YAML
  c.cluster_name = "yes";            // would read as a boolean in YAML 1.1 unquoted
  Result<std::string> text = RenderKubeconfig(c);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  YAML::Node doc = YAML::Load(*text);
  EXPECT_EQ(doc["users"][0]["user"]["token"].as<std::string>(), "0123abcd");
  EXPECT_FALSE(doc["users"][0]["user"]["client-key-data"]);
  EXPECT_EQ(doc["users"][0]["name"].as<std::string>(), "system:admin");
  EXPECT_EQ(doc["clusters"][0]["name"].as<std::string>(), "yes");
  EXPECT_EQ(doc["contexts"][0]["context"]["namespace"].as<std::string>(), "dev");
}

TEST(KubeconfigTest, RejectsIncompleteConfigs) {
  struct Case {
    const char* name;
    std::function<void(Kubeconfig&)> change;
  };
  const Case cases[] = {
      {"no server", [](Kubeconfig& c) { c.server.clear(); }},
      {"no CA", [](Kubeconfig& c) { c.ca_cert_pem.clear(); }},
      {"cert without key", [](Kubeconfig& c) { c.client_key_pem.clear(); }},
      {"no credential",
       [](Kubeconfig& c) {
         c.client_cert_pem.clear();
         c.client_key_pem.clear();
       }},
      {"no context name", [](Kubeconfig& c) { c.context_name.clear(); }},
  };
  for (const Case& k : cases) {
    Kubeconfig c = AdminConfig();
    k.change(c);
    EXPECT_EQ(RenderKubeconfig(c).status().code(), Code::kInvalid) << k.name;
  }
}

TEST(KubeconfigTest, WriteIsPrivateAndReplacesTheOldFile) {
  char tmpl[] = "/tmp/kubes-kubeconfig-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/admin.kubeconfig";
  ASSERT_TRUE(WriteFileAtomic(path, "old", 0644).ok());
  ASSERT_TRUE(WriteKubeconfig(path, AdminConfig()).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<std::string> text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, *RenderKubeconfig(AdminConfig()));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kubes::pki
