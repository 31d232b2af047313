#include "api/protobuf.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

namespace kubes::api {
namespace {

// ---------------------------------------------------------------- a tiny protobuf encoder

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string Key(int number, int wire) { return Varint((static_cast<uint64_t>(number) << 3) | wire); }
// A varint field; negative numbers are sign-extended to 64 bits as protobuf does.
std::string V(int number, int64_t v) { return Key(number, 0) + Varint(static_cast<uint64_t>(v)); }
// A length-delimited field (string, bytes, message, packed list, map entry).
std::string L(int number, std::string_view payload) {
  return Key(number, 2) + Varint(payload.size()) + std::string(payload);
}
std::string F64(int number, double d) {
  uint64_t bits = std::bit_cast<uint64_t>(d);
  std::string out = Key(number, 1);
  for (int i = 0; i < 8; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
  return out;
}
std::string Entry(std::string_view key, std::string_view value_field) { return L(1, key) + std::string(value_field); }
// The request body kubectl sends: magic + runtime.Unknown{typeMeta, raw}.
std::string Body(std::string_view api_version, std::string_view kind, std::string_view raw) {
  return std::string(kProtobufMagic) + L(1, L(1, api_version) + L(2, kind)) + L(2, raw) +
         L(4, "application/vnd.kubernetes.protobuf");
}

// ---------------------------------------------------------------- a small schema

const char* kWidgets = R"(package io.example.widgets.v1
group example.com
version v1

type Widget object "A widget."
  metadata  Meta        1  "Metadata."
  spec      WidgetSpec  2  "Spec."

type Meta "Metadata."
  name               string             1   "Name."
  creationTimestamp  Time               8   "Created."
  labels             map[string]string  11  "Labels."

type WidgetSpec "Spec."
  replicas  int32                1   ptr "Pointer int."
  count     int32                2   "Plain int."
  big       int64                3   "Int64."
  enabled   bool                 4   "Plain bool."
  ratio     double               5   "Double."
  note      string               6   "String."
  blob      bytes                7   "Bytes."
  ports     []int32              8   "Numbers."
  names     []string             9   "Strings."
  limits    map[string]Quantity  10  "Quantities."
  port      IntOrString          11  ptr "Int or string."
  started   Time                 12  ptr "Time."
  renewed   MicroTime            13  ptr "MicroTime."
  timeout   Duration             14  ptr "Duration."
  raw       RawExtension         15  "Raw."
  value     any                  16  ptr "Any."
  extra     map[string][]string  17  "Map of lists."
  items     []Item               18  "Messages."
  child     Item                 19  "Message."
  flag      bool                 21  ptr "Pointer bool."
  hostPath  Item                 1   inline=20 ptr "Inline message."
  nfs       Item                 2   inline=20 ptr "Inline message."
  target    string               3   inline=20 "Inline scalar."
  node      Node                 22  ptr "Recursive."

type Item "An item."
  name  string  1  "Name."
  size  int32   2  "Size."

type Node "A node of a chain."
  next  Node  1  ptr "Next."
)";

const char* kCore = R"(package io.k8s.api.core.v1
group core
version v1
type Thing object "A core thing."
  metadata  io.example.widgets.v1.Meta  1  "Metadata."
)";

const SchemaRegistry& TestRegistry() {
  static const std::unique_ptr<SchemaRegistry> reg = [] {
    auto r = SchemaRegistry::Parse({{"widgets.schema", kWidgets}, {"core.schema", kCore}});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(r).value() : nullptr;
  }();
  return *reg;
}

// Decodes a WidgetSpec message wrapped in a Widget body and returns the spec.
Json DecodeSpec(const std::string& spec, std::vector<UnknownProtobufField>* unknown = nullptr) {
  auto obj = DecodeProtobufObject(Body("example.com/v1", "Widget", L(2, spec)), TestRegistry(), unknown);
  EXPECT_TRUE(obj.ok()) << obj.status().message();
  return obj.ok() ? (*obj)["spec"] : Json();
}

// ---------------------------------------------------------------- tests

TEST(ProtobufTest, EnvelopeGivesApiVersionAndKind) {
  std::string meta = L(1, "w1") + L(8, "") + L(11, Entry("app", L(2, "web"))) + L(11, Entry("tier", L(2, "")));
  auto obj = DecodeProtobufObject(Body("example.com/v1", "Widget", L(1, meta)), TestRegistry());
  ASSERT_TRUE(obj.ok()) << obj.status().message();
  // creationTimestamp is an empty (zero) Time: left out; an empty label value is kept.
  EXPECT_EQ(*obj, Json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget",
                                  "metadata":{"name":"w1","labels":{"app":"web","tier":""}}})"));

