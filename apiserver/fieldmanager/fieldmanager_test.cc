#include "apiserver/fieldmanager/fieldmanager.h"

#include <gtest/gtest.h>

#include "apiserver/fieldmanager/test_schema.h"

namespace kubes::apiserver::fieldmanager {
namespace {

using testing::V1;
using testing::Widget;

constexpr int64_t kT0 = 1700000000;  // 2023-11-14T22:13:20Z
constexpr char kWidgetVersion[] = "test.kubes.io/v1";

Json WidgetObject(const std::string& spec_json, const std::string& labels_json = "{}") {
  Json obj = {{"apiVersion", kWidgetVersion}, {"kind", "Widget"}, {"metadata", {{"name", "w"}, {"uid", "u-1"}}}};
  obj["spec"] = Json::parse(spec_json);
  Json labels = Json::parse(labels_json);
  if (!labels.empty()) obj["metadata"]["labels"] = labels;
  return obj;
}

Json Config(const std::string& spec_json, const std::string& labels_json = "{}") {
  Json obj = WidgetObject(spec_json, labels_json);
  obj["metadata"].erase("uid");
  return obj;
}

// The entry of `manager` in obj's managedFields, or null.
Json EntryOf(const Json& obj, const std::string& manager) {
  for (const Json& e : obj["metadata"].value("managedFields", Json::array())) {
    if (e.value("manager", "") == manager) return e;
  }
  return nullptr;
}

std::string FieldsOf(const Json& obj, const std::string& manager) {
  Json e = EntryOf(obj, manager);
  return e.is_null() ? "<no entry>" : V1(e["fieldsV1"].dump()).ToJSON();
}

Json Update(const Json* old_obj, const Json& new_obj, const std::string& manager, int64_t now,
            const std::string& subresource = "") {
  return UpdateManagedFields(old_obj, new_obj, manager, kOperationUpdate, kWidgetVersion, subresource, now, Widget());
}

ApplyResult MustApply(const Json* live, const Json& config, const std::string& manager, int64_t now,
                      bool force = false) {
  auto r = Apply(live, config, manager, force, Widget(), kWidgetVersion, now);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ApplyResult{};
}

// ---- non-apply writes ----

TEST(UpdateManagedFieldsTest, CreateRecordsEveryField) {
  Json obj = Update(nullptr, WidgetObject(R"({"replicas":1,"items":[{"name":"a","value":"1"}]})", R"({"app":"x"})"),
                    "kubectl-create", kT0);
  Json expected = Json::parse(R"([{"manager":"kubectl-create","operation":"Update","apiVersion":"test.kubes.io/v1",
    "time":"2023-11-14T22:13:20Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},
    "f:spec":{"f:items":{".":{},"k:{\"name\":\"a\"}":{".":{},"f:inner":{},"f:name":{},"f:value":{}}},
    "f:replicas":{}}}}])");
  EXPECT_EQ(obj["metadata"]["managedFields"], expected) << obj["metadata"]["managedFields"].dump();
}

