#include "api/schema.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace kubes::api {
namespace {

// Splits a line into words; a double-quoted string is one word (quotes removed,
// \" and \\ unescaped). Stops at an unquoted '#'.
Result<std::vector<std::string>> Tokenize(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
    if (c == '#') break;
    std::string word;
    if (c == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '\\' && i + 1 < line.size()) { word += line[i + 1]; i += 2; continue; }
        if (line[i] == '"') { closed = true; ++i; break; }
        word += line[i++];
      }
      if (!closed) return BadRequest("unterminated string");
      out.push_back("\"" + word);  // a leading quote marks a description
      continue;
    }
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) word += line[i++];
    out.push_back(word);
  }
  return out;
}

bool IsDescription(const std::string& w) { return !w.empty() && w[0] == '"'; }

const std::map<std::string, ValueKind, std::less<>>& Builtins() {
  static const std::map<std::string, ValueKind, std::less<>> m = {
      {"string", ValueKind::kString},       {"bytes", ValueKind::kBytes},
      {"bool", ValueKind::kBool},           {"int32", ValueKind::kInt32},
      {"int64", ValueKind::kInt64},         {"double", ValueKind::kDouble},
      {"Quantity", ValueKind::kQuantity},   {"IntOrString", ValueKind::kIntOrString},
      {"Time", ValueKind::kTime},           {"MicroTime", ValueKind::kMicroTime},
      {"Duration", ValueKind::kDuration},   {"RawExtension", ValueKind::kRawExtension},
      {"any", ValueKind::kAny},
  };
  return m;
}

Result<TypeRef> ParseTypeRef(std::string_view s) {
  TypeRef t;
  if (s.starts_with("[]")) {
    auto elem = ParseTypeRef(s.substr(2));
    if (!elem.ok()) return elem.status();
    t.kind = ValueKind::kList;
    t.elem = std::make_shared<TypeRef>(std::move(elem).value());
    return t;
  }
  if (s.starts_with("map[string]")) {
    auto elem = ParseTypeRef(s.substr(11));
    if (!elem.ok()) return elem.status();
    t.kind = ValueKind::kMap;
    t.elem = std::make_shared<TypeRef>(std::move(elem).value());
    return t;
  }
  if (s.empty()) return BadRequest("empty type");
  if (auto it = Builtins().find(s); it != Builtins().end()) {
    t.kind = it->second;
    return t;
  }
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_') {
      return BadRequest("bad type name \"" + std::string(s) + "\"");
    }
  }
  t.kind = ValueKind::kObject;
  t.name = std::string(s);
  return t;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

Status ApplyFlag(FieldSchema& f, const std::string& flag) {
  auto eq = flag.find('=');
  std::string key = flag.substr(0, eq);
  std::string val = eq == std::string::npos ? "" : flag.substr(eq + 1);
  if (eq == std::string::npos) {
    if (key == "ptr") f.ptr = true;
    else if (key == "required") f.required = true;
    else if (key == "status") f.status = true;
    else if (key == "immutable") f.immutable = true;
    else if (key == "readonly") f.readonly = true;
    else if (key == "unimplemented") f.unimplemented = true;
    else if (key == "retainKeys") f.patch_strategy = "retainKeys";
    else return BadRequest("unknown flag \"" + flag + "\"");
    return Status::OK();
  }
  if (key == "default") f.default_value = val;
  else if (key == "enum") f.enum_values = Split(val, '|');
  else if (key == "merge") f.merge_key = val;
  else if (key == "patch") f.patch_strategy = val;
  else if (key == "list") f.list_type = val;
  else if (key == "keys") f.list_keys = Split(val, ',');
  else if (key == "maptype") f.map_type = val;
  else if (key == "inline") f.inline_proto = std::atoi(val.c_str());
  else return BadRequest("unknown flag \"" + flag + "\"");
  return Status::OK();
}

struct FileContext {
  std::string package, group, version;
};

