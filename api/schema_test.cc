#include "api/schema.h"

#include <gtest/gtest.h>

namespace kubes::api {
namespace {

const char* kMeta = R"(package io.k8s.apimachinery.pkg.apis.meta.v1
group meta
version v1
type ObjectMeta "Metadata."
  name  string  1  "The name."
  labels map[string]string 11 "Labels."
)";

const char* kApps = R"(package io.k8s.api.apps.v1
group apps
version v1

type Deployment object "Keeps Pods running."
  metadata meta.ObjectMeta 1 "Metadata."
  spec DeploymentSpec 2 "Desired state."

type DeploymentSpec "Desired state."
  replicas int32 1 ptr default=1 "How many."   # trailing comment
  paused bool 7 "Stop rollouts."
  containers []Container 3 merge=name "Containers."
  hosts []string 4 "Hosts \"quoted\"."
  policy string 5 enum=A|B|C "Policy."

type Container "A container."
  name string 1 required "Name."
)";

TEST(SchemaTest, ParsesAndResolves) {
  auto reg = SchemaRegistry::Parse({{"meta.schema", kMeta}, {"apps.schema", kApps}});
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  const TypeSchema* d = (*reg)->FindKind("apps", "v1", "Deployment");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->is_object);
  ASSERT_NE(d->Field("apiVersion"), nullptr);  // added for objects
  ASSERT_NE(d->Field("metadata"), nullptr);
  EXPECT_EQ(d->Field("metadata")->type.object->name, "ObjectMeta");
  const TypeSchema* spec = d->Field("spec")->type.object;
  ASSERT_NE(spec, nullptr);
  const FieldSchema* replicas = spec->Field("replicas");
  EXPECT_TRUE(replicas->ptr);
  EXPECT_EQ(replicas->default_value, "1");
  EXPECT_EQ(replicas->proto, 1);
  EXPECT_EQ(replicas->description, "How many.");
  const FieldSchema* containers = spec->Field("containers");
  EXPECT_EQ(containers->list_type, "map");  // merge key implies a list-map for apply
  EXPECT_EQ(containers->list_keys, std::vector<std::string>{"name"});
  EXPECT_EQ(containers->patch_strategy, "merge");
  EXPECT_EQ(containers->type.elem->object->name, "Container");
  EXPECT_EQ(spec->Field("hosts")->list_type, "atomic");
  EXPECT_EQ(spec->Field("hosts")->description, "Hosts \"quoted\".");
  EXPECT_EQ(spec->Field("policy")->enum_values, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(d->OpenAPIName(), "io.k8s.api.apps.v1.Deployment");
}

TEST(SchemaTest, ErrorsNameFileAndLine) {
  struct Case { const char* text; const char* want; };
  const Case cases[] = {
      {"package p\ntype A \"a\"\n  x Missing 1 \"x\"\n", "p.A.x: unknown type Missing"},
      {"package p\ntype A \"a\"\n  x string 0 \"x\"\n", "f.schema:3: bad protobuf number"},
      {"package p\ntype A \"a\"\n  x string 1 bogus \"x\"\n", "f.schema:3: unknown flag \"bogus\""},
      {"package p\ntype A \"a\"\n  x string 1 \"x\"\n  x string 2 \"y\"\n", "f.schema:4: duplicate field"},
      {"type A \"a\"\n", "f.schema:1: 'package' must come before"},
      {"package p\n  x string 1\n", "f.schema:2: field line outside a type"},
      {"package p\ntype A \"a\n", "f.schema:2: unterminated string"},
  };
  for (const auto& c : cases) {
    auto reg = SchemaRegistry::Parse({{"f.schema", c.text}});
    ASSERT_FALSE(reg.ok()) << c.text;
    EXPECT_NE(reg.status().message().find(c.want), std::string::npos)
        << "got: " << reg.status().message() << "\nwant: " << c.want;
  }
}

TEST(SchemaTest, BuiltInSchemaParses) {
  const SchemaRegistry& reg = SchemaRegistry::BuiltIn();
  EXPECT_GT(reg.types().size(), 0u);
}

}  // namespace
}  // namespace kubes::api
