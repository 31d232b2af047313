#include "runtime/images/registry.h"

#include <gtest/gtest.h>

#include "runtime/images/oci.h"
#include "runtime/images/testing.h"

namespace kubes::runtime::images {
namespace {

using testing::FakeHttpServer;
using Request = FakeHttpServer::Request;
using Response = FakeHttpServer::Response;

const std::string kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)" +
    std::string(64, 'a') + R"(","size":2},"layers":[]})";

Endpoint At(const FakeHttpServer& server, RegistryAuth auth = {}) {
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  return {"http://" + host + "/v2", host, "library/x", false, std::move(auth), "", {}};
}

TEST(ParseChallenge, Table) {
  Result<Challenge> c = ParseChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->params.at("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c->params.at("service"), "registry.docker.io");
  EXPECT_EQ(c->params.at("scope"), "repository:library/busybox:pull");
  c = ParseChallenge(R"(Basic realm="Registry \"R\"", charset=UTF-8)");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->scheme, "basic");
  EXPECT_EQ(c->params.at("realm"), "Registry \"R\"");
  EXPECT_EQ(c->params.at("charset"), "UTF-8");
  c = ParseChallenge(R"(Bearer realm="r", error="insufficient_scope", Basic realm="x")");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->params.at("error"), "insufficient_scope");
  EXPECT_FALSE(ParseChallenge("").ok());
  EXPECT_FALSE(ParseChallenge(R"(Bearer realm="unterminated)").ok());
  EXPECT_FALSE(ParseChallenge(R"(Bearer =x)").ok());
}

TEST(RegistryClient, BearerTokenWithBasicCredentials) {
  int port = 0;
  FakeHttpServer server([&](const Request& r) -> Response {
    if (r.target.rfind("/token", 0) == 0) {
      if (r.headers.count("authorization") == 0 || r.headers.at("authorization") != "Basic " + Base64Encode("u:p")) {
        return {401, {}, ""};
      }
      return {200, {{"Content-Type", "application/json"}}, R"({"token":"t0k"})"};
    }
    if (r.headers.count("authorization") && r.headers.at("authorization") == "Bearer t0k") {
      return {200, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, kManifest};
    }
    return {401,
            {{"WWW-Authenticate", "Bearer realm=\"http://127.0.0.1:" + std::to_string(port) +
                                      "/token\",service=\"fake\",scope=\"repository:library/x:pull\""}},
            R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
  });
  port = server.port();
  RegistryClient client(At(server, {"u", "p", ""}));
  Result<RegistryClient::Fetched> m = client.FetchManifest("1");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->media_type, kMediaTypeOciManifest);
  EXPECT_EQ(m->digest, testing::Digest(kManifest));
  const std::vector<Request> seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].target, "/v2/library/x/manifests/1");
  EXPECT_NE(seen[0].headers.at("accept").find("application/vnd.oci.image.index.v1+json"), std::string::npos);
  EXPECT_NE(seen[0].headers.at("accept").find("application/vnd.docker.distribution.manifest.v2+json"), std::string::npos);
  EXPECT_EQ(seen[1].target, "/token?scope=repository%3Alibrary%2Fx%3Apull&service=fake");
  // The token is kept for the next request.
  ASSERT_TRUE(client.FetchManifest("1").ok());
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST(RegistryClient, IdentityTokenIsAnOAuthRefreshToken) {
  int port = 0;
  FakeHttpServer server([&](const Request& r) -> Response {
    if (r.method == "POST" && r.target == "/token") {
      if (r.body.find("grant_type=refresh_token") == std::string::npos ||
          r.body.find("refresh_token=s3cret") == std::string::npos) {
        return {401, {}, ""};
      }
      return {200, {}, R"({"access_token":"acc"})"};
    }
    if (r.headers.count("authorization") && r.headers.at("authorization") == "Bearer acc") return {200, {}, kManifest};
    return {401, {{"WWW-Authenticate", "Bearer realm=\"http://127.0.0.1:" + std::to_string(port) + "/token\",service=\"s\""}}, ""};
  });
  port = server.port();
  RegistryClient client(At(server, {"", "", "s3cret"}));
  Result<RegistryClient::Fetched> m = client.FetchManifest("1");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(server.requests()[1].headers.at("content-type"), "application/x-www-form-urlencoded");
}

