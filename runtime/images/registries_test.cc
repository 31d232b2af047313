#include "runtime/images/registries.h"

#include <gtest/gtest.h>

namespace kubes::runtime::images {
namespace {

constexpr char kYaml[] = R"yaml(
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:5000"
      - "https://mirror.example.com/some/prefix"
    rewrite:
      "^library/(.*)": "mirrored/${1}"
  "*":
    endpoint: ["https://catchall.example.com/v2"]
configs:
  "127.0.0.1:5000":
    auth:
      auth: dXNlcjpwYXNz
  mirror.example.com:
    auth: {username: alice, password: secret}
    tls: {insecure_skip_verify: true, ca_file: /etc/ca.pem}
  registry.example.com:
    auth: {identitytoken: refresh-me}
)yaml";

TEST(RegistriesYaml, Parses) {
  Result<RegistriesConfig> c = ParseRegistriesYaml(kYaml);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->mirrors.size(), 2u);
  const Mirror& hub = c->mirrors.at("docker.io");
  EXPECT_EQ(hub.endpoints, (std::vector<std::string>{"http://127.0.0.1:5000", "https://mirror.example.com/some/prefix"}));
  ASSERT_EQ(hub.rewrites.size(), 1u);
  EXPECT_EQ(hub.rewrites[0].second, "mirrored/$1");
  EXPECT_EQ(c->configs.at("127.0.0.1:5000").auth.username, "user");
  EXPECT_EQ(c->configs.at("127.0.0.1:5000").auth.password, "pass");
  EXPECT_TRUE(c->configs.at("mirror.example.com").tls.insecure_skip_verify);
  EXPECT_EQ(c->configs.at("mirror.example.com").tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(c->configs.at("registry.example.com").auth.identity_token, "refresh-me");
  EXPECT_TRUE(ParseRegistriesYaml("").ok());
}

TEST(RegistriesYaml, RejectsMalformed) {
  const char* bad[] = {
      "mirrors: [1, 2]",
      "mirrors: {docker.io: {endpoint: http://x}}",
      "mirrors: {docker.io: {endpoint: [{a: b}]}}",
      "mirrors: {docker.io: {rewrite: {'(': x}}}",
      "configs: {x: {auth: {auth: '!!!'}}}",
      "configs: {x: {auth: {auth: bm9jb2xvbg==}}}",  // "nocolon"
      "configs: {x: {tls: {insecure_skip_verify: maybe}}}",
      "mirrors: {a: b",
      "- just a list",
  };
  for (const char* b : bad) {
    Result<RegistriesConfig> c = ParseRegistriesYaml(b);
    EXPECT_FALSE(c.ok()) << b;
    if (!c.ok()) {
      EXPECT_EQ(c.status().code(), Code::kInvalid) << b;
    }
  }
}

TEST(DockerConfigJson, ParsesPullSecrets) {
  Result<std::vector<Credential>> creds = ParseDockerConfigJson(R"({"auths":{
      "https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz"},
      "registry.example.com:5000": {"username": "bob", "password": "pw"},
      "*.corp.example": {"identitytoken": "tok"}}})");
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  ASSERT_EQ(creds->size(), 3u);
  std::map<std::string, Credential> by;
  for (const Credential& c : *creds) by[c.registry] = c;
  EXPECT_EQ(by.at("docker.io").username, "user");
  EXPECT_EQ(by.at("docker.io").password, "pass");
  EXPECT_EQ(by.at("registry.example.com:5000").username, "bob");
  EXPECT_EQ(by.at("*.corp.example").identity_token, "tok");
  // The legacy .dockercfg form has no "auths" wrapper.
  Result<std::vector<Credential>> legacy = ParseDockerConfigJson(R"({"quay.io": {"auth": "dTpw"}})");
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ((*legacy)[0].registry, "quay.io");
  EXPECT_EQ((*legacy)[0].password, "p");
  EXPECT_FALSE(ParseDockerConfigJson("nope").ok());
  EXPECT_FALSE(ParseDockerConfigJson(R"({"auths":{"x":{"auth":"%%%"}}})").ok());
}

TEST(ResolveEndpoints, MirrorsThenTheRegistry) {
  RegistriesConfig config = *ParseRegistriesYaml(kYaml);
  PullOptions opts{&config, {}};
  Result<std::vector<Endpoint>> e = ResolveEndpoints(*ParseReference("busybox:1.36"), opts);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ((*e)[0].base_url, "http://127.0.0.1:5000/v2");
  EXPECT_EQ((*e)[0].repository, "mirrored/busybox");
  EXPECT_EQ((*e)[0].auth.username, "user");
  EXPECT_EQ((*e)[1].base_url, "https://mirror.example.com/some/prefix/v2");
  EXPECT_TRUE((*e)[1].tls.insecure_skip_verify);
  EXPECT_EQ((*e)[1].auth.username, "alice");
  EXPECT_EQ((*e)[2].base_url, "https://registry-1.docker.io/v2");
  EXPECT_EQ((*e)[2].repository, "library/busybox");  // rewrites apply to mirrors only
  EXPECT_FALSE((*e)[2].mirror);

  // "*" covers registries without their own entry.
  e = ResolveEndpoints(*ParseReference("quay.io/team/app:1"), opts);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].base_url, "https://catchall.example.com/v2");
  EXPECT_EQ((*e)[1].base_url, "https://quay.io/v2");

  config.disable_default_endpoint = true;
  e = ResolveEndpoints(*ParseReference("quay.io/team/app:1"), opts);
  ASSERT_EQ(e->size(), 1u);
  config.mirrors.clear();
  EXPECT_EQ(ResolveEndpoints(*ParseReference("quay.io/team/app:1"), opts).status().code(), Code::kNotFound);
}

TEST(ResolveEndpoints, LoopbackIsPlainHttpAndSecretsWin) {
  PullOptions opts;
  opts.credentials = *ParseDockerConfigJson(R"({"auths":{"localhost:5000":{"auth":"dTpw"},"docker.io":{"auth":"aHViOmh1Yg=="}}})");
  Result<std::vector<Endpoint>> e = ResolveEndpoints(*ParseReference("localhost:5000/x:1"), opts);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)[0].base_url, "http://localhost:5000/v2");
  EXPECT_EQ((*e)[0].auth.username, "u");
  EXPECT_EQ((*ResolveEndpoints(*ParseReference("127.0.0.1:5000/x"), opts))[0].base_url, "http://127.0.0.1:5000/v2");
  EXPECT_EQ((*ResolveEndpoints(*ParseReference("[::1]:5000/x"), opts))[0].base_url, "http://[::1]:5000/v2");
  EXPECT_EQ((*ResolveEndpoints(*ParseReference("example.com:5000/x"), opts))[0].base_url, "https://example.com:5000/v2");
  e = ResolveEndpoints(*ParseReference("busybox"), opts);
  EXPECT_EQ((*e)[0].auth.username, "hub");
}

TEST(Base64, RoundTrips) {
  for (const std::string s : {"", "a", "ab", "abc", "user:pass", "\xff\x00\x10"}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
}

}  // namespace
}  // namespace kubes::runtime::images
