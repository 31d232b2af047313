#include "apiserver/fieldmanager/fieldpath.h"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace kubes::apiserver::fieldmanager {

// ---- PathElement ----

PathElement PathElement::Field(std::string name) {
  PathElement pe;
  pe.kind = Kind::kField;
  pe.field = std::move(name);
  return pe;
}

PathElement PathElement::Key(std::vector<std::pair<std::string, Json>> fields) {
  std::stable_sort(fields.begin(), fields.end(), [](auto& a, auto& b) { return a.first < b.first; });
  PathElement pe;
  pe.kind = Kind::kKey;
  pe.key = std::move(fields);
  return pe;
}

PathElement PathElement::Value(Json value) {
  PathElement pe;
  pe.kind = Kind::kValue;
  pe.value = std::move(value);
  return pe;
}

PathElement PathElement::Index(int64_t index) {
  PathElement pe;
  pe.kind = Kind::kIndex;
  pe.index = index;
  return pe;
}

int PathElement::Compare(const PathElement& other) const {
  if (kind != other.kind) return kind < other.kind ? -1 : 1;
  switch (kind) {
    case Kind::kField: {
      int c = field.compare(other.field);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Kind::kKey:
      // Lexical over the sorted (name, value) pairs; a shorter prefix sorts first.
      for (size_t i = 0; i < key.size() && i < other.key.size(); ++i) {
        if (int c = key[i].first.compare(other.key[i].first); c != 0) return c < 0 ? -1 : 1;
        if (int c = CompareValues(key[i].second, other.key[i].second); c != 0) return c;
      }
      return key.size() < other.key.size() ? -1 : (key.size() > other.key.size() ? 1 : 0);
    case Kind::kValue: return CompareValues(value, other.value);
    case Kind::kIndex: return index < other.index ? -1 : (index > other.index ? 1 : 0);
  }
  return 0;
}

std::string PathElement::String() const {
  switch (kind) {
    case Kind::kField: return "." + field;
    case Kind::kKey: {
      std::string out = "[";
      for (size_t i = 0; i < key.size(); ++i) {
        if (i > 0) out += ",";
        out += key[i].first + "=" + ValueString(key[i].second);
      }
      return out + "]";
    }
    case Kind::kValue: return "[=" + ValueString(value) + "]";
    case Kind::kIndex: return "[" + std::to_string(index) + "]";
  }
  return "{{invalid path element}}";
}

std::string PathElement::Serialize() const {
  switch (kind) {
    case Kind::kField: return "f:" + field;  // written raw, as upstream does
    case Kind::kKey: {
      std::string out = "k:{";
      for (size_t i = 0; i < key.size(); ++i) {
        if (i > 0) out += ",";
        out += GoJSON(key[i].first) + ":" + GoJSON(key[i].second);
      }
      return out + "}";
    }
    case Kind::kValue: return "v:" + GoJSON(value);
    case Kind::kIndex: return "i:" + std::to_string(index);
  }
  return "";
}

Result<std::optional<PathElement>> PathElement::Parse(std::string_view s) {
  if (s.size() < 2) return BadRequest("key must be 2 characters long: " + std::string(s));
  if (s[1] != ':') return BadRequest("missing colon: " + std::string(s));
  std::string_view rest = s.substr(2);
  switch (s[0]) {
    case 'f': return std::optional<PathElement>(Field(std::string(rest)));
    case 'v':
    case 'k': {
      Json v = Json::parse(rest, nullptr, /*allow_exceptions=*/false);
      if (v.is_discarded()) return BadRequest("invalid JSON in path element " + GoQuote(s));
      if (s[0] == 'v') return std::optional<PathElement>(Value(std::move(v)));
      if (!v.is_object()) return BadRequest("key path element is not a JSON object: " + GoQuote(s));
      std::vector<std::pair<std::string, Json>> fields;
      for (auto it = v.begin(); it != v.end(); ++it) fields.emplace_back(it.key(), it.value());
      return std::optional<PathElement>(Key(std::move(fields)));
    }
    case 'i': {
      int64_t i = 0;
      const char* begin = rest.data();
      const char* end = begin + rest.size();
      if (begin != end && *begin == '+') ++begin;
      auto [ptr, ec] = std::from_chars(begin, end, i);
      if (ec != std::errc() || ptr != end || begin == end) {
        return BadRequest("invalid index in path element " + GoQuote(s));
      }
      return std::optional<PathElement>(Index(i));
    }
    default: return std::optional<PathElement>();
  }
}

std::string PathString(const Path& path) {
  std::string out;
  for (const PathElement& pe : path) out += pe.String();
  return out;
}

// ---- Set ----

Set::Set(const Set&) = default;
Set::Set(Set&&) noexcept = default;
Set& Set::operator=(const Set&) = default;
Set& Set::operator=(Set&&) noexcept = default;
Set::~Set() = default;

namespace {

bool NodeLess(const Set::Node& n, const PathElement& pe) { return n.pe < pe; }

}  // namespace

void Set::InsertMember(const PathElement& pe) {
  auto it = std::lower_bound(members_.begin(), members_.end(), pe);
  if (it == members_.end() || !(*it == pe)) members_.insert(it, pe);
}

Set& Set::Descend(const PathElement& pe) {
  auto it = std::lower_bound(children_.begin(), children_.end(), pe, NodeLess);
  if (it == children_.end() || !(it->pe == pe)) it = children_.insert(it, Node{pe, Set()});
  return it->set;
}

bool Set::HasMember(const PathElement& pe) const {
  return std::binary_search(members_.begin(), members_.end(), pe);
}

const Set* Set::Child(const PathElement& pe) const {
  auto it = std::lower_bound(children_.begin(), children_.end(), pe, NodeLess);
  return it != children_.end() && it->pe == pe ? &it->set : nullptr;
}

void Set::Insert(const Path& path) {
  if (path.empty()) return;
  Set* s = this;
  for (size_t i = 0; i + 1 < path.size(); ++i) s = &s->Descend(path[i]);
  s->InsertMember(path.back());
}

bool Set::Has(const Path& path) const {
  if (path.empty()) return false;
  const Set* s = this;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    s = s->Child(path[i]);
    if (s == nullptr) return false;
  }
  return s->HasMember(path.back());
}