TEST(UpdateManagedFieldsTest, ChangedFieldsMoveToTheWriter) {
  Json v1 = Update(nullptr, WidgetObject(R"({"replicas":1,"args":["a"]})"), "kubectl-create", kT0);
  Json edited = v1;  // a client sends the entries back unchanged, as kubectl edit does
  edited["spec"]["replicas"] = 2;
  Json v2 = Update(&v1, edited, "kubectl-edit", kT0 + 60);
  EXPECT_EQ(FieldsOf(v2, "kubectl-create"), R"({"f:spec":{"f:args":{}}})");
  EXPECT_EQ(FieldsOf(v2, "kubectl-edit"), R"({"f:spec":{"f:replicas":{}}})");
  EXPECT_EQ(EntryOf(v2, "kubectl-edit")["time"], "2023-11-14T22:14:20Z");
  EXPECT_EQ(v2["metadata"]["managedFields"][0]["manager"], "kubectl-create");  // sorted by time

  // Another change by the same manager joins its entry; an unchanged write keeps the time.
  Json edited2 = v2;
  edited2["spec"]["args"] = {"b"};
  Json v3 = Update(&v2, edited2, "kubectl-edit", kT0 + 120);
  EXPECT_TRUE(EntryOf(v3, "kubectl-create").is_null());  // it owned nothing any more
  EXPECT_EQ(FieldsOf(v3, "kubectl-edit"), R"({"f:spec":{"f:args":{},"f:replicas":{}}})");
  Json v4 = Update(&v3, v3, "kubectl-edit", kT0 + 180);
  EXPECT_EQ(v4["metadata"]["managedFields"], v3["metadata"]["managedFields"]);

  // Without managedFields in the request, the stored ones are the starting point.
  Json bare = v3;
  bare["metadata"].erase("managedFields");
  bare["metadata"]["labels"] = {{"team", "a"}};
  Json v5 = Update(&v3, bare, "kubectl-label", kT0 + 240);
  EXPECT_EQ(FieldsOf(v5, "kubectl-edit"), R"({"f:spec":{"f:args":{},"f:replicas":{}}})");
  EXPECT_EQ(FieldsOf(v5, "kubectl-label"), R"({"f:metadata":{"f:labels":{".":{},"f:team":{}}}})");
}

TEST(UpdateManagedFieldsTest, UntrackedAndResetObjectsStayUntracked) {
  Json untracked = WidgetObject(R"({"replicas":1})");
  Json changed = untracked;
  changed["spec"]["replicas"] = 2;
  EXPECT_FALSE(Update(&untracked, changed, "m", kT0)["metadata"].contains("managedFields"));

  Json tracked = Update(nullptr, untracked, "m", kT0);
  Json reset = tracked;
  reset["metadata"]["managedFields"] = Json::array();
  EXPECT_FALSE(Update(&tracked, reset, "m", kT0)["metadata"].contains("managedFields"));
  EXPECT_EQ(Update(nullptr, untracked, "", kT0)["metadata"]["managedFields"][0]["manager"], "unknown");
}

TEST(UpdateManagedFieldsTest, StatusIsTrackedOnlyThroughItsSubresource) {
  Json v1 = Update(nullptr, WidgetObject(R"({"replicas":1})"), "kubectl-create", kT0);
  Json with_status = v1;
  with_status["status"] = {{"ready", true}};
  with_status["spec"]["replicas"] = 5;
  Json main = Update(&v1, with_status, "controller", kT0 + 1);
  EXPECT_EQ(FieldsOf(main, "controller"), R"({"f:spec":{"f:replicas":{}}})");

  Json status = Update(&v1, with_status, "controller", kT0 + 1, "status");
  EXPECT_EQ(FieldsOf(status, "controller"), R"({"f:status":{"f:ready":{}}})");
  EXPECT_EQ(EntryOf(status, "controller")["subresource"], "status");
  EXPECT_EQ(FieldsOf(status, "kubectl-create"), R"({"f:spec":{"f:replicas":{}}})");
}

TEST(ManagedFieldsTest, CapUpdateManagersFoldsTheOldest) {
  Managed managed;
  for (int i = 0; i < 12; ++i) {
    Set s;
    s.Insert({PathElement::Field("f" + std::to_string(i))});
    Put(managed, {{"m" + std::to_string(i), kOperationUpdate, "v1", ""}, "v1", s, kT0 + i});
  }
  Put(managed, {{"applier", kOperationApply, "", ""}, "v1", Set(), kT0});
  CapUpdateManagers(managed);
  EXPECT_EQ(managed.size(), 11u);  // 10 updaters and the applier
  const ManagedEntry& bucket = managed.at(ManagerID{"ancient-changes", kOperationUpdate, "v1", ""}.Identifier());
  EXPECT_EQ(bucket.fields.ToJSON(), R"({"f:f0":{},"f:f1":{},"f:f2":{}})");
  EXPECT_EQ(bucket.time, kT0 + 2);
}