// Parses one file into types (references unresolved).
Status ParseFile(const std::string& file, const std::string& text,
                 std::vector<std::unique_ptr<TypeSchema>>& out) {
  FileContext ctx;
  TypeSchema* current = nullptr;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  auto fail = [&](const std::string& msg) { return BadRequest(file + ":" + std::to_string(lineno) + ": " + msg); };
  while (std::getline(in, line)) {
    ++lineno;
    auto words_or = Tokenize(line);
    if (!words_or.ok()) return fail(words_or.status().message());
    auto& w = *words_or;
    if (w.empty()) continue;
    bool indented = std::isspace(static_cast<unsigned char>(line[0]));
    if (!indented) {
      if ((w[0] == "package" || w[0] == "group" || w[0] == "version") && w.size() == 2) {
        (w[0] == "package" ? ctx.package : w[0] == "group" ? ctx.group : ctx.version) = w[1];
        if (w[0] == "group" && w[1] == "core") ctx.group = "";
        continue;
      }
      if (w[0] != "type" || w.size() < 2) return fail("expected 'type <Name>' or a header line");
      if (ctx.package.empty()) return fail("'package' must come before the first type");
      auto t = std::make_unique<TypeSchema>();
      t->name = w[1];
      t->package = ctx.package;
      t->group = ctx.group;
      t->version = ctx.version;
      for (size_t i = 2; i < w.size(); ++i) {
        if (w[i] == "object") t->is_object = true;
        else if (IsDescription(w[i])) t->description = w[i].substr(1);
        else return fail("unexpected \"" + w[i] + "\" on type line");
      }
      if (t->is_object) {
        auto add = [&](const char* name, const char* description) {
          FieldSchema f;
          f.name = name;
          f.description = description;
          t->by_name[f.name] = t->fields.size();
          t->fields.push_back(std::move(f));
        };
        add("apiVersion", "The versioned schema of this object, such as \"v1\" or \"apps/v1\".");
        add("kind", "The kind of this object, such as \"Pod\".");
      }
      current = t.get();
      out.push_back(std::move(t));
      continue;
    }
    if (current == nullptr) return fail("field line outside a type");
    if (w.size() < 3) return fail("expected '<name> <type> <protoNumber> [flags] [\"description\"]'");
    FieldSchema f;
    f.name = w[0];
    auto type = ParseTypeRef(w[1]);
    if (!type.ok()) return fail(type.status().message());
    f.type = std::move(type).value();
    char* end = nullptr;
    f.proto = static_cast<int>(std::strtol(w[2].c_str(), &end, 10));
    if (end == w[2].c_str() || *end != '\0' || f.proto <= 0) return fail("bad protobuf number \"" + w[2] + "\"");
    for (size_t i = 3; i < w.size(); ++i) {
      if (IsDescription(w[i])) {
        if (i + 1 != w.size()) return fail("the description must be the last item");
        f.description = w[i].substr(1);
        continue;
      }
      if (auto s = ApplyFlag(f, w[i]); !s.ok()) return fail(s.message());
    }
    if (f.type.kind == ValueKind::kList && f.list_type.empty()) {
      f.list_type = f.merge_key.empty() ? "atomic" : "map";
      if (!f.merge_key.empty() && f.list_keys.empty()) f.list_keys = {f.merge_key};
    }
    if (!f.merge_key.empty() && f.patch_strategy.empty()) f.patch_strategy = "merge";
    if (current->by_name.count(f.name)) return fail("duplicate field \"" + f.name + "\"");
    current->by_name[f.name] = current->fields.size();
    current->fields.push_back(std::move(f));
  }
  return Status::OK();
}

}  // namespace

std::string TypeRef::ToString() const {
  switch (kind) {
    case ValueKind::kList: return "[]" + elem->ToString();
    case ValueKind::kMap: return "map[string]" + elem->ToString();
    case ValueKind::kObject: return name;
    default:
      for (auto& [n, k] : Builtins()) if (k == kind) return n;
      return "?";
  }
}

const FieldSchema* TypeSchema::Field(std::string_view json_name) const {
  auto it = by_name.find(json_name);
  return it == by_name.end() ? nullptr : &fields[it->second];
}

Result<std::unique_ptr<SchemaRegistry>> SchemaRegistry::Parse(
    const std::vector<std::pair<std::string, std::string>>& files) {
  auto reg = std::unique_ptr<SchemaRegistry>(new SchemaRegistry());
  for (auto& [name, text] : files) KUBES_RETURN_IF_ERROR(ParseFile(name, text, reg->types_));
  std::vector<std::string> errors;
  for (auto& t : reg->types_) {
    auto [it, inserted] = reg->by_openapi_name_.emplace(t->OpenAPIName(), t.get());
    if (!inserted) errors.push_back("duplicate type " + t->OpenAPIName());
  }
  // Resolve references: bare names in the same package; meta./core./resource. aliases;
  // otherwise the prefix names the last parts of a package ("apps.v1.X").
  auto resolve = [&](const TypeSchema& owner, TypeRef& ref, const std::string& field) {
    TypeRef* r = &ref;
    while (r->elem) r = r->elem.get();
    if (r->kind != ValueKind::kObject) return;
    std::string name = r->name;
    auto dot = name.rfind('.');
    const TypeSchema* found = nullptr;
    if (dot == std::string::npos) {
      found = reg->Find(owner.package, name);
    } else {
      std::string prefix = name.substr(0, dot), shortname = name.substr(dot + 1);
      if (prefix == "meta") prefix = "io.k8s.apimachinery.pkg.apis.meta.v1";
      else if (prefix == "core") prefix = "io.k8s.api.core.v1";
      else if (prefix == "resource") prefix = "io.k8s.apimachinery.pkg.api.resource";
      for (auto& [qn, t] : reg->by_openapi_name_) {
        if (t->name == shortname && (t->package == prefix || t->package.ends_with("." + prefix))) {
          found = t;
          break;
        }
      }
    }
    if (!found) errors.push_back(owner.OpenAPIName() + "." + field + ": unknown type " + name);
    r->object = found;
  };
  for (auto& t : reg->types_) {
    for (auto& f : t->fields) resolve(*t, f.type, f.name);
  }
  if (!errors.empty()) {
    std::string msg;
    for (auto& e : errors) msg += e + "\n";
    return BadRequest(msg);
  }
  return reg;
}

const TypeSchema* SchemaRegistry::Find(std::string_view package, std::string_view name) const {
  std::string q = std::string(package) + "." + std::string(name);
  auto it = by_openapi_name_.find(q);
  return it == by_openapi_name_.end() ? nullptr : it->second;
}

const TypeSchema* SchemaRegistry::FindKind(std::string_view group, std::string_view version,
                                           std::string_view kind) const {
  for (auto& t : types_) {
    if (t->is_object && t->group == group && t->version == version && t->name == kind) return t.get();
  }
  return nullptr;
}

}  // namespace kubes::api