bool Set::Empty() const {
  if (!members_.empty()) return false;
  return std::all_of(children_.begin(), children_.end(), [](const Node& n) { return n.set.Empty(); });
}

size_t Set::Size() const {
  size_t n = members_.size();
  for (const Node& c : children_) n += c.set.Size();
  return n;
}

Set Set::Union(const Set& other) const {
  Set out;
  std::set_union(members_.begin(), members_.end(), other.members_.begin(), other.members_.end(),
                 std::back_inserter(out.members_));
  size_t i = 0, j = 0;
  while (i < children_.size() || j < other.children_.size()) {
    if (j == other.children_.size() || (i < children_.size() && children_[i].pe < other.children_[j].pe)) {
      out.children_.push_back(children_[i++]);
    } else if (i == children_.size() || other.children_[j].pe < children_[i].pe) {
      out.children_.push_back(other.children_[j++]);
    } else {
      out.children_.push_back(Node{children_[i].pe, children_[i].set.Union(other.children_[j].set)});
      ++i, ++j;
    }
  }
  return out;
}

Set Set::Intersection(const Set& other) const {
  Set out;
  std::set_intersection(members_.begin(), members_.end(), other.members_.begin(), other.members_.end(),
                        std::back_inserter(out.members_));
  for (const Node& c : children_) {
    const Set* o = other.Child(c.pe);
    if (o == nullptr) continue;
    Set both = c.set.Intersection(*o);
    if (!both.Empty()) out.children_.push_back(Node{c.pe, std::move(both)});
  }
  return out;
}

Set Set::Difference(const Set& other) const {
  Set out;
  std::set_difference(members_.begin(), members_.end(), other.members_.begin(), other.members_.end(),
                      std::back_inserter(out.members_));
  for (const Node& c : children_) {
    const Set* o = other.Child(c.pe);
    if (o == nullptr) {
      out.children_.push_back(c);
      continue;
    }
    Set rest = c.set.Difference(*o);
    if (!rest.Empty()) out.children_.push_back(Node{c.pe, std::move(rest)});
  }
  return out;
}

Set Set::RecursiveDifference(const Set& other) const {
  Set out;
  std::set_difference(members_.begin(), members_.end(), other.members_.begin(), other.members_.end(),
                      std::back_inserter(out.members_));
  for (const Node& c : children_) {
    if (other.HasMember(c.pe)) continue;  // the whole subtree goes
    const Set* o = other.Child(c.pe);
    if (o == nullptr) {
      out.children_.push_back(c);
      continue;
    }
    Set rest = c.set.RecursiveDifference(*o);
    if (!rest.Empty()) out.children_.push_back(Node{c.pe, std::move(rest)});
  }
  return out;
}

