#include "apiserver/fieldmanager/typed.h"

#include <cstdlib>
#include <map>
#include <set>

namespace kubes::apiserver::fieldmanager {

// ---- Type ----

Type Type::Scalar() {
  Type t;
  t.kind_ = Kind::kScalar;
  return t;
}

Type Type::Object(const api::TypeSchema* schema) {
  Type t;
  if (schema == nullptr) return t;
  t.kind_ = Kind::kStruct;
  t.object_ = schema;
  return t;
}

Type Type::OfRef(const api::TypeRef& ref) {
  Type t;
  switch (ref.kind) {
    case api::ValueKind::kObject:
      return Object(ref.object);
    case api::ValueKind::kMap:
      t.kind_ = ref.elem ? Kind::kMap : Kind::kUntyped;
      t.elem_ = ref.elem.get();
      return t;
    case api::ValueKind::kList:
      t.kind_ = Kind::kList;
      t.elem_ = ref.elem.get();
      t.atomic_ = true;
      return t;
    case api::ValueKind::kAny:
    case api::ValueKind::kRawExtension:
      return Untyped();
    default:
      return Scalar();
  }
}

Type Type::OfField(const api::FieldSchema& field) {
  Type t = OfRef(field.type);
  if (t.kind_ == Kind::kStruct || t.kind_ == Kind::kMap) t.atomic_ = field.map_type == "atomic";
  if (t.kind_ == Kind::kList) {
    if (field.list_type == "set") {
      t.atomic_ = false;
    } else if (field.list_type == "map" && !field.list_keys.empty()) {
      t.atomic_ = false;
      t.keys_ = &field.list_keys;
    }
  }
  return t;
}

const std::vector<std::string>& Type::keys() const {
  static const std::vector<std::string> kNone;
  return keys_ != nullptr ? *keys_ : kNone;
}

Type Type::Member(std::string_view name, bool* named) const {
  if (named != nullptr) *named = false;
  switch (kind_) {
    case Kind::kStruct:
      if (const api::FieldSchema* f = object_->Field(name)) {
        if (named != nullptr) *named = true;
        return OfField(*f);
      }
      return Untyped();  // a field the schema does not know
    case Kind::kMap: return elem_ != nullptr ? OfRef(*elem_) : Untyped();
    case Kind::kUntyped: return Untyped();
    default: return Scalar();
  }
}

Type Type::Elem() const {
  if (kind_ == Kind::kList && elem_ != nullptr) return OfRef(*elem_);
  return kind_ == Kind::kUntyped ? Untyped() : Scalar();
}

Json Type::KeyDefault(const std::string& name) const {
  Type item = Elem();
  if (item.kind_ != Kind::kStruct) return nullptr;
  const api::FieldSchema* f = item.object_->Field(name);
  if (f == nullptr || f->default_value.empty()) return nullptr;
  const std::string& d = f->default_value;
  switch (f->type.kind) {
    case api::ValueKind::kInt32:
    case api::ValueKind::kInt64: {
      char* end = nullptr;
      long long v = std::strtoll(d.c_str(), &end, 10);
      if (end != d.c_str() && *end == '\0') return v;
      return d;
    }
    case api::ValueKind::kBool: return d == "true";
    case api::ValueKind::kDouble: return std::strtod(d.c_str(), nullptr);
    default: return d;
  }
}

// ---- shapes and path elements ----

Shape ShapeOf(const Type& type, const Json* lhs, const Json* rhs) {
  auto fits = [](const Json* v, bool want_object) {
    return v == nullptr || v->is_null() || (want_object ? v->is_object() : v->is_array());
  };
  switch (type.kind()) {
    case Type::Kind::kScalar: return Shape::kLeaf;
    case Type::Kind::kUntyped:
      // Deduced from the value: objects are granular maps, all else a leaf.
      if ((lhs == nullptr || lhs->is_object()) && (rhs == nullptr || rhs->is_object()) &&
          (lhs != nullptr || rhs != nullptr)) {
        return Shape::kMembers;
      }
      return Shape::kLeaf;
    case Type::Kind::kStruct:
    case Type::Kind::kMap:
      if (type.atomic() || !fits(lhs, true) || !fits(rhs, true)) return Shape::kLeaf;
      return Shape::kMembers;
    case Type::Kind::kList:
      if (type.atomic() || !fits(lhs, false) || !fits(rhs, false)) return Shape::kLeaf;
      return Shape::kItems;
  }
  return Shape::kLeaf;
}

Result<PathElement> ItemPathElement(const Type& list, const Json& item) {
  if (list.IsListMap()) {
    if (item.is_null()) return BadRequest("associative list with keys may not have a null element");
    if (!item.is_object()) return BadRequest("associative list with keys may not have non-map elements");
    std::vector<std::pair<std::string, Json>> fields;
    for (const std::string& k : list.keys()) {
      auto it = item.find(k);
      if (it != item.end()) {
        fields.emplace_back(k, *it);
      } else if (Json d = list.KeyDefault(k); !d.is_null()) {
        fields.emplace_back(k, std::move(d));
      }
    }
    if (fields.empty()) {
      std::string names;
      for (const std::string& k : list.keys()) names += (names.empty() ? "" : " ") + GoQuote(k);
      return BadRequest("associative list with keys has an element that omits all key fields [" + names +
                        "] (and doesn't have default values for any key fields)");
    }
    return PathElement::Key(std::move(fields));
  }
  if (item.is_object()) return BadRequest("associative list without keys has an element that's a map type");
  if (item.is_array()) return BadRequest("not supported: associative list with lists as elements");
  if (item.is_null()) return BadRequest("associative list without keys has an element that's an explicit null");
  return PathElement::Value(item);
}

std::string JoinErrors(const std::vector<std::string>& errors) {
  if (errors.size() == 1) return errors[0];
  std::string out = "errors:";
  for (const std::string& e : errors) out += "\n  " + e;
  return out;
}

namespace {

// Records "<path>: <message>" for a walk error.
void AddError(std::vector<std::string>& errors, const Path& path, const std::string& message) {
  std::string p = PathString(path);
  errors.push_back(p.empty() ? message : p + ": " + message);
}

// ---- ToFieldSet ----

struct FieldSetWalk {
  bool reject_duplicates;
  Set out;
  std::vector<std::string> errors;
  Path path;