  auto core = DecodeProtobufObject(Body("v1", "Thing", L(1, L(1, "t"))), TestRegistry());
  ASSERT_TRUE(core.ok()) << core.status().message();
  EXPECT_EQ(*core, Json::parse(R"({"apiVersion":"v1","kind":"Thing","metadata":{"name":"t"}})"));

  auto empty = DecodeProtobufObject(std::string(kProtobufMagic) + L(1, L(1, "v1") + L(2, "Thing")), TestRegistry());
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(*empty, Json::parse(R"({"apiVersion":"v1","kind":"Thing"})"));
}

TEST(ProtobufTest, ScalarsFollowOmitEmpty) {
  struct Case { const char* name; std::string spec; const char* want; };
  const Case cases[] = {
      {"ptr zero kept", V(1, 0), R"({"replicas":0})"},
      {"plain zero dropped", V(2, 0), R"({})"},
      {"negative int32 (10-byte varint)", V(2, -5), R"({"count":-5})"},
      {"int32 keeps low 32 bits", V(2, 0x100000007), R"({"count":7})"},
      {"int64", V(3, -9000000000), R"({"big":-9000000000})"},
      {"false dropped", V(4, 0), R"({})"},
      {"true kept", V(4, 1), R"({"enabled":true})"},
      {"ptr false kept", V(21, 0), R"({"flag":false})"},
      {"double", F64(5, 1.5), R"({"ratio":1.5})"},
      {"zero double dropped", F64(5, 0), R"({})"},
      {"empty string dropped", L(6, ""), R"({})"},
      {"string", L(6, "hi"), R"({"note":"hi"})"},
      {"bad utf-8 replaced", L(6, "a\xff" "b"), "{\"note\":\"a\xef\xbf\xbd" "b\"}"},
      {"bytes are base64", L(7, std::string("\x00\xff", 2)), R"({"blob":"AP8="})"},
      {"last occurrence wins", V(2, 3) + V(2, 4), R"({"count":4})"},
      {"later zero clears", V(2, 3) + V(2, 0), R"({})"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(DecodeSpec(c.spec), Json::parse(c.want)) << c.name;
  }
}

TEST(ProtobufTest, ListsAndMaps) {
  struct Case { const char* name; std::string spec; const char* want; };
  const Case cases[] = {
      {"unpacked", V(8, 1) + V(8, 0), R"({"ports":[1,0]})"},
      {"packed", L(8, Varint(1) + Varint(2) + Varint(static_cast<uint64_t>(-3))), R"({"ports":[1,2,-3]})"},
      {"packed and unpacked mixed", V(8, 1) + L(8, Varint(2)), R"({"ports":[1,2]})"},
      {"strings keep empties", L(9, "a") + L(9, ""), R"({"names":["a",""]})"},
      {"messages", L(18, L(1, "x")) + L(18, ""), R"({"items":[{"name":"x"},{}]})"},
      {"quantities", L(10, Entry("cpu", L(2, L(1, "500m")))) + L(10, Entry("memory", L(2, ""))),
       R"({"limits":{"cpu":"500m","memory":"0"}})"},
      {"map value before key, missing value", L(10, L(2, L(1, "1")) + L(1, "a")) + L(10, L(1, "b")),
       R"({"limits":{"a":"1","b":"0"}})"},
      {"map of lists uses a wrapper", L(17, Entry("groups", L(2, L(1, "x") + L(1, "y")))),
       R"({"extra":{"groups":["x","y"]}})"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(DecodeSpec(c.spec), Json::parse(c.want)) << c.name;
  }
}

TEST(ProtobufTest, BuiltInEncodings) {
  struct Case { const char* name; std::string spec; const char* want; };
  const Case cases[] = {
      {"IntOrString int", L(11, V(1, 0) + V(2, 8080)), R"({"port":8080})"},
      {"IntOrString zero int kept", L(11, ""), R"({"port":0})"},
      {"IntOrString string", L(11, V(1, 1) + L(3, "http")), R"({"port":"http"})"},
      {"Time", L(12, V(1, 1704164645) + V(2, 999)), R"({"started":"2024-01-02T03:04:05Z"})"},
      {"Time at the epoch", L(12, V(2, 5)), R"({"started":"1970-01-01T00:00:00Z"})"},
      {"Time before the epoch", L(12, V(1, -86399)), R"({"started":"1969-12-31T00:00:01Z"})"},
      {"Time leap day", L(12, V(1, 951782400)), R"({"started":"2000-02-29T00:00:00Z"})"},
      {"zero Time left out", L(12, ""), R"({})"},
      {"MicroTime", L(13, V(1, 1704164645) + V(2, 123456789)), R"({"renewed":"2024-01-02T03:04:05.123456Z"})"},
      {"MicroTime whole", L(13, V(1, 1704164645)), R"({"renewed":"2024-01-02T03:04:05.000000Z"})"},
      {"RawExtension", L(15, L(1, R"({"a":[1,2]})")), R"({"raw":{"a":[1,2]}})"},
      {"any scalar", L(16, L(1, "true")), R"({"value":true})"},
      {"empty raw left out", L(15, ""), R"({})"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(DecodeSpec(c.spec), Json::parse(c.want)) << c.name;
  }
}

TEST(ProtobufTest, DurationsSpelledAsGo) {
  struct Case { int64_t nanos; const char* want; };
  const Case cases[] = {
      {0, "0s"},
      {1, "1ns"},
      {999, "999ns"},
      {1500, "1.5\xc2\xb5s"},
      {500000000, "500ms"},
      {1500000, "1.5ms"},
      {1500000000, "1.5s"},
      {60000000000, "1m0s"},
      {3723000000000, "1h2m3s"},
      {3600000000001, "1h0m0.000000001s"},
      {-3600000000000, "-1h0m0s"},
      {INT64_MIN, "-2562047h47m16.854775808s"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(DecodeSpec(L(14, V(1, c.nanos))), Json({{"timeout", c.want}})) << c.nanos;
  }
}

TEST(ProtobufTest, MessagesAndInlineFields) {
  // A present but empty message is kept as {}; repeated occurrences merge.
  EXPECT_EQ(DecodeSpec(L(19, "")), Json::parse(R"({"child":{}})"));
  EXPECT_EQ(DecodeSpec(L(19, L(1, "a")) + L(19, V(2, 3))), Json::parse(R"({"child":{"name":"a","size":3}})"));
  // Field 20 is an embedded message whose fields sit directly in the spec.
  std::string inline_msg = L(1, L(1, "data")) + L(3, "disk");
  EXPECT_EQ(DecodeSpec(V(2, 1) + L(20, inline_msg)),
            Json::parse(R"({"count":1,"hostPath":{"name":"data"},"target":"disk"})"));
  // Inside the embedded message only inline fields are known: 2 is nfs, not count.
  EXPECT_EQ(DecodeSpec(L(20, L(2, ""))), Json::parse(R"({"nfs":{}})"));
}

TEST(ProtobufTest, UnknownFieldsAreSkippedAndReported) {
  std::vector<UnknownProtobufField> unknown;
  std::string spec = V(99, 1) + F64(98, 2) + Key(97, 5) + "abcd" + L(18, L(1, "x") + V(7, 1)) + V(99, 2) + V(2, 4);
  auto body = Body("example.com/v1", "Widget", L(2, spec) + L(30, "zz"));
  auto obj = DecodeProtobufObject(body, TestRegistry(), &unknown);
  ASSERT_TRUE(obj.ok()) << obj.status().message();
  EXPECT_EQ((*obj)["spec"], Json::parse(R"({"items":[{"name":"x"}],"count":4})"));
  std::vector<std::pair<std::string, int>> got;
  for (const auto& u : unknown) got.emplace_back(u.path, u.number);
  std::vector<std::pair<std::string, int>> want = {
      {"spec", 99}, {"spec", 98}, {"spec", 97}, {"spec.items[0]", 7}, {"", 30}};
  EXPECT_EQ(got, want);
}

std::string Chain(int depth) {
  std::string node;
  for (int i = 0; i < depth; ++i) node = L(1, node);
  return node;
}

TEST(ProtobufTest, RejectsMalformedInput) {
  std::string magic(kProtobufMagic);
  auto widget = [](const std::string& raw) { return Body("example.com/v1", "Widget", raw); };
  auto spec = [&](const std::string& fields) { return widget(L(2, fields)); };
  struct Case { const char* name; std::string body; const char* want; };
  const Case cases[] = {
      {"empty", "", "empty data"},
      {"no magic", "{\"kind\":\"Pod\"}", "does not appear to be a protobuf message"},
      {"magic only", magic, "empty body"},
      {"no kind", magic + L(1, L(1, "v1")), "Object 'Kind' is missing"},
      {"no apiVersion", magic + L(1, L(2, "Thing")), "Object 'apiVersion' is missing"},
      {"unknown kind", Body("apps/v1", "Widget", ""), "no kind \"Widget\" is registered for version \"apps/v1\""},
      {"truncated envelope", magic + Key(2, 2) + Varint(10) + "abc", "unexpected end of data"},
      {"truncated varint", Body("v1", "Thing", "\x28\xff"), "unexpected end of data"},
      {"length past the end", widget(Key(2, 2) + Varint(1000)), "unexpected end of data"},
      {"huge length", widget(Key(2, 2) + Varint(UINT64_MAX)), "unexpected end of data"},
      {"group wire type", widget(Key(2, 3) + Key(2, 4)), "groups"},
      {"end group", widget(Key(5, 4)), "groups"},
      {"field number 0", widget(Key(0, 0) + Varint(1)), "illegal field number 0"},
      {"wrong wire type", spec(L(2, "x")), "spec.count: wire type length-delimited, want varint"},
      {"wrong wire in Quantity", spec(L(10, Entry("cpu", L(2, V(1, 5))))), "field 1: wire type varint"},
      {"varint too long", spec(Key(2, 0) + std::string(10, '\xff') + "\x01"), "varint longer"},
      {"raw not JSON", spec(L(15, L(1, "k8s"))), "not JSON"},
      {"deep raw JSON", spec(L(15, L(1, std::string(200, '[')))), "nests too deeply"},
      {"nesting too deep", spec(L(22, Chain(120))), "nesting deeper than 100"},
      {"time out of range", spec(L(12, V(1, INT64_MAX))), "out of range"},
      {"not finite", spec(F64(5, INFINITY)), "not finite"},
  };
  for (const auto& c : cases) {
    auto obj = DecodeProtobufObject(c.body, TestRegistry());
    ASSERT_FALSE(obj.ok()) << c.name;
    EXPECT_EQ(obj.status().code(), Code::kBadRequest) << c.name;
    EXPECT_NE(obj.status().message().find(c.want), std::string::npos)
        << c.name << ": got " << obj.status().message() << ", want " << c.want;
  }
  // A chain well inside the limit decodes.
  auto ok = DecodeProtobufObject(spec(L(22, Chain(90))), TestRegistry());
  EXPECT_TRUE(ok.ok()) << ok.status().message();
}

// ObjectMeta as gogo writes it for a new object: every non-pointer field is present,
// even when empty (creationTimestamp is an empty Time message).
std::string NewObjectMeta(std::string_view name, std::string_view ns, const std::string& labels) {
  return L(1, name) + L(2, "") + L(3, ns) + L(4, "") + L(5, "") + L(6, "") + V(7, 0) + L(8, "") + labels;
}

TEST(ProtobufTest, BuiltInRegistryConfigMapAndDeployment) {
  const SchemaRegistry& reg = SchemaRegistry::BuiltIn();

  std::string config_map = L(1, NewObjectMeta("cfg", "default", L(11, Entry("app", L(2, "web"))))) +
                           L(2, Entry("key", L(2, "value"))) + L(2, Entry("empty", L(2, "")));
  auto cm = DecodeProtobufObject(Body("v1", "ConfigMap", config_map), reg);
  ASSERT_TRUE(cm.ok()) << cm.status().message();
  EXPECT_EQ(*cm, Json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"cfg","namespace":"default","labels":{"app":"web"}},
      "data":{"key":"value","empty":""}})"));

  std::string labels = L(11, Entry("app", L(2, "web")));
  std::string port = L(1, "") + V(2, 0) + V(3, 80) + L(4, "TCP") + L(5, "");
  std::string resources = L(1, Entry("cpu", L(2, L(1, "500m")))) + L(1, Entry("memory", L(2, L(1, "128Mi"))));
  std::string container = L(1, "app") + L(2, "nginx:1.27") + L(6, port) + L(8, resources) + V(16, 0);
  std::string pod_spec = L(2, container) + L(3, "") + V(4, 30);
  std::string template_spec = L(1, NewObjectMeta("", "", labels)) + L(2, pod_spec);
  std::string spec = V(1, 0) + L(2, L(1, Entry("app", L(2, "web")))) + L(3, template_spec) + L(4, "") + V(5, 0) +
                     V(7, 0);
  std::string deployment = L(1, NewObjectMeta("web", "default", "")) + L(2, spec) + L(3, "");
  auto d = DecodeProtobufObject(Body("apps/v1", "Deployment", deployment), reg);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(*d, Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"default"},
      "spec":{
        "replicas":0,
        "selector":{"matchLabels":{"app":"web"}},
        "template":{
          "metadata":{"labels":{"app":"web"}},
          "spec":{
            "terminationGracePeriodSeconds":30,
            "containers":[{
              "name":"app","image":"nginx:1.27",
              "ports":[{"containerPort":80,"protocol":"TCP"}],
              "resources":{"limits":{"cpu":"500m","memory":"128Mi"}}}]}},
        "strategy":{}},
      "status":{}})")) << d->dump(2);
}

}  // namespace
}  // namespace kubes::api