TEST(ManagedFieldsTest, DecodeAndEncode) {
  Json entries = Json::parse(R"([
    {"manager":"b","operation":"Update","apiVersion":"v1","time":"2023-11-14T22:13:20Z","fieldsType":"FieldsV1",
     "fieldsV1":{"f:a":{}}},
    {"manager":"a","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:b":{}},
     "subresource":"status"}])");
  auto managed = DecodeManagedFields(entries);
  ASSERT_TRUE(managed.ok()) << managed.status().ToString();
  Json encoded = EncodeManagedFields(*managed);
  EXPECT_EQ(encoded[0]["manager"], "a");  // Apply sorts before Update
  EXPECT_EQ(encoded[1], entries[0]);

  struct Case {
    std::string entries, error;
  };
  std::vector<Case> cases = {
      {R"([{"manager":"m","operation":"Patch","apiVersion":"v1","fieldsType":"FieldsV1"}])",
       "operation must be `Apply` or `Update`"},
      {R"([{"manager":"m","operation":"Update","fieldsType":"FieldsV1"}])", "apiVersion must not be empty"},
      {R"([{"manager":"m","operation":"Update","apiVersion":"v1"}])", "missing fieldsType in managed fields entry 0"},
      {R"([{"manager":"m","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV2"}])",
       R"(invalid fieldsType "FieldsV2" in managed fields entry 0)"},
      {R"([{"manager":1}])", "managed fields entry 0: manager must be a string"},
  };
  for (const Case& c : cases) EXPECT_EQ(DecodeManagedFields(Json::parse(c.entries)).status().message(), c.error);
  EXPECT_TRUE(IsResetManagedFields(Json::parse("[]")));
  EXPECT_TRUE(IsResetManagedFields(Json::parse("[{}]")));
  EXPECT_FALSE(IsResetManagedFields(entries));
}

TEST(ManagedFieldsTest, ManagerOrUserAgent) {
  struct Case {
    std::string field_manager, user_agent, want;
  };
  std::vector<Case> cases = {
      {"kubectl-edit", "kubectl/v1.32.0 (linux/amd64) kubernetes/abc", "kubectl-edit"},
      {"", "kubectl/v1.32.0 (linux/amd64) kubernetes/abc", "kubectl"},
      {"", "OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator"},
      {"", "tab\there", "tabhere"},
      {"", std::string(200, 'x'), std::string(128, 'x')},
      {"", "", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(ManagerOrUserAgent(c.field_manager, c.user_agent), c.want) << c.user_agent;
}

// ---- apply ----

TEST(ApplyTest, CreateOwnsTheConfiguration) {
  Json config = Config(R"({"replicas":3})", R"({"a":"1"})");
  ApplyResult r = MustApply(nullptr, config, "mgr", kT0);
  EXPECT_TRUE(r.changed);
  Json expected = config;
  expected["metadata"]["managedFields"] = Json::parse(R"([{"manager":"mgr","operation":"Apply",
    "apiVersion":"test.kubes.io/v1","time":"2023-11-14T22:13:20Z","fieldsType":"FieldsV1",
    "fieldsV1":{"f:metadata":{"f:labels":{"f:a":{}}},"f:spec":{"f:replicas":{}}}}])");
  EXPECT_EQ(r.object, expected) << r.object.dump();
}