  void Walk(const Json& v, const Type& t) {
    switch (ShapeOf(t, &v)) {
      case Shape::kLeaf: out.Insert(path); return;
      case Shape::kMembers: return Members(v, t);
      case Shape::kItems: return Items(v, t);
    }
  }

  void Members(const Json& v, const Type& t) {
    if (!v.is_object()) return;
    for (auto it = v.begin(); it != v.end(); ++it) {
      bool named = false;
      Type member = t.Member(it.key(), &named);
      path.push_back(PathElement::Field(it.key()));
      Walk(it.value(), member);
      // Structs are owned through their fields; empty ones, nulls and map keys directly.
      const Json& val = it.value();
      if (val.is_null() || (val.is_object() && val.empty()) || !named) out.Insert(path);
      path.pop_back();
    }
  }

  void Items(const Json& v, const Type& t) {
    if (!v.is_array()) return;
    std::vector<std::optional<PathElement>> pes;
    std::set<PathElement> seen, duplicates;
    for (size_t i = 0; i < v.size(); ++i) {
      auto pe = ItemPathElement(t, v[i]);
      if (!pe.ok()) {
        AddError(errors, path, "element " + std::to_string(i) + ": " + pe.status().message());
        pes.emplace_back();
        continue;
      }
      if (!seen.insert(*pe).second && duplicates.insert(*pe).second) {
        if (reject_duplicates) AddError(errors, path, "duplicate entries for key " + pe->String());
        path.push_back(*pe);
        out.Insert(path);  // a duplicated item is owned as a whole
        path.pop_back();
      }
      pes.emplace_back(std::move(pe).value());
    }
    Type elem = t.Elem();
    for (size_t i = 0; i < v.size(); ++i) {
      if (!pes[i] || duplicates.count(*pes[i])) continue;
      path.push_back(*pes[i]);
      Walk(v[i], elem);
      out.Insert(path);
      path.pop_back();
    }
  }
};

// ---- Compare ----

const Json& EmptyObject() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}

bool NullOrEmpty(const Json* v) { return v == nullptr || v->is_null() || (v->is_structured() && v->empty()); }

struct CompareWalk {
  Comparison out;
  std::vector<std::string> errors;
  Path path;

  void Leaf(const Json* lhs, const Json* rhs) {
    if (lhs == nullptr) {
      out.added.Insert(path);
    } else if (rhs == nullptr) {
      out.removed.Insert(path);
    } else if (!ValuesEqual(*lhs, *rhs)) {
      out.modified.Insert(path);
    }
  }

  void Walk(const Json* lhs, const Json* rhs, const Type& t) {
    Shape shape = ShapeOf(t, lhs, rhs);
    // Two empty (or null) containers compare as leaves, keeping {} apart from null.
    if (shape == Shape::kLeaf || (NullOrEmpty(lhs) && NullOrEmpty(rhs))) return Leaf(lhs, rhs);
    if (shape == Shape::kMembers) Members(lhs, rhs, t);
    if (shape == Shape::kItems) Items(lhs, rhs, t);
    if (lhs == nullptr) {
      out.added.Insert(path);
    } else if (rhs == nullptr) {
      out.removed.Insert(path);
    }
  }

  // The member `key` of side v as a Go struct would hold it: a non-pointer struct field
  // is always there (an empty object when missing), and so is a required field (Go
  // fields without omitempty; null when missing). Otherwise absent is absent.
  static const Json* MemberOf(const Json* v, const std::string& key, const api::FieldSchema* f) {
    static const Json kNull;
    if (v == nullptr || !v->is_object()) return nullptr;
    auto it = v->find(key);
    bool go_struct = f != nullptr && f->type.kind == api::ValueKind::kObject && !f->ptr;
    if (it != v->end() && !(go_struct && it->is_null())) return &*it;
    if (go_struct) return &EmptyObject();
    return f != nullptr && f->required ? &kNull : nullptr;
  }