TEST(RegistryClient, AnonymousTokenRefused) {
  int port = 0;
  FakeHttpServer server([&](const Request& r) -> Response {
    if (r.target.rfind("/token", 0) == 0) return {401, {}, ""};
    return {401, {{"WWW-Authenticate", "Bearer realm=\"http://127.0.0.1:" + std::to_string(port) + "/token\""}}, ""};
  });
  port = server.port();
  RegistryClient client(At(server));
  Result<RegistryClient::Fetched> m = client.FetchManifest("1");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kUnauthorized);
  EXPECT_EQ(m.status().message(), "failed to authorize: failed to fetch anonymous token: unexpected status from GET request to http://127.0.0.1:" +
                                      std::to_string(port) + "/token?scope=repository%3Alibrary%2Fx%3Apull: 401 Unauthorized");
}

TEST(RegistryClient, BasicAuthAndRefusals) {
  FakeHttpServer server([&](const Request& r) -> Response {
    const bool authorized = r.headers.count("authorization") && r.headers.at("authorization") == "Basic " + Base64Encode("u:p");
    if (!authorized) {
      return {401, {{"WWW-Authenticate", "Basic realm=\"fake\""}},
              R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
    }
    if (r.target.find("/manifests/forbidden") != std::string::npos) return {403, {}, ""};
    if (r.target.find("/manifests/missing") != std::string::npos) return {404, {}, ""};
    if (r.target.find("/manifests/broken") != std::string::npos) return {500, {}, ""};
    return {200, {}, kManifest};
  });
  RegistryClient good(At(server, {"u", "p", ""}));
  EXPECT_TRUE(good.FetchManifest("1").ok());
  EXPECT_EQ(good.FetchManifest("missing").status().code(), Code::kNotFound);
  EXPECT_EQ(good.FetchManifest("forbidden").status().code(), Code::kForbidden);
  Result<RegistryClient::Fetched> broken = good.FetchManifest("broken");
  EXPECT_EQ(broken.status().code(), Code::kInternal);
  EXPECT_NE(broken.status().message().find("500 Internal Server Error"), std::string::npos);

  RegistryClient wrong(At(server, {"u", "wrong", ""}));
  Result<RegistryClient::Fetched> denied = wrong.FetchManifest("1");
  EXPECT_EQ(denied.status().code(), Code::kUnauthorized);
  EXPECT_EQ(denied.status().message(), "pull access denied, repository does not exist or may require authorization: "
                                       "server message: unauthorized: authentication required");
  RegistryClient none(At(server));
  EXPECT_EQ(none.FetchManifest("1").status().code(), Code::kUnauthorized);
}

TEST(RegistryClient, VerifiesWhatItFetches) {
  const std::string blob = "layer bytes";
  FakeHttpServer server([&](const Request& r) -> Response {
    if (r.target.find("/blobs/") != std::string::npos) return {200, {}, blob};
    return {200, {}, kManifest};
  });
  RegistryClient client(At(server));
  testing::TempDir dir;
  const std::string path = dir.path() + "/blob";
  EXPECT_TRUE(client.FetchBlob(testing::Digest(blob), static_cast<int64_t>(blob.size()), path).ok());
  EXPECT_EQ(testing::ReadFile(path), blob);
  Status s = client.FetchBlob(testing::Digest("other"), static_cast<int64_t>(blob.size()), path);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("unexpected digest"), std::string::npos) << s.message();
  EXPECT_EQ(client.FetchBlob(testing::Digest(blob), 3, path).code(), Code::kInvalid);
  EXPECT_EQ(client.FetchManifest(testing::Digest("not the manifest")).status().code(), Code::kInvalid);
  EXPECT_TRUE(client.FetchManifest(testing::Digest(kManifest)).ok());
}

TEST(RegistryClient, ConnectionRefusedIsUnavailable) {
  const int port = testing::FreePort();
  RegistryClient client({"http://127.0.0.1:" + std::to_string(port) + "/v2", "127.0.0.1", "library/x", false, {}, "", {}});
  Result<RegistryClient::Fetched> m = client.FetchManifest("1");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kServiceUnavailable);
  EXPECT_NE(m.status().message().find("failed to do request: Get \"http://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace kubes::runtime::images