TEST(ApplyTest, ConflictsAndForce) {
  Json live = Update(nullptr, WidgetObject(R"({"replicas":1,"args":["a"]})"), "kubectl-client-side-apply", kT0);

  auto conflict = Apply(&live, Config(R"({"replicas":2})"), "mgr", false, Widget(), kWidgetVersion, kT0 + 1);
  ASSERT_EQ(conflict.status().code(), Code::kConflict);
  EXPECT_EQ(conflict.status().HttpCode(), 409);
  EXPECT_EQ(conflict.status().message(),
            R"(Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using test.kubes.io/v1: )"
            ".spec.replicas");
  ASSERT_EQ(conflict.status().causes().size(), 1u);
  EXPECT_EQ(conflict.status().causes()[0].reason, "FieldManagerConflict");
  EXPECT_EQ(conflict.status().causes()[0].message,
            R"(conflict with "kubectl-client-side-apply" using test.kubes.io/v1)");
  EXPECT_EQ(conflict.status().causes()[0].field, ".spec.replicas");

  // The same value is no conflict: both managers own the field.
  ApplyResult shared = MustApply(&live, Config(R"({"replicas":1})"), "mgr", kT0 + 1);
  EXPECT_FALSE(shared.changed);
  EXPECT_EQ(FieldsOf(shared.object, "kubectl-client-side-apply"), R"({"f:spec":{"f:args":{},"f:replicas":{}}})");
  EXPECT_EQ(FieldsOf(shared.object, "mgr"), R"({"f:spec":{"f:replicas":{}}})");

  // Force takes the field over.
  ApplyResult forced = MustApply(&live, Config(R"({"replicas":2})"), "mgr", kT0 + 1, /*force=*/true);
  EXPECT_EQ(forced.object["spec"]["replicas"], 2);
  EXPECT_EQ(FieldsOf(forced.object, "kubectl-client-side-apply"), R"({"f:spec":{"f:args":{}}})");
  EXPECT_EQ(FieldsOf(forced.object, "mgr"), R"({"f:spec":{"f:replicas":{}}})");
}

TEST(ApplyTest, ManyConflictsAreGroupedByManager) {
  Json live = Update(nullptr, WidgetObject(R"({"replicas":1})"), "a", kT0);
  Json changed = live;
  changed["spec"]["args"] = {"x"};
  live = Update(&live, changed, "b", kT0 + 1);
  auto r = Apply(&live, Config(R"({"replicas":2,"args":["y"]})"), "mgr", false, Widget(), kWidgetVersion, kT0 + 2);
  EXPECT_EQ(r.status().message(),
            "Apply failed with 2 conflicts: conflicts with \"a\" using test.kubes.io/v1:\n- .spec.replicas\n"
            "conflicts with \"b\" using test.kubes.io/v1:\n- .spec.args");
  EXPECT_EQ(r.status().causes().size(), 2u);
}

TEST(ApplyTest, FieldsNoLongerAppliedAreRemovedUnlessOwnedElsewhere) {
  Json v1 = MustApply(nullptr, Config(R"({"items":[{"name":"x"},{"name":"y"}]})", R"({"a":"1","b":"2"})"), "mgr",
                      kT0).object;
  Json v2 = MustApply(&v1, Config("{}", R"({"b":"2"})"), "other", kT0 + 1).object;  // shares label b
  Json v3 = MustApply(&v2, Config(R"({"items":[{"name":"x"}]})", R"({"a":"1"})"), "mgr", kT0 + 2).object;
  EXPECT_EQ(v3["spec"]["items"], Json::parse(R"([{"name":"x"}])"));
  EXPECT_EQ(v3["metadata"]["labels"], Json::parse(R"({"a":"1","b":"2"})"));
  Json v4 = MustApply(&v3, Config("{}"), "other", kT0 + 3).object;
  EXPECT_EQ(v4["metadata"]["labels"], Json::parse(R"({"a":"1"})"));
  EXPECT_EQ(FieldsOf(v4, "other"), R"({"f:spec":{}})");  // an empty struct applied is owned
}

TEST(ApplyTest, ObjectsWithoutManagedFieldsGetBeforeFirstApply) {
  Json live = WidgetObject(R"({"replicas":1})");
  auto r = Apply(&live, Config(R"({"replicas":2})"), "mgr", false, Widget(), kWidgetVersion, kT0);
  EXPECT_EQ(r.status().message(),
            R"(Apply failed with 1 conflict: conflict with "before-first-apply" using test.kubes.io/v1: .spec.replicas)");
  ApplyResult ok = MustApply(&live, Config(R"({"replicas":1})"), "mgr", kT0);
  EXPECT_EQ(FieldsOf(ok.object, "before-first-apply"), R"({"f:spec":{"f:replicas":{}}})");
  EXPECT_EQ(FieldsOf(ok.object, "mgr"), R"({"f:spec":{"f:replicas":{}}})");
}

