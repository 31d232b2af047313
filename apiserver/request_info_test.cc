#include "apiserver/request_info.h"

#include <gtest/gtest.h>

namespace kubes::apiserver {
namespace {

RequestInfo Parse(const std::string& method, const std::string& path, const std::string& watch = "") {
  Request r;
  r.method = method;
  r.path = path;
  if (!watch.empty()) r.query.emplace("watch", watch);
  return ParseRequestInfo(r);
}

TEST(RequestInfoTest, Paths) {
  struct Case {
    std::string method, path, watch;
    std::string group, version, ns, resource, name, sub, verb;
  };
  const Case cases[] = {
      {"GET", "/api/v1/pods", "", "", "v1", "", "pods", "", "", "list"},
      {"GET", "/api/v1/namespaces/default/pods", "true", "", "v1", "default", "pods", "", "", "watch"},
      {"GET", "/api/v1/namespaces/default/pods/web", "", "", "v1", "default", "pods", "web", "", "get"},
      {"PATCH", "/apis/apps/v1/namespaces/ns/deployments/web/scale", "", "apps", "v1", "ns", "deployments", "web", "scale", "patch"},
      {"GET", "/api/v1/namespaces/foo", "", "", "v1", "foo", "namespaces", "foo", "", "get"},
      {"PUT", "/api/v1/namespaces/foo/finalize", "", "", "v1", "foo", "namespaces", "foo", "finalize", "update"},
      {"DELETE", "/api/v1/namespaces/x/configmaps", "", "", "v1", "x", "configmaps", "", "", "deletecollection"},
      {"POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "", "rbac.authorization.k8s.io", "v1", "", "clusterroles", "", "", "create"},
  };
  for (const auto& c : cases) {
    RequestInfo i = Parse(c.method, c.path, c.watch);
    EXPECT_TRUE(i.is_resource_request) << c.path;
    EXPECT_EQ(i.group, c.group) << c.path;
    EXPECT_EQ(i.version, c.version) << c.path;
    EXPECT_EQ(i.namespace_, c.ns) << c.path;
    EXPECT_EQ(i.resource, c.resource) << c.path;
    EXPECT_EQ(i.name, c.name) << c.path;
    EXPECT_EQ(i.subresource, c.sub) << c.path;
    EXPECT_EQ(i.verb, c.verb) << c.path;
  }
  EXPECT_FALSE(Parse("GET", "/apis/apps").is_resource_request);
  EXPECT_FALSE(Parse("GET", "/api").is_resource_request);
}

}  // namespace
}  // namespace kubes::apiserver
