#include "apiserver/patch/json_patch.h"

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "apiserver/patch/patch_util.h"

namespace kubes::apiserver::patch {
namespace {

// Inside this file an operation step reports failure as its message; "" means success.
// The suffixes are the Go sentinel errors v4 wraps (errors.Wrapf adds ": <cause>").
using Error = std::string;
constexpr char kMissing[] = ": missing value";
constexpr char kBadIndex[] = ": invalid index referenced";

// strconv.Atoi: optional sign, decimal digits, int64 range.
Error ParseGoInt(std::string_view s, int64_t& out) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  auto syntax = [&] { return "strconv.Atoi: parsing \"" + std::string(s) + "\": invalid syntax"; };
  if (digits.empty()) return syntax();
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  if (end != digits.data() + digits.size() && ec != std::errc::result_out_of_range) return syntax();
  for (char c : digits) {
    if (c < '0' || c > '9') return syntax();
  }
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (ec == std::errc::result_out_of_range || magnitude > limit) {
    return "strconv.Atoi: parsing \"" + std::string(s) + "\": value out of range";
  }
  out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return "";
}

Error IndexError(int64_t index) {
  return "Unable to access invalid index: " + std::to_string(index) + kBadIndex;
}

// Resolves an array token for reading, replacing or removing an existing element.
// Negative indices count from the end, as v4 allows.
Error ExistingIndex(std::string_view token, size_t size, size_t& out) {
  int64_t index = 0;
  if (Error e = ParseGoInt(token, index); !e.empty()) return e;
  const auto n = static_cast<int64_t>(size);
  int64_t resolved = index;
  if (resolved < 0) {
    if (resolved < -n) return IndexError(index);
    resolved += n;
  }
  if (resolved >= n) return IndexError(index);
  out = static_cast<size_t>(resolved);
  return "";
}

// RFC 6901 token unescaping: "~1" is "/", "~0" is "~", read left to right.
std::string UnescapeToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

// Where a pointer leads: the object or array that holds (or will hold) the target, and
// the target's unescaped last token. `depth` is the container's nesting level (1 = root).
struct Target {
  Json* container;
  std::string key;
  size_t depth;
};

// Walks every token but the last. Fails (nullopt) for "", a pointer without a leading
// "/", or when a step is missing, null or a scalar.
std::optional<Target> FindTarget(Json& doc, std::string_view path) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  Json* current = &doc;
  size_t depth = 1;
  std::string_view rest = path.substr(1);
  for (size_t slash = rest.find('/'); slash != std::string_view::npos; slash = rest.find('/')) {
    std::string token = UnescapeToken(rest.substr(0, slash));
    rest.remove_prefix(slash + 1);
    Json* next = nullptr;
    if (current->is_object()) {
      auto it = current->find(token);
      if (it != current->end()) next = &*it;
    } else {
      size_t index = 0;
      if (!ExistingIndex(token, current->size(), index).empty()) return std::nullopt;
      next = &(*current)[index];
    }
    if (next == nullptr || !next->is_structured()) return std::nullopt;
    current = next;
    ++depth;
  }
  return Target{current, UnescapeToken(rest), depth};
}

// The target's value, or nullptr for a missing or null object member (v4 cannot tell
// them apart). Errors only for a bad array index.
Error Get(const Target& t, Json** out) {
  *out = nullptr;
  if (t.container->is_object()) {
    auto it = t.container->find(t.key);
    if (it != t.container->end() && !it->is_null()) *out = &*it;
    return "";
  }
  size_t index = 0;
  if (Error e = ExistingIndex(t.key, t.container->size(), index); !e.empty()) return e;
  Json& element = (*t.container)[index];
  if (!element.is_null()) *out = &element;
  return "";
}

// Values inserted into the document must not push it past the nesting limit.
Error CheckInsertDepth(const Target& t, const Json& value) {
  if (t.depth + NestingDepth(value) > kMaxNestingDepth) {
    return "the result would nest deeper than " + std::to_string(kMaxNestingDepth) + " levels";
  }
  return "";
}

Error Add(const Target& t, Json value) {
  if (Error e = CheckInsertDepth(t, value); !e.empty()) return e;
  if (t.container->is_object()) {
    (*t.container)[t.key] = std::move(value);
    return "";
  }
  Json& array = *t.container;
  if (t.key == "-") {
    array.push_back(std::move(value));
    return "";
  }
  int64_t index = 0;
  if (Error e = ParseGoInt(t.key, index); !e.empty()) {
    return "value was not a proper array index: '" + t.key + "': " + e;
  }
  const auto size = static_cast<int64_t>(array.size()) + 1;  // positions to insert at
  int64_t resolved = index;
  if (resolved >= size) return IndexError(index);
  if (resolved < 0) {
    if (resolved < -size) return IndexError(index);
    resolved += size;
  }
  array.insert(array.begin() + resolved, std::move(value));
  return "";
}

