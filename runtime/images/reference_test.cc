#include "runtime/images/reference.h"

#include <gtest/gtest.h>

namespace kubes::runtime::images {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(ParseReference, Normalizes) {
  const struct {
    std::string in, want;
  } cases[] = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io/library/busybox:1.36"},
      {"library/busybox", "docker.io/library/busybox:latest"},
      {"docker.io/busybox", "docker.io/library/busybox:latest"},
      {"index.docker.io/library/busybox:1", "docker.io/library/busybox:1"},
      {"bitnami/redis:7.2", "docker.io/bitnami/redis:7.2"},
      {"registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"},
      {"registry.k8s.io/e2e-test-images/busybox:1.29-4", "registry.k8s.io/e2e-test-images/busybox:1.29-4"},
      {"localhost/x", "localhost/x:latest"},
      {"localhost:5000/x@" + kDigest, "localhost:5000/x@" + kDigest},
      {"busybox:1.36@" + kDigest, "docker.io/library/busybox@" + kDigest},  // the digest wins
      {"127.0.0.1:5000/a/b/c:v1", "127.0.0.1:5000/a/b/c:v1"},
      {"[::1]:5000/x:1", "[::1]:5000/x:1"},
      {"LOCALDOMAIN/debian", "LOCALDOMAIN/debian:latest"},
      {"docker.io/a.b-c__d---e/f_g.h:TAG_1.x-y", "docker.io/a.b-c__d---e/f_g.h:TAG_1.x-y"},
      {"docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
       "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest"},
  };
  for (const auto& c : cases) {
    Result<Reference> r = ParseReference(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().ToString();
    EXPECT_EQ(r->String(), c.want) << c.in;
  }
}

TEST(ParseReference, Parts) {
  Result<Reference> r = ParseReference("localhost:5000/team/app:v2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registry, "localhost:5000");
  EXPECT_EQ(r->repository, "team/app");
  EXPECT_EQ(r->tag, "v2");
  EXPECT_EQ(r->digest, "");
  EXPECT_EQ(r->Name(), "localhost:5000/team/app");
}

TEST(ParseReference, RejectsWithDockersWording) {
  const struct {
    std::string in, message;
  } cases[] = {
      {"", "invalid reference format"},
      {"Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"},
      {"docker.io/docker/Docker", "invalid reference format: repository name (docker/Docker) must be lowercase"},
      {"https://github.com/docker/docker", "invalid reference format"},
      {"-docker", "invalid reference format"},
      {"docker///docker", "invalid reference format"},
      {"busybox:", "invalid reference format"},
      {"busybox:-x", "invalid reference format"},
      {"busybox@sha256:abc", "invalid reference format"},
      {"busybox@sha256:" + std::string(64, 'A'), "invalid checksum digest format"},
      {"busybox@sha256:" + std::string(63, 'a') + "g", "invalid reference format"},
      {"busybox@md5:" + std::string(32, 'a'), "unsupported digest algorithm"},
      {"busybox@sha256:" + std::string(40, 'a'), "invalid checksum digest length"},
      {"[fc00::1]:5000", "invalid reference format"},
      {"fc00::1:5000/debian", "invalid reference format"},
      {"x:" + std::string(129, 't'), "invalid reference format"},
      {"docker.io/" + std::string(300, 'a'), "repository name must not be more than 255 characters"},
      {std::string(64, 'a'), "invalid repository name (" + std::string(64, 'a') +
                                 "), cannot specify 64-byte hexadecimal strings"},
  };
  for (const auto& c : cases) {
    Result<Reference> r = ParseReference(c.in);
    ASSERT_FALSE(r.ok()) << c.in << " parsed as " << r->String();
    EXPECT_EQ(r.status().code(), Code::kInvalid) << c.in;
    EXPECT_EQ(r.status().message(), c.message) << c.in;
  }
}

}  // namespace
}  // namespace kubes::runtime::images
