#include "runtime/images/oci.h"

#include <gtest/gtest.h>

namespace kubes::runtime::images {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

TEST(Oci, ParsesADockerManifest) {
  const std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":")" + kA + R"("},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":9,"digest":")" + kB + R"("}]})";
  Result<Manifest> m = ParseManifest(body);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->media_type, kMediaTypeDockerManifest);
  EXPECT_EQ(m->config.digest, kA);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 9);
  EXPECT_EQ(*ManifestMediaType(body, ""), kMediaTypeDockerManifest);
}

TEST(Oci, SelectsThePlatform) {
  const std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kA + R"(","size":1,
     "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kB + R"(","size":1,
     "platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kC + R"(","size":1,
     "platform":{"os":"unknown","architecture":"unknown"}}]})";
  Result<Index> index = ParseIndex(body);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(SelectPlatform(*index, {"linux", "amd64", ""})->digest, kB);
  EXPECT_EQ(SelectPlatform(*index, {"linux", "arm64", "v8"})->digest, kA);
  Result<Descriptor> none = SelectPlatform(*index, {"linux", "s390x", ""});
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_EQ(none.status().message(), "no match for platform in manifest: not found");
  EXPECT_EQ(*ManifestMediaType(body, ""), kMediaTypeOciIndex);
}

TEST(Oci, MediaTypeFromContentTypeOrShape) {
  EXPECT_EQ(*ManifestMediaType(R"({"manifests":[]})", ""), kMediaTypeOciIndex);
  EXPECT_EQ(*ManifestMediaType(R"({"layers":[]})", ""), kMediaTypeOciManifest);
  EXPECT_EQ(*ManifestMediaType(R"({"schemaVersion":2})", std::string(kMediaTypeDockerList) + "; charset=utf-8"),
            kMediaTypeDockerList);
  EXPECT_NE(ManifestMediaType(R"({"schemaVersion":1,"fsLayers":[]})", "").status().message().find("schema 1"),
            std::string::npos);
}

TEST(Oci, ParsesTheConfig) {
  const std::string body = R"({"architecture":"amd64","os":"linux","config":{"Entrypoint":["/docker-entrypoint.sh"],
    "Cmd":["nginx","-g","daemon off;"],"Env":["PATH=/usr/bin"],"WorkingDir":"/srv","User":"101:101",
    "Labels":{"a":"b"},"StopSignal":"SIGQUIT","ExposedPorts":{"80/tcp":{}}},
    "rootfs":{"type":"layers","diff_ids":[")" + kA + R"("]}})";
  Result<ConfigFile> c = ParseConfig(body);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.entrypoint, std::vector<std::string>{"/docker-entrypoint.sh"});
  EXPECT_EQ(c->config.cmd, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(c->config.working_dir, "/srv");
  EXPECT_EQ(c->config.user, "101:101");
  EXPECT_EQ(c->config.labels.at("a"), "b");
  EXPECT_EQ(c->config.stop_signal, "SIGQUIT");
  EXPECT_EQ(c->platform.architecture, "amd64");
  EXPECT_EQ(c->diff_ids, std::vector<std::string>{kA});
}

TEST(Oci, RejectsMalformedDocuments) {
  const std::string bad[] = {
      "", "[]", "{", R"({"config":{"digest":"sha256:abc"}})", R"({"config":{"digest":")" + kA + R"(","size":-1}})",
      R"({"config":{"digest":")" + kA + R"("},"layers":{}})", R"({"config":"x"})",
  };
  for (const std::string& b : bad) EXPECT_EQ(ParseManifest(b).status().code(), Code::kInvalid) << b;
  EXPECT_FALSE(ParseConfig(R"({"rootfs":{"diff_ids":["nope"]}})").ok());
  EXPECT_FALSE(ParseConfig(R"({"rootfs":{"diff_ids":[]},"config":{"Cmd":"sh"}})").ok());
  EXPECT_FALSE(ParseConfig(R"({"config":{}})").ok());
  EXPECT_FALSE(ParseDockerSaveManifest(R"([{"RepoTags":["x"]}])").ok());
  EXPECT_FALSE(ParseIndex(R"({"manifests":[{"digest":")" + kA + R"(","platform":{"os":1}}]})").ok());
}

TEST(Oci, DockerSaveManifest) {
  Result<std::vector<DockerSaveEntry>> e =
      ParseDockerSaveManifest(R"([{"Config":"abc.json","RepoTags":["busybox:latest"],"Layers":["1/layer.tar"]}])");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].config, "abc.json");
  EXPECT_EQ((*e)[0].repo_tags, std::vector<std::string>{"busybox:latest"});
  EXPECT_EQ((*e)[0].layers, std::vector<std::string>{"1/layer.tar"});
}

}  // namespace
}  // namespace kubes::runtime::images