// Overwrites an existing element (the caller has checked it with Get).
Error Set(const Target& t, Json value) {
  if (Error e = CheckInsertDepth(t, value); !e.empty()) return e;
  if (t.container->is_object()) {
    (*t.container)[t.key] = std::move(value);
    return "";
  }
  size_t index = 0;
  if (Error e = ExistingIndex(t.key, t.container->size(), index); !e.empty()) return e;
  (*t.container)[index] = std::move(value);
  return "";
}

Error Remove(const Target& t) {
  if (t.container->is_object()) {
    if (t.container->erase(t.key) == 0) return "Unable to remove nonexistent key: " + t.key + kMissing;
    return "";
  }
  size_t index = 0;
  if (Error e = ExistingIndex(t.key, t.container->size(), index); !e.empty()) return e;
  t.container->erase(index);
  return "";
}

// The "path" or "from" member of an operation.
struct Pointer {
  std::string value;
  Error error;
};

Pointer ReadPointer(const Json& op, const char* field) {
  auto it = op.is_object() ? op.find(field) : op.end();
  if (!op.is_object() || it == op.end() || it->is_null()) {
    return {"", std::string(field) == "path" ? std::string("operation missing path field") + kMissing
                                             : std::string("operation, missing from field") + kMissing};
  }
  if (!it->is_string()) {
    return {"", "json: cannot unmarshal " + JsonKindName(*it) + " into Go value of type string"};
  }
  return {it->get<std::string>(), ""};
}

// An absent "value" reads as null.
Json Value(const Json& op) {
  auto it = op.find("value");
  return it == op.end() ? Json(nullptr) : *it;
}

Error OpAdd(Json& doc, const Json& op) {
  Pointer path = ReadPointer(op, "path");
  if (!path.error.empty()) return std::string("add operation failed to decode path") + kMissing;
  auto target = FindTarget(doc, path.value);
  if (!target) return "add operation does not apply: doc is missing path: \"" + path.value + "\"" + kMissing;
  if (Error e = Add(*target, Value(op)); !e.empty()) return "error in add for path: '" + path.value + "': " + e;
  return "";
}

Error OpRemove(Json& doc, const Json& op) {
  Pointer path = ReadPointer(op, "path");
  if (!path.error.empty()) return std::string("remove operation failed to decode path") + kMissing;
  auto target = FindTarget(doc, path.value);
  if (!target) return "remove operation does not apply: doc is missing path: \"" + path.value + "\"" + kMissing;
  if (Error e = Remove(*target); !e.empty()) return "error in remove for path: '" + path.value + "': " + e;
  return "";
}

Error OpReplace(Json& doc, const Json& op) {
  Pointer path = ReadPointer(op, "path");
  if (!path.error.empty()) return "replace operation failed to decode path: " + path.error;
  if (path.value.empty()) {
    // v4 silently ignores a scalar here; failing is kinder than a patch that did nothing.
    Json value = Value(op);
    if (!value.is_structured()) return "replace operation value must be object or array";
    doc = std::move(value);
    return "";
  }
  auto target = FindTarget(doc, path.value);
  if (!target) return "replace operation does not apply: doc is missing path: " + path.value + kMissing;
  Json* existing = nullptr;
  if (!Get(*target, &existing).empty()) {
    return "replace operation does not apply: doc is missing key: " + path.value + kMissing;
  }
  // v4's message says "remove" here; kept so searches for it find the upstream issue.
  if (Error e = Set(*target, Value(op)); !e.empty()) return "error in remove for path: '" + path.value + "': " + e;
  return "";
}

Error OpMove(Json& doc, const Json& op) {
  Pointer from = ReadPointer(op, "from");
  if (!from.error.empty()) return "move operation failed to decode from: " + from.error;
  auto source = FindTarget(doc, from.value);
  if (!source) return "move operation does not apply: doc is missing from path: " + from.value + kMissing;
  Json* found = nullptr;
  if (Error e = Get(*source, &found); !e.empty()) return "error in move for path: '" + source->key + "': " + e;
  Json value = found != nullptr ? std::move(*found) : Json(nullptr);
  if (Error e = Remove(*source); !e.empty()) return "error in move for path: '" + source->key + "': " + e;

  Pointer path = ReadPointer(op, "path");
  if (!path.error.empty()) return "move operation failed to decode path: " + path.error;
  auto target = FindTarget(doc, path.value);
  if (!target) return "move operation does not apply: doc is missing destination path: " + path.value + kMissing;
  if (Error e = Add(*target, std::move(value)); !e.empty()) {
    return "error in move for path: '" + path.value + "': " + e;
  }
  return "";
}

