// Merge and RemoveItems of typed.h: the two walks that build a new object.
#include <map>
#include <set>

#include "apiserver/fieldmanager/typed.h"

namespace kubes::apiserver::fieldmanager {
namespace {

bool NullOrEmpty(const Json* v) { return v == nullptr || v->is_null() || (v->is_structured() && v->empty()); }

const Json& Null() {
  static const Json kNull = nullptr;
  return kNull;
}

void AddError(std::vector<std::string>& errors, const Path& path, const std::string& message) {
  std::string p = PathString(path);
  errors.push_back(p.empty() ? message : p + ": " + message);
}

struct MergeWalk {
  std::vector<std::string> errors;
  Path path;

  // The merged value, or nullopt when nothing is left (both sides absent or emptied).
  std::optional<Json> Walk(const Json* lhs, const Json* rhs, const Type& t) {
    Shape shape = ShapeOf(t, lhs, rhs);
    if (shape == Shape::kLeaf || (NullOrEmpty(lhs) && NullOrEmpty(rhs))) {
      if (rhs != nullptr) return *rhs;  // the applied value wins
      if (lhs != nullptr) return *lhs;
      return std::nullopt;
    }
    return shape == Shape::kMembers ? Members(lhs, rhs, t) : Items(lhs, rhs, t);
  }

  std::optional<Json> Members(const Json* lhs, const Json* rhs, const Type& t) {
    Json out = Json::object();
    std::set<std::string> keys;
    for (const Json* side : {lhs, rhs}) {
      if (side == nullptr || !side->is_object()) continue;
      for (auto it = side->begin(); it != side->end(); ++it) keys.insert(it.key());
    }
    auto member = [](const Json* side, const std::string& key) -> const Json* {
      if (side == nullptr || !side->is_object()) return nullptr;
      auto it = side->find(key);
      return it == side->end() ? nullptr : &*it;
    };
    for (const std::string& key : keys) {
      path.push_back(PathElement::Field(key));
      std::optional<Json> v = Walk(member(lhs, key), member(rhs, key), t.Member(key));
      path.pop_back();
      // A null here clears the field: Go would decode it as the zero value.
      if (v && !v->is_null()) out[key] = std::move(*v);
    }
    if (out.empty()) return std::nullopt;
    return out;
  }

  // Names every item of `list`; lhs may repeat a key (its value is then null), rhs may not.
  bool Index(const Json* list, const Type& t, bool allow_duplicates, std::vector<PathElement>& pes,
             std::map<PathElement, const Json*>& observed) {
    if (list == nullptr || !list->is_array()) return true;
    bool ok = true;
    for (size_t i = 0; i < list->size(); ++i) {
      auto pe = ItemPathElement(t, (*list)[i]);
      if (!pe.ok()) {
        AddError(errors, path, "element " + std::to_string(i) + ": " + pe.status().message());
        ok = false;
        continue;
      }
      auto [it, inserted] = observed.emplace(*pe, &(*list)[i]);
      if (!inserted) {
        if (!allow_duplicates) {
          AddError(errors, path, "duplicate entries for key " + pe->String());
          ok = false;
          continue;
        }
        it->second = &Null();
      }
      pes.push_back(std::move(pe).value());
    }
    return ok;
  }

