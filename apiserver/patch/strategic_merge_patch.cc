#include "apiserver/patch/strategic_merge_patch.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "apiserver/patch/patch_util.h"

namespace kubes::apiserver::patch {
namespace {

constexpr char kDirectiveMarker[] = "$patch";
constexpr char kRetainKeysDirective[] = "$retainKeys";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";

// ---- Errors, worded and coded as kube-apiserver reports them -------------------------

Status ErrBadPatchFormatForRetainKeys() { return BadRequest("invalid patch format of retainKeys"); }
Status ErrBadPatchFormatForSetElementOrderList() {
  return BadRequest("invalid patch format of setElementOrder list");
}
Status ErrBadPatchFormatForPrimitiveList() { return BadRequest("invalid patch format of primitive list"); }
Status ErrNoListOfLists() { return Invalid(kRejectedRequestMessage); }  // "lists of lists are not supported"

// Upstream returns the rest as plain Go errors, which the apiserver turns into a 500.
Status GoError(std::string message) { return Internal(std::move(message)); }
Status ErrNoMergeKey(const Json& map, const std::string& key) {
  return GoError("map: " + GoFormat(map) + " does not contain declared merge key: " + key);
}
Status ErrBadArgType(const char* expected, const Json& actual) {
  return GoError(std::string("expected a ") + expected + ", but received a " + GoTypeName(actual));
}
constexpr char kMapType[] = "map[string]interface {}";
constexpr char kSliceType[] = "[]interface {}";
Status ErrBadPatchType(const Json& directive, const Json& map) {
  return GoError("unknown patch type: " + GoFormat(directive) + " in map: " + GoFormat(map));
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// "$setElementOrder/containers" -> "containers"; nullopt when malformed.
std::optional<std::string> ExtractKey(std::string_view directive, std::string_view prefix) {
  size_t slash = directive.find('/');
  if (slash == std::string_view::npos || directive.substr(0, slash) != prefix) return std::nullopt;
  return std::string(directive.substr(slash + 1));
}

bool HasDirective(const Json& item) { return item.is_object() && item.contains(kDirectiveMarker); }
bool IsDeleteItem(const Json& item) {
  return item.is_object() && item.contains(kDirectiveMarker) && item[kDirectiveMarker] == "delete";
}

// ---- What the schema knows ----------------------------------------------------------

// The schema of one JSON object in the document: a struct type, a map whose values share
// one type, or nothing (unknown fields, `any`, RawExtension): then it merges as JSON
// merge patch does.
struct View {
  const api::TypeSchema* object = nullptr;
  const api::TypeRef* map = nullptr;  // kind kMap

  std::string Name() const { return object != nullptr ? object->name : "map"; }
};

View ViewOf(const api::TypeRef* type) {
  if (type == nullptr) return {};
  if (type->kind == api::ValueKind::kObject) return {type->object, nullptr};
  if (type->kind == api::ValueKind::kMap) return {nullptr, type};
  return {};
}

// Upstream's PatchMeta for one field, with the views of its value and list items.
struct FieldMeta {
  View value;  // when the field holds an object
  View elem;   // when the field holds a list
  std::string merge_key;
  std::string strategy;  // "merge", "replace" or "" ("retainKeys" only marks $retainKeys use)
};

// The field's strategy without "retainKeys" (extractRetainKeysPatchStrategy).
Result<std::string> MainStrategy(const std::string& strategies) {
  std::vector<std::string> parts;
  for (size_t start = 0; !strategies.empty();) {
    size_t comma = strategies.find(',', start);
    parts.push_back(strategies.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (parts.empty()) return std::string();
  if (parts.size() == 1) return parts[0] == "retainKeys" ? std::string() : parts[0];
  if (parts.size() == 2 && parts[0] == "retainKeys") return parts[1];
  if (parts.size() == 2 && parts[1] == "retainKeys") return parts[0];
  std::string list;
  for (const std::string& p : parts) list += (list.empty() ? "" : " ") + p;
  return GoError("unexpected patch strategy: [" + list + "]");
}

Result<FieldMeta> LookupField(const View& view, const std::string& key) {
  FieldMeta meta;
  const api::TypeRef* type = nullptr;
  if (view.object != nullptr) {
    if (const api::FieldSchema* field = view.object->Field(key)) {
      type = &field->type;
      meta.merge_key = field->merge_key;
      auto strategy = MainStrategy(field->patch_strategy);
      if (!strategy.ok()) return strategy.status();
      meta.strategy = *strategy;
    }
  } else if (view.map != nullptr) {
    type = view.map->elem.get();
  }
  meta.value = ViewOf(type);
  if (type != nullptr && type->kind == api::ValueKind::kList) meta.elem = ViewOf(type->elem.get());
  return meta;
}

// ---- List item identity -------------------------------------------------------------

// Upstream compares items with Go's ==; a canonical dump gives the same answers (an int
// never equals a float, strings compare by content) and can be hashed, which keeps long
// lists linear.
enum class ItemKind { kNone, kMap, kScalar };

std::string Identity(const Json& value) { return SafeDump(value); }

// Maps are identified by their merge key value (a missing key counts as null).
std::string ItemIdentity(const Json& item, const std::string& merge_key, ItemKind kind) {
  if (kind != ItemKind::kMap) return Identity(item);
  if (!item.is_object()) return "null";
  auto it = item.find(merge_key);
  return it == item.end() ? "null" : Identity(*it);
}

// identity -> first position in `list`.
std::unordered_map<std::string, size_t> FirstPositions(const Json& list, const std::string& merge_key,
                                                       ItemKind kind) {
  std::unordered_map<std::string, size_t> positions;
  for (size_t i = 0; i < list.size(); ++i) positions.emplace(ItemIdentity(list[i], merge_key, kind), i);
  return positions;
}

// The one element type of both lists (sliceElementType): all items must be of one JSON
// type, and not lists.
Result<ItemKind> ElementKind(const Json& original, const Json& patch) {
  std::optional<Json::value_t> first;
  auto category = [](const Json& v) {
    return v.type() == Json::value_t::number_unsigned ? Json::value_t::number_integer : v.type();
  };
  for (const Json* list : {&original, &patch}) {
    for (const Json& item : *list) {
      if (!first) {
        first = category(item);
        if (item.is_array()) return ErrNoListOfLists();
      } else if (category(item) != *first) {
        return GoError("list element types are not identical: " + GoFormat(Json::array({original, patch})));
      }
    }
  }
  if (!first) return ItemKind::kNone;
  return *first == Json::value_t::object ? ItemKind::kMap : ItemKind::kScalar;
}

Status ValidateMergeKeys(const std::string& merge_key, const Json& list) {
  for (const Json& item : list) {
    if (!item.is_object()) return ErrBadArgType(kMapType, item);
    if (!item.contains(merge_key)) return ErrNoMergeKey(item, merge_key);
  }
  return Status::OK();
}

// ---- Ordering (normalizeElementOrder and friends) -----------------------------------

// Sorts `items` by where each one first appears in `order`, keeping ties stable. Items
// absent from `order` go first (upstream's comparator is not a strict ordering for them;
// they cannot occur in patches kubectl computes). Items marked for deletion go last.
Status SortByOrder(Json& items, const Json& order, const std::string& merge_key, ItemKind kind) {
  Json to_delete = Json::array();
  if (kind == ItemKind::kMap) {
    KUBES_RETURN_IF_ERROR(ValidateMergeKeys(merge_key, items));
    KUBES_RETURN_IF_ERROR(ValidateMergeKeys(merge_key, order));
  }
  auto positions = FirstPositions(order, merge_key, kind);
  std::vector<std::pair<size_t, size_t>> keyed;  // (rank, index in items)
  for (size_t i = 0; i < items.size(); ++i) {
    if (kind == ItemKind::kMap && IsDeleteItem(items[i])) {
      to_delete.push_back(items[i]);
      continue;
    }
    auto it = positions.find(ItemIdentity(items[i], merge_key, kind));
    keyed.emplace_back(it == positions.end() ? 0 : it->second + 1, i);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Json sorted = Json::array();
  for (const auto& [rank, index] : keyed) sorted.push_back(std::move(items[index]));
  for (Json& item : to_delete) sorted.push_back(std::move(item));
  items = std::move(sorted);
  return Status::OK();
}

// Interleaves two sorted lists (mergeSortedSlice): a server-only item goes before a patch
// item when it came earlier in the live list; otherwise the patch item goes first.
Json MergeSorted(Json server_only, Json patch_items, const Json& server_order, const std::string& merge_key,
                 ItemKind kind) {
  auto positions = FirstPositions(server_order, merge_key, kind);
  auto position = [&](const Json& item) -> long {
    auto it = positions.find(ItemIdentity(item, merge_key, kind));
    return it == positions.end() ? -1 : static_cast<long>(it->second);
  };
  Json out = Json::array();
  size_t i = 0, j = 0;
  while (i < server_only.size() && j < patch_items.size()) {
    long left = position(server_only[i]), right = position(patch_items[j]);
    if (left >= 0 && right >= 0 && left < right) {
      out.push_back(std::move(server_only[i++]));
    } else {
      out.push_back(std::move(patch_items[j++]));
    }
  }
  while (i < server_only.size()) out.push_back(std::move(server_only[i++]));
  while (j < patch_items.size()) out.push_back(std::move(patch_items[j++]));
  return out;
}

// Splits `merged` into the items present in `by` and the others (server-only items).
Result<std::pair<Json, Json>> Partition(const Json& merged, const Json& by, const std::string& merge_key,
                                        ItemKind kind) {
  if (kind == ItemKind::kMap) {
    for (size_t i = 0; i < by.size(); ++i) {
      if (!by[i].is_object()) return GoError("value for key " + std::to_string(i) + " is not a map");
    }
  }
  std::unordered_set<std::string> present;
  for (const Json& item : by) {
    if (kind != ItemKind::kMap || item.contains(merge_key)) present.insert(ItemIdentity(item, merge_key, kind));
  }
  std::pair<Json, Json> parts{Json::array(), Json::array()};
  for (const Json& item : merged) {
    if (kind == ItemKind::kMap) {
      if (!item.is_object()) return ErrBadArgType(kMapType, item);
      if (!item.contains(merge_key)) return ErrNoMergeKey(item, merge_key);
    }
    (present.count(ItemIdentity(item, merge_key, kind)) ? parts.first : parts.second).push_back(item);
  }
  return parts;
}

// Orders a merged list: patch items in `patch_order`, server-only items in
// `server_order`, interleaved (normalizeElementOrder).
Result<Json> NormalizeOrder(const Json& merged, const Json& patch_order, const Json& server_order,
                            const std::string& merge_key, ItemKind kind) {
  // Lists of maps without a merge key are partitioned by value, then rejected below.
  auto parts = Partition(merged, patch_order, merge_key, merge_key.empty() ? ItemKind::kScalar : kind);
  if (!parts.ok()) return parts.status();
  auto& [patch_items, server_only] = *parts;
  KUBES_RETURN_IF_ERROR(SortByOrder(patch_items, patch_order, merge_key, kind));
  KUBES_RETURN_IF_ERROR(SortByOrder(server_only, server_order, merge_key, kind));
  return MergeSorted(std::move(server_only), std::move(patch_items), server_order, merge_key, kind);
}

// ---- Merging ------------------------------------------------------------------------

Status MergeMap(Json& original, Json patch, const View& view);

// A patch list applied where there is no list: directive items have nothing to act on,
// object items are applied to empty objects so their own directives and nulls go too.
Result<Json> ListFromNothing(Json list, const View& elem) {
  Json out = Json::array();
  for (Json& item : list) {
    if (HasDirective(item)) continue;
    if (item.is_object()) {
      Json built = Json::object();
      KUBES_RETURN_IF_ERROR(MergeMap(built, std::move(item), elem));
      out.push_back(std::move(built));
    } else if (item.is_array()) {
      auto inner = ListFromNothing(std::move(item), View{});
      if (!inner.ok()) return inner.status();
      out.push_back(std::move(*inner));
    } else {
      out.push_back(std::move(item));
    }
  }
  return out;
}

// A patch value applied where the original has no value (or one of another JSON type).
// nullopt: the key must not exist afterwards ({"$patch": "delete"}).
Result<std::optional<Json>> FromNothing(Json value, const FieldMeta& meta) {
  if (value.is_object()) {
    if (IsDeleteItem(value)) return std::optional<Json>();
    Json built = Json::object();
    KUBES_RETURN_IF_ERROR(MergeMap(built, std::move(value), meta.value));
    return std::optional<Json>(std::move(built));
  }
  if (value.is_array()) {
    auto list = ListFromNothing(std::move(value), meta.elem);
    if (!list.ok()) return list.status();
    return std::optional<Json>(std::move(*list));
  }
  return std::optional<Json>(std::move(value));
}

Status PlaceNew(Json& parent, const std::string& key, Json value, const FieldMeta& meta) {
  auto placed = FromNothing(std::move(value), meta);
  if (!placed.ok()) return placed.status();
  if (placed->has_value()) {
    parent[key] = std::move(**placed);
  } else {
    parent.erase(key);
  }
  return Status::OK();
}

// Handles the list items carrying "$patch" (mergeSliceWithSpecialElements): deletes by
// merge key from `original`; a replace marker makes the other patch items the new list.
// `remaining` receives `original` after the deletions, before any replacement.
Status ApplyListDirectives(Json& original, Json& patch, const std::string& merge_key, const View& elem,
                           Json& remaining) {
  Json plain = Json::array();
  bool replace = false;
  for (Json& item : patch) {
    auto directive = item.find(kDirectiveMarker);
    if (directive == item.end()) {
      plain.push_back(std::move(item));
    } else if (*directive == "delete") {
      auto key = item.find(merge_key);
      if (key == item.end()) return ErrNoMergeKey(item, merge_key);
      Json kept = Json::array();
      for (Json& existing : original) {
        auto k = existing.find(merge_key);
        if (k == existing.end() || !JsonEqual(*k, *key)) kept.push_back(std::move(existing));
      }
      original = std::move(kept);
    } else if (*directive == "replace") {
      replace = true;  // keep going: later delete items are still pruned from the patch
    } else if (*directive == "merge") {
      return GoError("merging lists cannot yet be specified in the patch");
    } else {
      return ErrBadPatchType(*directive, item);
    }
  }
  remaining = original;
  if (!replace) {
    patch = std::move(plain);
    return Status::OK();
  }
  auto rebuilt = ListFromNothing(std::move(plain), elem);
  if (!rebuilt.ok()) return rebuilt.status();
  original = std::move(*rebuilt);
  patch = Json::array();
  return Status::OK();
}

// Merges patch items into `original` by merge key; unknown keys are appended.
Status MergeItemsByKey(Json& original, const Json& patch, const std::string& merge_key, const View& elem) {
  std::unordered_map<std::string, size_t> position;
  for (size_t i = 0; i < original.size(); ++i) {
    auto k = original[i].find(merge_key);
    if (k != original[i].end()) position.emplace(Identity(*k), i);
  }
  for (const Json& item : patch) {
    auto k = item.find(merge_key);
    if (k == item.end()) return ErrNoMergeKey(item, merge_key);
    auto [it, added] = position.emplace(Identity(*k), original.size());
    if (added) original.push_back(Json::object());
    KUBES_RETURN_IF_ERROR(MergeMap(original[it->second], item, elem));
  }
  return Status::OK();
}

// mergeSlice: a list with strategy "merge", or a $deleteFromPrimitiveList list.
//
// `live_order` (optional) receives the order of the live list that $setElementOrder uses
// to place server-only items afterwards. Upstream reads it through a Go slice that
// mergeSlice has edited in place: the items left after deletions, then new items in the
// slots the deleted ones freed (as many as were freed). kubes computes the same list, so
// `kubectl apply` places server-only items exactly where a real apiserver does.
Status MergeSlice(Json& original, Json patch, const View& elem, const std::string& merge_key, bool is_delete_list,
                  Json* live_order = nullptr) {
  if (original.empty() && patch.empty()) return Status::OK();
  auto kind = ElementKind(original, patch);
  if (!kind.ok()) return kind.status();

  if (*kind != ItemKind::kMap) {
    std::unordered_set<std::string> seen;
    if (is_delete_list) {
      for (const Json& item : patch) seen.insert(Identity(item));
      Json kept = Json::array();
      for (Json& item : original) {
        if (!seen.count(Identity(item))) kept.push_back(std::move(item));
      }
      original = std::move(kept);
      return Status::OK();
    }
    Json merged = Json::array();  // a set: the union without duplicates
    for (const Json* list : {&original, &patch}) {
      for (const Json& item : *list) {
        if (seen.insert(Identity(item)).second) merged.push_back(item);
      }
    }
    auto ordered = NormalizeOrder(merged, patch, original, "", *kind);
    if (!ordered.ok()) return ordered.status();
    original = std::move(*ordered);
    return Status::OK();
  }

  if (merge_key.empty()) return GoError("cannot merge lists without merge key for " + elem.Name());
  const size_t live_size = original.size();
  Json remaining;
  KUBES_RETURN_IF_ERROR(ApplyListDirectives(original, patch, merge_key, elem, remaining));
  const Json server_order = original;
  KUBES_RETURN_IF_ERROR(MergeItemsByKey(original, patch, merge_key, elem));
  if (live_order != nullptr) {
    *live_order = std::move(remaining);
    for (size_t i = server_order.size(); i < original.size() && live_order->size() < live_size; ++i) {
      live_order->push_back(original[i]);
    }
  }
  auto ordered = NormalizeOrder(original, patch, server_order, merge_key, *kind);
  if (!ordered.ok()) return ordered.status();
  original = std::move(*ordered);
  return Status::OK();
}

// mergeSliceHandler: merge lists merge, every other list is replaced by the patch's.
Status MergeList(Json& original, Json patch, const FieldMeta& meta, bool is_delete_list,
                 Json* live_order = nullptr) {
  if (meta.strategy == "merge" || is_delete_list) {
    return MergeSlice(original, std::move(patch), meta.elem, meta.merge_key, is_delete_list, live_order);
  }
  auto replaced = ListFromNothing(std::move(patch), meta.elem);
  if (!replaced.ok()) return replaced.status();
  original = std::move(*replaced);
  return Status::OK();
}

enum class Shape { kObject, kArray, kOther };
Shape ShapeOf(const Json& v) { return v.is_object() ? Shape::kObject : v.is_array() ? Shape::kArray : Shape::kOther; }

// Merges one key of the patch into `original` (the body of mergeMap's loop).
Status MergeField(Json& original, const std::string& key, Json value, const View& view, bool is_delete_list) {
  if (value.is_null()) {
    original.erase(key);
    return Status::OK();
  }
  auto meta = LookupField(view, key);
  if (!meta.ok()) return meta.status();
  auto it = original.find(key);
  if (it == original.end() || ShapeOf(*it) != ShapeOf(value)) {
    if (is_delete_list) return Status::OK();  // nothing to delete from
    return PlaceNew(original, key, std::move(value), *meta);
  }
  switch (ShapeOf(value)) {
    case Shape::kObject:
      if (meta->strategy == "replace") return PlaceNew(original, key, std::move(value), *meta);
      return MergeMap(*it, std::move(value), meta->value);
    case Shape::kArray:
      return MergeList(*it, std::move(value), *meta, is_delete_list);
    case Shape::kOther:
      *it = std::move(value);
      return Status::OK();
  }
  return Status::OK();
}

// $retainKeys: drop every key of `original` not listed (applyRetainKeysDirective).
Status ApplyRetainKeys(Json& original, Json& patch) {
  auto directive = patch.find(kRetainKeysDirective);
  if (directive == patch.end()) return Status::OK();
  Json keys = std::move(*directive);
  patch.erase(directive);
  if (!keys.is_array()) return ErrBadPatchFormatForRetainKeys();
  std::unordered_set<std::string> retained;
  for (const Json& k : keys) {
    if (k.is_string()) retained.insert(k.get<std::string>());
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it->is_null() || StartsWith(it.key(), kDeleteFromPrimitiveListPrefix) ||
        StartsWith(it.key(), kSetElementOrderPrefix)) {
      continue;
    }
    if (!retained.count(it.key())) return ErrBadPatchFormatForRetainKeys();  // patch sets a key it drops
  }
  for (auto it = original.begin(); it != original.end();) {
    it = retained.count(it.key()) ? std::next(it) : original.erase(it);
  }
  return Status::OK();
}

// validatePatchWithSetOrderList: the patch list's items must appear in the
// $setElementOrder list, in the same relative order.
Status ValidateOrder(const Json& patch_list, const Json& order, const std::string& merge_key) {
  if (order.empty() || patch_list.empty()) return Status::OK();
  std::vector<const Json*> items;
  for (const Json& item : patch_list) {
    if (!merge_key.empty() && !item.is_object()) return ErrBadArgType(kMapType, item);
    if (merge_key.empty() || !IsDeleteItem(item)) items.push_back(&item);
  }
  size_t p = 0, o = 0;
  while (p < items.size() && o < order.size()) {
    const Json& item = *items[p];
    if (HasDirective(item)) {
      ++p;
      continue;
    }
    bool same = false;
    if (merge_key.empty()) {
      same = JsonEqual(item, order[o]);
    } else {
      if (!order[o].is_object()) return ErrBadArgType(kMapType, order[o]);
      if (!item.contains(merge_key)) return ErrNoMergeKey(item, merge_key);
      if (!order[o].contains(merge_key)) return ErrNoMergeKey(order[o], merge_key);
      same = JsonEqual(item[merge_key], order[o][merge_key]);
    }
    if (same) ++p;
    ++o;
  }
  if (p < items.size()) {
    return GoError("The order in patch list:\n" + GoFormat(patch_list) + "\n doesn't match " +
                   std::string(kSetElementOrderPrefix) + " list:\n" + GoFormat(order) + "\n");
  }
  return Status::OK();
}

// Merges one list named by a "$setElementOrder/<name>" directive and puts its items in
// the requested order (mergePatchIntoOriginal). Consumes the list from the patch.
Status MergeOrderedList(Json& original, Json& patch, const std::string& directive, Json order, const View& view) {
  if (!order.is_array()) return ErrBadArgType(kSliceType, order);
  auto name = ExtractKey(directive, kSetElementOrderPrefix);
  if (!name) return ErrBadPatchFormatForSetElementOrderList();
  auto o = original.find(*name);
  auto p = patch.find(*name);
  const bool in_original = o != original.end(), in_patch = p != patch.end();
  if (in_original && !o->is_array()) return ErrBadArgType(kSliceType, *o);
  if (in_patch && !p->is_array()) return ErrBadArgType(kSliceType, *p);
  if (!in_original && !in_patch) return Status::OK();
  const Json original_list = in_original ? *o : Json::array();
  const Json patch_list = in_patch ? *p : Json::array();
  patch.erase(*name);

  auto meta = LookupField(view, *name);
  if (!meta.ok()) return meta.status();
  KUBES_RETURN_IF_ERROR(ValidateOrder(patch_list, order, meta->merge_key));

  Json merged = original_list;
  Json live_order = original_list;  // where server-only items were (see MergeSlice)
  if (!in_original) {
    auto built = ListFromNothing(patch_list, meta->elem);
    if (!built.ok()) return built.status();
    merged = std::move(*built);
  } else if (in_patch) {
    KUBES_RETURN_IF_ERROR(MergeList(merged, patch_list, *meta, false, &live_order));
  }
  if (!merged.empty()) {  // nothing to order otherwise (upstream errors out here)
    auto kind = ElementKind(original_list, patch_list);
    if (!kind.ok()) return kind.status();
    auto ordered = NormalizeOrder(merged, order, live_order, meta->merge_key, *kind);
    if (!ordered.ok()) return ordered.status();
    merged = std::move(*ordered);
  }
  original[*name] = std::move(merged);
  return Status::OK();
}

Status MergeMap(Json& original, Json patch, const View& view) {
  if (auto directive = patch.find(kDirectiveMarker); directive != patch.end()) {
    if (*directive == "delete") {
      original = Json::object();
      return Status::OK();
    }
    if (*directive != "replace") return ErrBadPatchType(*directive, patch);
    // Upstream returns the rest of the patch as is; applying it to an empty map gives
    // the same content without any directives or nulls it may carry.
    patch.erase(directive);
    original = Json::object();
  }
  if (original.is_null()) original = Json::object();
  KUBES_RETURN_IF_ERROR(ApplyRetainKeys(original, patch));

  std::vector<std::string> ordered_lists, deletion_lists;
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (StartsWith(it.key(), kSetElementOrderPrefix)) ordered_lists.push_back(it.key());
    if (StartsWith(it.key(), kDeleteFromPrimitiveListPrefix)) deletion_lists.push_back(it.key());
  }
  for (const std::string& directive : ordered_lists) {
    Json order = std::move(patch[directive]);
    patch.erase(directive);
    KUBES_RETURN_IF_ERROR(MergeOrderedList(original, patch, directive, std::move(order), view));
  }
  // Plain keys first, deletion lists last: a scalar both added and deleted ends up gone.
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (StartsWith(it.key(), kDeleteFromPrimitiveListPrefix)) continue;
    KUBES_RETURN_IF_ERROR(MergeField(original, it.key(), std::move(it.value()), view, false));
  }
  for (const std::string& directive : deletion_lists) {
    auto name = ExtractKey(directive, kDeleteFromPrimitiveListPrefix);
    if (!name) return ErrBadPatchFormatForPrimitiveList();
    KUBES_RETURN_IF_ERROR(MergeField(original, *name, std::move(patch[directive]), view, true));
  }
  return Status::OK();
}

}  // namespace

Result<Json> StrategicMergePatch(const Json& original, const Json& patch, const api::TypeSchema& schema) {
  if (!original.is_object()) return BadRequest("invalid JSON document");
  if (patch.is_null()) return original;
  if (!patch.is_object()) {
    return BadRequest("json: cannot unmarshal " + JsonKindName(patch) +
                      " into Go value of type map[string]interface {}");
  }
  KUBES_RETURN_IF_ERROR(CheckNestingDepth(patch, "strategic merge patch"));
  KUBES_RETURN_IF_ERROR(CheckNestingDepth(original, "original object"));
  try {
    Json result = original;
    KUBES_RETURN_IF_ERROR(MergeMap(result, patch, View{&schema, nullptr}));
    return result;
  } catch (const Json::exception& e) {
    // Every access above is checked first; reaching this is a bug, not bad input.
    return Internal(std::string("internal error in strategic merge patch: ") + e.what());
  }
}

}  // namespace kubes::apiserver::patch