TEST(ApplyTest, NoOpApplyKeepsTheTime) {
  Json v1 = MustApply(nullptr, Config(R"({"replicas":1})"), "mgr", kT0).object;
  ApplyResult again = MustApply(&v1, Config(R"({"replicas":1})"), "mgr", kT0 + 100);
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(again.object, v1);
}

TEST(ApplyTest, BadConfigurations) {
  Json live = MustApply(nullptr, Config(R"({"replicas":1})"), "mgr", kT0).object;
  struct Case {
    std::string name;
    Json config;
    Code code;
    std::string message;
  };
  Json wrong_kind = Config("{}");
  wrong_kind["kind"] = "Gadget";
  Json with_entries = Config("{}");
  with_entries["metadata"]["managedFields"] = Json::array();
  std::vector<Case> cases = {
      {"kind", wrong_kind, Code::kBadRequest, "invalid object type: test.kubes.io/v1, Kind=Gadget"},
      {"managedFields", with_entries, Code::kBadRequest, "metadata.managedFields must be nil"},
      {"duplicate keys", Config(R"({"items":[{"name":"a"},{"name":"a"}]})"), Code::kInternal,
       R"(failed to create typed patch object (<unknown>/w; test.kubes.io/v1, Kind=Widget): .spec.items: )"
       R"(duplicate entries for key [name="a"])"},
  };
  for (const Case& c : cases) {
    auto r = Apply(&live, c.config, "mgr", false, Widget(), kWidgetVersion, kT0);
    EXPECT_EQ(r.status().code(), c.code) << c.name;
    EXPECT_EQ(r.status().message(), c.message) << c.name;
  }
  auto untyped = Apply(nullptr, Config("{}"), "mgr", false, nullptr, "test.kubes.io/v2", kT0);
  EXPECT_EQ(untyped.status().message(),
            "Incorrect version specified in apply patch. Specified patch version: test.kubes.io/v1, expected: "
            "test.kubes.io/v2");
}

TEST(ApplyTest, KubectlTakesOverFieldsItAppliedClientSide) {
  Json created = WidgetObject(R"({"replicas":1})");
  Json last = Config(R"({"replicas":1})");
  created["metadata"]["annotations"] = {{kLastAppliedAnnotation, last.dump()}};
  Json live = Update(nullptr, created, "kubectl-client-side-apply", kT0);

  ApplyResult r = MustApply(&live, Config(R"({"replicas":2})"), "kubectl", kT0 + 1);
  EXPECT_EQ(r.object["spec"]["replicas"], 2);
  EXPECT_EQ(r.object["metadata"]["annotations"][kLastAppliedAnnotation],
            R"({"apiVersion":"test.kubes.io/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"replicas":2}})"
            "\n");

  // A value someone else changed since is still a conflict.
  Json edited = live;
  edited["spec"]["replicas"] = 5;
  Json live2 = Update(&live, edited, "kubectl-edit", kT0 + 1);
  auto conflict = Apply(&live2, Config(R"({"replicas":2})"), "kubectl", false, Widget(), kWidgetVersion, kT0 + 2);
  EXPECT_EQ(conflict.status().message(),
            R"(Apply failed with 1 conflict: conflict with "kubectl-edit" using test.kubes.io/v1: .spec.replicas)");
}

TEST(ApplyTest, UntypedObjectsAreGranularMapsAndAtomicLists) {
  Json config = {{"apiVersion", "example.com/v1"}, {"kind", "Thing"}, {"metadata", {{"name", "t"}}},
                 {"spec", {{"list", {1, 2}}, {"map", {{"a", 1}}}}}};
  auto r = Apply(nullptr, config, "mgr", false, nullptr, "example.com/v1", kT0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(FieldsOf(r->object, "mgr"), R"({"f:spec":{".":{},"f:list":{},"f:map":{".":{},"f:a":{}}}})");
}

}  // namespace
}  // namespace kubes::apiserver::fieldmanager