Error OpTest(Json& doc, const Json& op) {
  Pointer path = ReadPointer(op, "path");
  if (!path.error.empty()) return "test operation failed to decode path: " + path.error;
  const Json want = Value(op);
  const std::string failed = "testing value " + path.value + " failed: test failed";
  if (path.value.empty()) return JsonEqual(doc, want) ? "" : failed;
  auto target = FindTarget(doc, path.value);
  if (!target) return "test operation does not apply: is missing path: " + path.value + kMissing;
  Json* got = nullptr;
  if (Error e = Get(*target, &got); !e.empty()) return "error in test for path: '" + path.value + "': " + e;
  if (got == nullptr) return want.is_null() ? "" : failed;
  return JsonEqual(*got, want) ? "" : failed;
}

Error OpCopy(Json& doc, const Json& op, int64_t& copied_bytes) {
  Pointer from = ReadPointer(op, "from");
  if (!from.error.empty()) return "copy operation failed to decode from: " + from.error;
  auto source = FindTarget(doc, from.value);
  if (!source) return "copy operation does not apply: doc is missing from path: " + from.value + kMissing;
  Json* found = nullptr;
  if (Error e = Get(*source, &found); !e.empty()) return "error in copy for from: '" + from.value + "': " + e;
  // Copy now: inserting below may move the element `found` points at.
  Json value = found != nullptr ? *found : Json(nullptr);

  Pointer path = ReadPointer(op, "path");
  if (!path.error.empty()) return std::string("copy operation failed to decode path") + kMissing;
  auto target = FindTarget(doc, path.value);
  if (!target) return "copy operation does not apply: doc is missing destination path: " + path.value + kMissing;
  copied_bytes += found != nullptr ? static_cast<int64_t>(SafeDump(value).size()) : 0;
  if (copied_bytes > kMaxJsonPatchCopyBytes) {
    return "Unable to complete the copy, the accumulated size increase of copy is " + std::to_string(copied_bytes) +
           ", exceeding the limit " + std::to_string(kMaxJsonPatchCopyBytes);
  }
  if (Error e = Add(*target, std::move(value)); !e.empty()) return "error while adding value during copy: " + e;
  return "";
}

// Operation.Kind: the "op" string, or "unknown".
std::string Kind(const Json& op) {
  if (!op.is_object()) return "unknown";
  auto it = op.find("op");
  return it != op.end() && it->is_string() ? it->get<std::string>() : "unknown";
}

// Runs the operations in order on `doc`.
Result<Json> ApplyOperations(const std::vector<Json>& operations, Json doc) {
  int64_t copied_bytes = 0;
  for (const Json& op : operations) {
    const std::string kind = Kind(op);
    Error error;
    if (kind == "add") error = OpAdd(doc, op);
    else if (kind == "remove") error = OpRemove(doc, op);
    else if (kind == "replace") error = OpReplace(doc, op);
    else if (kind == "move") error = OpMove(doc, op);
    else if (kind == "test") error = OpTest(doc, op);
    else if (kind == "copy") error = OpCopy(doc, op, copied_bytes);
    else error = "Unexpected kind: " + kind;
    if (!error.empty()) return Invalid(error);
  }
  return doc;
}

}  // namespace

Result<JsonPatch> JsonPatch::Decode(const Json& patch) {
  if (patch.is_null()) return JsonPatch({});
  if (!patch.is_array()) {
    return BadRequest("json: cannot unmarshal " + JsonKindName(patch) + " into Go value of type jsonpatch.Patch");
  }
  KUBES_RETURN_IF_ERROR(CheckNestingDepth(patch, "json patch"));
  std::vector<Json> operations;
  operations.reserve(patch.size());
  for (const Json& op : patch) {
    if (!op.is_object() && !op.is_null()) {
      return BadRequest("json: cannot unmarshal " + JsonKindName(op) +
                        " into Go value of type jsonpatch.Operation");
    }
    operations.push_back(op);
  }
  return JsonPatch(std::move(operations));
}

Result<Json> JsonPatch::Apply(const Json& doc) const {
  if (!doc.is_structured()) {
    return Invalid("json: cannot unmarshal " + JsonKindName(doc) + " into Go value of type jsonpatch.partialDoc");
  }
  // Before the copy below: copying is recursive too.
  KUBES_RETURN_IF_ERROR(CheckNestingDepth(doc, "document"));
  try {
    return ApplyOperations(operations_, doc);
  } catch (const Json::exception& e) {
    // Every access is checked first; reaching this is a bug, not bad input.
    return Internal(std::string("internal error in json patch: ") + e.what());
  }
}

Result<Json> ApplyJsonPatch(const Json& doc, const Json& patch) {
  auto decoded = JsonPatch::Decode(patch);
  if (!decoded.ok()) return decoded.status();
  if (decoded->size() > kMaxJsonPatchOperations) {
    return Status(Code::kRequestEntityTooLarge, "The allowed maximum operations in a JSON patch is " +
                                                    std::to_string(kMaxJsonPatchOperations) + ", got " +
                                                    std::to_string(decoded->size()));
  }
  auto patched = decoded->Apply(doc);
  if (!patched.ok() && patched.status().code() == Code::kInvalid) {
    return Invalid(kRejectedRequestMessage);
  }
  return patched;
}

}  // namespace kubes::apiserver::patch