  // Upstream's list merge: walks both lists at once so that rhs's items keep rhs's
  // order while items only in lhs stay next to the items they followed.
  std::optional<Json> Items(const Json* lhs, const Json* rhs, const Type& t) {
    std::vector<PathElement> rhs_pes, lhs_pes;
    std::map<PathElement, const Json*> in_rhs, in_lhs;
    bool ok = Index(rhs, t, /*allow_duplicates=*/false, rhs_pes, in_rhs);
    ok = Index(lhs, t, /*allow_duplicates=*/true, lhs_pes, in_lhs) && ok;
    if (!ok) return std::nullopt;

    std::vector<const PathElement*> shared;  // rhs items also in lhs, in rhs order
    for (const PathElement& pe : rhs_pes) {
      if (in_lhs.count(pe)) shared.push_back(&pe);
    }
    size_t next_shared_index = 0;
    auto next_shared = [&]() -> const PathElement* {
      return next_shared_index < shared.size() ? shared[next_shared_index++] : nullptr;
    };
    const PathElement* shared_pe = next_shared();

    Type elem = t.Elem();
    Json out = Json::array();
    auto merge_item = [&](const PathElement& pe, const Json* l, const Json* r) {
      path.push_back(pe);
      if (std::optional<Json> v = Walk(l, r, elem); v && !v->is_null()) out.push_back(std::move(*v));
      path.pop_back();
    };
    auto find = [](const std::map<PathElement, const Json*>& m, const PathElement& pe) -> const Json* {
      auto it = m.find(pe);
      return it == m.end() ? nullptr : it->second;
    };

    std::set<PathElement> merged_rhs;
    size_t li = 0, ri = 0;
    while (li < lhs_pes.size() || ri < rhs_pes.size()) {
      if (li < lhs_pes.size() && ri < rhs_pes.size()) {
        const PathElement& pe = lhs_pes[li];
        if (pe == rhs_pes[ri]) {
          merged_rhs.insert(pe);
          merge_item(pe, find(in_lhs, pe), find(in_rhs, pe));
          ++li, ++ri;
          shared_pe = next_shared();
          continue;
        }
        // An lhs item that rhs moves further down: skip it here, it merges in rhs order.
        if (in_rhs.count(pe) && shared_pe != nullptr && !(*shared_pe == pe)) {
          ++li;
          continue;
        }
      }
      if (li < lhs_pes.size()) {
        const PathElement& pe = lhs_pes[li];
        if (!in_rhs.count(pe)) {
          merge_item(pe, &(*lhs)[li], nullptr);
          ++li;
          continue;
        }
        if (merged_rhs.count(pe)) ++li;
      }
      if (ri < rhs_pes.size()) {
        const PathElement& pe = rhs_pes[ri];
        merged_rhs.insert(pe);
        merge_item(pe, find(in_lhs, pe), find(in_rhs, pe));
        ++ri;
        if (shared_pe != nullptr && *shared_pe == pe) shared_pe = next_shared();
      }
    }
    if (out.empty()) return std::nullopt;
    return out;
  }
};

// The value without `items`; nullopt when nothing is left of it.
std::optional<Json> Remove(const Json& v, const Set& items, const Type& t) {
  switch (ShapeOf(t, &v)) {
    case Shape::kLeaf: return v;
    case Shape::kMembers: {
      if (!v.is_object() || v.empty()) return v;
      Json out = Json::object();
      for (auto it = v.begin(); it != v.end(); ++it) {
        PathElement pe = PathElement::Field(it.key());
        if (items.HasMember(pe)) continue;
        const Set* below = items.Child(pe);
        if (below == nullptr || below->Empty()) {
          out[it.key()] = it.value();
        } else if (auto kept = Remove(it.value(), *below, t.Member(it.key())); kept && !kept->is_null()) {
          out[it.key()] = std::move(*kept);
        }
      }
      if (out.empty()) return std::nullopt;
      return out;
    }
    case Shape::kItems: {
      if (!v.is_array() || v.empty()) return v;
      Type elem = t.Elem();
      Json out = Json::array();
      for (const Json& item : v) {
        auto pe = ItemPathElement(t, item);
        if (!pe.ok()) {  // cannot be named, so cannot be in `items`
          out.push_back(item);
          continue;
        }
        if (items.HasMember(*pe)) continue;
        const Set* below = items.Child(*pe);
        if (below == nullptr || below->Empty()) {
          out.push_back(item);
        } else if (auto kept = Remove(item, *below, elem); kept && !kept->is_null()) {
          out.push_back(std::move(*kept));
        }
      }
      if (out.empty()) return std::nullopt;
      return out;
    }
  }
  return v;
}

}  // namespace

Result<Json> Merge(const Json& lhs, const Json& rhs, const Type& type) {
  if (NestingDepth(lhs) > kMaxDepth || NestingDepth(rhs) > kMaxDepth) {
    return BadRequest("object nests too deeply");
  }
  MergeWalk w;
  std::optional<Json> out = w.Walk(&lhs, &rhs, type);
  if (!w.errors.empty()) return BadRequest(JoinErrors(w.errors));
  if (!out || out->is_null()) return Json::object();
  return std::move(*out);
}

Json RemoveItems(const Json& value, const Set& items, const Type& type) {
  if (NestingDepth(value) > kMaxDepth) return value;
  std::optional<Json> out = Remove(value, items, type);
  if (!out) return value.is_object() ? Json::object() : Json(nullptr);
  return std::move(*out);
}

}  // namespace kubes::apiserver::fieldmanager
