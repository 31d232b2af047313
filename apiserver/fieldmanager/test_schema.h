// A small schema exercising every kind of ownership, shared by this folder's tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "api/schema.h"
#include "apiserver/fieldmanager/fieldpath.h"

namespace kubes::apiserver::fieldmanager::testing {

inline constexpr char kWidgetSchema[] = R"(package io.kubes.test.v1
group test.kubes.io
version v1
type Widget object "A test kind."
  metadata  Meta          1  "Metadata."
  spec      WidgetSpec    2  "Spec."
  status    WidgetStatus  3  status "Status."
type Meta "Metadata."
  name             string                1   "Name."
  namespace        string                3   "Namespace."
  uid              string                5   "UID."
  resourceVersion  string                6   "Version."
  labels           map[string]string     11  "A granular map."
  annotations      map[string]string     12  "A granular map."
  finalizers       []string              14  list=set "A set."
  managedFields    []ManagedFieldsEntry  17  list=atomic "Ownership."
type ManagedFieldsEntry "An entry."
  manager  string  1  "Manager."
  fieldsV1  any  7  "Fields."
type WidgetSpec "Spec."
  replicas  int32              1  ptr "A scalar."
  selector  map[string]string  2  maptype=atomic "An atomic map."
  args      []string           3  "An atomic list."
  ports     []Port             4  list=map keys=port,protocol "A list-map with two keys."
  items     []Item             5  merge=name "A list-map by merge key."
  template  Template           6  "A struct that is not a pointer."
  extra     Extra              7  ptr "A pointer struct."
  ref       Extra              8  ptr maptype=atomic "An atomic struct."
  data      any                9  "Untyped."
type Port "A port."
  port      int32   1  "Port."
  protocol  string  2  default=TCP "Protocol."
  name      string  3  "Name."
type Item "An item."
  name   string  1  "Name."
  value  string  2  "Value."
  inner  Extra   3  "A struct that is not a pointer."
type Template "A template."
  image      string  1  "Image."
  resources  Extra   2  "A struct that is not a pointer."
  containers []Item  3  required merge=name "A required list: Go always has it."
type Extra "Two strings."
  a  string  1  "A."
  b  string  2  "B."
type WidgetStatus "Status."
  ready  bool  1  "Ready."
)";

inline const api::TypeSchema* Widget() {
  static std::unique_ptr<api::SchemaRegistry> registry = [] {
    auto r = api::SchemaRegistry::Parse({{"widget.schema", kWidgetSchema}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }();
  return registry->FindKind("test.kubes.io", "v1", "Widget");
}

// The set written as fieldsV1 text, or the parse error.
inline Set V1(const std::string& text) {
  auto s = Set::FromFieldsV1(Json::parse(text));
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : Set();
}

}  // namespace kubes::apiserver::fieldmanager::testing
