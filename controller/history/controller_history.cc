#include "controller/history/controller_history.h"

#include <algorithm>

#include "client/resources.h"
#include "controller/controller_utils.h"

namespace kubes::controller::history {
namespace {

using client::kControllerRevisions;

int64_t RevisionNumber(const Json& rev) { return rev.value("revision", int64_t{0}); }

}  // namespace

Json RevisionData(const Json& owner) {
  Json tmpl = owner["spec"].value("template", Json::object());
  tmpl["$patch"] = "replace";
  return {{"spec", {{"template", tmpl}}}};
}

std::vector<Json> OwnedRevisions(const std::vector<Json>& all, const Json& owner) {
  std::vector<Json> out;
  for (const Json& rev : all) {
    auto ref = GetControllerOf(rev);
    if (ref && ref->value("uid", "") == UidOf(owner) && NamespaceOf(rev) == NamespaceOf(owner)) out.push_back(rev);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Json& a, const Json& b) { return RevisionNumber(a) < RevisionNumber(b); });
  return out;
}

Result<Json> EnsureRevision(client::Client* client, const Json& owner, const Json& data,
                            const std::vector<Json>& owned, const Json& template_labels, int32_t* collision_count) {
  int64_t max = owned.empty() ? 0 : RevisionNumber(owned.back());
  for (const Json& rev : owned) {
    if (rev.value("data", Json()) != data) continue;
    if (RevisionNumber(rev) == max) return rev;
    // An old template is current again: it becomes the newest revision.
    Json renumbered = rev;
    renumbered["revision"] = max + 1;
    return client->Update(kControllerRevisions, NamespaceOf(rev), renumbered);
  }
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::string hash = ComputeHash(data, *collision_count);
    Json labels = template_labels.is_object() ? template_labels : Json::object();
    labels["controller-revision-hash"] = hash;
    Json rev = {{"apiVersion", "apps/v1"},
                {"kind", "ControllerRevision"},
                {"metadata",
                 {{"name", NameOf(owner) + "-" + hash},
                  {"namespace", NamespaceOf(owner)},
                  {"labels", labels},
                  {"ownerReferences", Json::array({ControllerRef(owner)})}}},
                {"data", data},
                {"revision", max + 1}};
    auto created = client->Create(kControllerRevisions, NamespaceOf(owner), rev);
    if (created.ok()) return created;
    if (created.status().code() != Code::kAlreadyExists) return created.status();
    auto existing = client->Get(kControllerRevisions, NamespaceOf(owner), NameOf(rev));
    if (!existing.ok()) return existing.status();
    auto ref = GetControllerOf(*existing);
    if (ref && ref->value("uid", "") == UidOf(owner) && existing->value("data", Json()) == data) return existing;
    ++*collision_count;  // somebody else's object has our name: hash again
  }
  return Status(Code::kConflict, "too many ControllerRevision name collisions for " + NameOf(owner));
}

Status TruncateHistory(client::Client* client, const std::vector<Json>& owned, const std::string& current_name,
                       const std::vector<std::string>& in_use, int limit) {
  std::vector<const Json*> dead;
  for (const Json& rev : owned) {
    std::string name = NameOf(rev);
    std::string hash = LabelsOf(rev)["controller-revision-hash"];
    bool used = name == current_name || std::find(in_use.begin(), in_use.end(), name) != in_use.end() ||
                (!hash.empty() && std::find(in_use.begin(), in_use.end(), hash) != in_use.end());
    if (!used) dead.push_back(&rev);
  }
  int excess = static_cast<int>(dead.size()) - limit;
  for (int i = 0; i < excess; ++i) {  // owned is sorted oldest first
    Status s = client->Delete(kControllerRevisions, NamespaceOf(*dead[i]), NameOf(*dead[i]));
    if (!s.ok() && s.code() != Code::kNotFound) return s;
  }
  return Status::OK();
}

}  // namespace kubes::controller::history