bool Set::operator==(const Set& other) const {
  if (members_ != other.members_) return false;
  // Empty child nodes do not count.
  std::vector<const Node*> a, b;
  for (const Node& c : children_) if (!c.set.Empty()) a.push_back(&c);
  for (const Node& c : other.children_) if (!c.set.Empty()) b.push_back(&c);
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(a[i]->pe == b[i]->pe) || !(a[i]->set == b[i]->set)) return false;
  }
  return true;
}

void Set::IteratePrefix(Path& prefix, const std::function<void(const Path&)>& f) const {
  for (const PathElement& pe : members_) {
    prefix.push_back(pe);
    f(prefix);
    prefix.pop_back();
  }
  for (const Node& c : children_) {
    prefix.push_back(c.pe);
    c.set.IteratePrefix(prefix, f);
    prefix.pop_back();
  }
}

void Set::Iterate(const std::function<void(const Path&)>& f) const {
  Path prefix;
  IteratePrefix(prefix, f);
}

std::string Set::DebugString() const {
  std::string out;
  Iterate([&](const Path& p) { out += PathString(p) + "\n"; });
  return out;
}

// ---- fieldsV1 ----

// Walks members and children together in element order, as upstream's emitContentsV1:
// a member only is "key":{}, a child only is "key":{...}, both is "key":{".":{},...}.
void Set::EmitV1(bool include_self, std::string& out) const {
  bool first = true;
  auto field = [&](const PathElement& pe) {
    if (!first) out += ',';
    first = false;
    out += GoJSON(pe.Serialize()) + ":";
  };
  if (include_self && !Empty()) {
    out += "\".\":{}";
    first = false;
  }
  size_t m = 0, c = 0;
  while (m < members_.size() || c < children_.size()) {
    int cmp = m == members_.size() ? 1 : c == children_.size() ? -1 : members_[m].Compare(children_[c].pe);
    if (cmp < 0) {
      field(members_[m++]);
      out += "{}";
      continue;
    }
    field(children_[c].pe);
    out += '{';
    children_[c].set.EmitV1(/*include_self=*/cmp == 0, out);
    out += '}';
    if (cmp == 0) ++m;
    ++c;
  }
}

std::string Set::ToJSON() const {
  std::string out = "{";
  EmitV1(false, out);
  return out + "}";
}

Json Set::ToFieldsV1() const {
  Json out = Json::object();
  for (const PathElement& pe : members_) out[pe.Serialize()] = Json::object();
  for (const Node& c : children_) {
    if (c.set.Empty()) continue;
    Json child = c.set.ToFieldsV1();
    if (HasMember(c.pe)) child["."] = Json::object();
    out[c.pe.Serialize()] = std::move(child);
  }
  return out;
}

// One node of fieldsV1: "." marks the node itself a member; a node with no children
// (an empty object) is a member too.
Status Set::ReadV1(const Json& node, Set& out, bool& is_member) {
  is_member = false;
  if (node.is_null()) {
    is_member = true;
    return Status::OK();
  }
  if (!node.is_object()) return BadRequest("fieldsV1: expected an object, got " + GoJSON(node));
  bool has_children = false;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it.key() == ".") {
      is_member = true;
      continue;
    }
    auto pe = PathElement::Parse(it.key());
    if (!pe.ok()) return BadRequest("parsing key as path element: " + pe.status().message());
    if (!pe->has_value()) continue;  // an element type from the future: dropped
    Set grandchildren;
    bool child_is_member = false;
    KUBES_RETURN_IF_ERROR(ReadV1(it.value(), grandchildren, child_is_member));
    if (child_is_member) {
      out.InsertMember(**pe);
      has_children = true;
    }
    if (!grandchildren.Empty()) {
      out.Descend(**pe) = out.Descend(**pe).Union(grandchildren);
      has_children = true;
    }
  }
  if (!has_children) is_member = true;
  return Status::OK();
}

Result<Set> Set::FromFieldsV1(const Json& fields) {
  if (fields.is_null()) return Set();
  if (!fields.is_object()) return BadRequest("fieldsV1 must be a JSON object");
  if (NestingDepth(fields) > kMaxDepth) return BadRequest("fieldsV1 nests too deeply");
  Set out;
  bool is_member = false;
  KUBES_RETURN_IF_ERROR(ReadV1(fields, out, is_member));
  return out;
}

}  // namespace kubes::apiserver::fieldmanager