  void Members(const Json* lhs, const Json* rhs, const Type& t) {
    std::set<std::string> keys;
    for (const Json* side : {lhs, rhs}) {
      if (side != nullptr && side->is_object()) {
        for (auto it = side->begin(); it != side->end(); ++it) keys.insert(it.key());
      }
    }
    if (t.kind() == Type::Kind::kStruct) {
      for (const api::FieldSchema& f : t.object()->fields) {
        if ((f.type.kind == api::ValueKind::kObject && !f.ptr) || f.required) keys.insert(f.name);
      }
    }
    for (const std::string& key : keys) {
      const api::FieldSchema* f = t.kind() == Type::Kind::kStruct ? t.object()->Field(key) : nullptr;
      const Json* l = MemberOf(lhs, key, f);
      const Json* r = MemberOf(rhs, key, f);
      if (l == nullptr && r == nullptr) continue;
      path.push_back(PathElement::Field(key));
      Walk(l, r, t.Member(key));
      path.pop_back();
    }
  }

  // Items by path element, in first-seen order; duplicates are kept together.
  void Index(const Json* list, const Type& t, std::map<PathElement, std::vector<const Json*>>& by_pe,
             std::vector<PathElement>& order, const std::map<PathElement, std::vector<const Json*>>* other) {
    if (list == nullptr || !list->is_array()) return;
    for (size_t i = 0; i < list->size(); ++i) {
      auto pe = ItemPathElement(t, (*list)[i]);
      if (!pe.ok()) {
        AddError(errors, path, "element " + std::to_string(i) + ": " + pe.status().message());
        continue;
      }
      auto& items = by_pe[*pe];
      if (items.empty() && (other == nullptr || !other->count(*pe))) order.push_back(*pe);
      items.push_back(&(*list)[i]);
    }
  }

  void Items(const Json* lhs, const Json* rhs, const Type& t) {
    std::map<PathElement, std::vector<const Json*>> left, right;
    std::vector<PathElement> order;
    Index(lhs, t, left, order, nullptr);
    Index(rhs, t, right, order, &left);
    Type elem = t.Elem();
    for (const PathElement& pe : order) {
      const auto& l = left[pe];
      const auto& r = right[pe];
      path.push_back(pe);
      if (l.size() <= 1 && r.size() <= 1) {
        Walk(l.empty() ? nullptr : l[0], r.empty() ? nullptr : r[0], elem);
      } else if (l.size() >= 2 && r.size() >= 2) {
        // Duplicates on both sides compare as one atomic value.
        bool same = l.size() == r.size();
        for (size_t i = 0; same && i < l.size(); ++i) same = ValuesEqual(*l[i], *r[i]);
        if (!same) out.modified.Insert(path);
      } else if (l.size() >= 2) {
        if (!r.empty()) Walk(nullptr, r[0], elem);
        out.removed.Insert(path);
      } else {
        if (!l.empty()) Walk(l[0], nullptr, elem);
        out.added.Insert(path);
      }
      path.pop_back();
    }
  }
};

}  // namespace

Result<Set> ToFieldSet(const Json& value, const Type& type, bool reject_duplicates) {
  if (NestingDepth(value) > kMaxDepth) return BadRequest("object nests too deeply");
  FieldSetWalk w{reject_duplicates, Set(), {}, {}};
  w.Walk(value, type);
  if (!w.errors.empty()) return BadRequest(JoinErrors(w.errors));
  return std::move(w.out);
}

Result<Comparison> Compare(const Json& lhs, const Json& rhs, const Type& type) {
  if (NestingDepth(lhs) > kMaxDepth || NestingDepth(rhs) > kMaxDepth) {
    return BadRequest("object nests too deeply");
  }
  CompareWalk w;
  w.Walk(&lhs, &rhs, type);
  if (!w.errors.empty()) return BadRequest(JoinErrors(w.errors));
  return std::move(w.out);
}

Set EnsureNamedFieldsAreMembers(const Set& set, const Type& type) {
  Set out;
  for (const PathElement& pe : set.members()) out.InsertMember(pe);
  for (const Set::Node& child : set.children()) {
    Type sub = Type::Scalar();
    if (child.pe.kind == PathElement::Kind::kField) {
      bool named = false;
      sub = type.Member(child.pe.field, &named);
      if (named) out.InsertMember(child.pe);
    } else if (child.pe.kind == PathElement::Kind::kKey && type.kind() == Type::Kind::kList) {
      sub = type.Elem();
    }
    Set below = EnsureNamedFieldsAreMembers(child.set, sub);
    if (!below.Empty()) out.Descend(child.pe) = std::move(below);
  }
  return out;
}

}  // namespace kubes::apiserver::fieldmanager
