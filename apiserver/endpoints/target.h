// Target: the resource and object one request is about, and helpers the verb files
// share (selectors, content negotiation, encoding). Internal to endpoints/.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "apimachinery/fields/selector.h"
#include "apimachinery/labels/selector.h"
#include "apiserver/endpoints/endpoints.h"

namespace kubes::apiserver {

struct Endpoints::Target {
  ResourcePtr resource;
  std::string namespace_;  // "" for cluster-scoped or all namespaces
  std::string name;
  std::string subresource;
  // The subresource a change is recorded under in managedFields when it differs from
  // `subresource` (a /scale write is carried out as a patch of the object itself).
  std::string tracked_as;
  std::string Key() const { return resource->Key(namespace_, name); }
  // Prefix of the objects a list or watch covers.
  std::string ListPrefix() const {
    return resource->namespaced && !namespace_.empty() ? resource->KeyPrefix() + namespace_ + "/"
                                                       : resource->KeyPrefix();
  }
};

namespace endpoints {

// labelSelector and fieldSelector of a list or watch, parsed and checked against
// the fields the resource supports.
struct Filter {
  labels::Selector labels;
  fields::Selector fields;
  bool Matches(const ResourceInfo& r, const Json& obj) const;
};
Result<Filter> ParseFilter(const Request& req, const ResourceInfo& r);

// What the client wants back: a Table (kubectl get) or the objects.
struct Output {
  bool table = false;
  std::string include_object = "Metadata";  // Table rows: None, Metadata or Object
};
Output Negotiate(const Request& req);

// One Table with a row per object (kubectl get), as JSON text.
std::string EncodeTable(const ResourceInfo& r, const std::vector<const StoredObject*>& objects, const Output& out,
                        const std::string& resource_version, const std::string& continue_token, TimePoint now,
                        bool with_columns = true);

// "Pod" -> {"kind":"Status",...}: "Success" Status for deletes that remove at once.
std::string SuccessStatus(const ResourceInfo& r, const Json& obj);

// Decodes a create/update body (JSON, YAML or protobuf) and checks its apiVersion and
// kind against r's.
Result<Json> DecodeBody(const Request& req, const ResourceInfo& r, const api::SchemaRegistry& schemas);

// Versions that are not stored as served (ResourceInfo::from_storage/to_storage): a
// stored object as r's version shows it — stored itself when no conversion is needed,
// else its conversion, kept in `holder` — and its response text; and an object of r's
// version as it is to be stored.
const Json& View(const ResourceInfo& r, const Json& stored, Json& holder);
std::string Encode(const ResourceInfo& r, const StoredObject& stored);
Json ToStorage(const ResourceInfo& r, Json obj);

// Parses a resourceVersion query value: "" and "0" mean 0.
Result<int64_t> ParseResourceVersion(const std::string& s);


}  // namespace endpoints
}  // namespace kubes::apiserver
