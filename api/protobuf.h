// Protobuf request bodies -> the JSON object the same request would have carried.
//
// kubectl and client-go send built-in objects as `application/vnd.kubernetes.protobuf`:
// the 4 magic bytes "k8s\0", then a runtime.Unknown message whose typeMeta names the
// apiVersion and kind and whose `raw` field holds the object's own protobuf encoding.
// This mirrors the decoding half of k8s.io/apimachinery/pkg/runtime/serializer/protobuf
// (protobuf.go) plus the gogo-generated Unmarshal methods, but instead of generated code
// it walks the field numbers in the schema registry (api/schema.h), so every later step
// of the apiserver only ever sees JSON. The wire format and the built-in encodings
// (Quantity, IntOrString, Time, ...) are described in api/schema/README.md.
//
// The result follows what Go's encoding/json would have printed for the decoded struct:
//  - scalars without `ptr` that decode to their zero value are left out (omitempty);
//    `ptr` scalars are kept, and nested messages are kept even when empty ({}).
//  - lists and maps appear only when they have at least one element (protobuf cannot
//    tell an empty list from a missing one).
//  - a zero Time (empty message) is left out, as Go prints it as null.
//  - strings that are not valid UTF-8 get U+FFFD for each bad byte, as Go's JSON
//    encoder does.
// Unknown field numbers are skipped, like upstream does, and reported to the caller so
// it can warn. Groups, truncated input, bad lengths and nesting deeper than 100 levels
// are rejected with BadRequest; the decoder never reads outside the input.
//
// Thread-safety: the functions are pure; any number of threads may call them with the
// same (immutable) SchemaRegistry.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/schema.h"
#include "util/status.h"

namespace kubes::api {

using Json = nlohmann::json;

inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";
// Precedes every protobuf body; the fourth byte 0 means "a runtime.Unknown follows".
inline constexpr std::string_view kProtobufMagic{"k8s\0", 4};

// A field number the schema does not know, met while decoding.
struct UnknownProtobufField {
  std::string path;  // JSON path of the message that held it ("" = the object itself),
                     // such as "spec.template.spec.containers[0]"
  int number = 0;    // the protobuf field number
};

// At most this many unknown fields are reported (the rest are still skipped).
inline constexpr size_t kMaxReportedUnknownFields = 64;

// Decodes a whole protobuf request body (magic bytes + runtime.Unknown envelope).
// The envelope's apiVersion ("v1", "apps/v1") and kind choose the type through
// reg.FindKind; the result carries them as "apiVersion" and "kind".
// Errors are BadRequest: bad magic, malformed protobuf, a kind the registry lacks.
// unknown_fields, when not null, receives the unknown field numbers (deduplicated).
Result<Json> DecodeProtobufObject(std::string_view body, const SchemaRegistry& reg,
                                  std::vector<UnknownProtobufField>* unknown_fields = nullptr);

// Decodes one bare protobuf message of `type` (no magic, no envelope) into a JSON
// object. Objects get no apiVersion/kind here: protobuf does not carry them inside.
Result<Json> DecodeProtobufMessage(std::string_view raw, const TypeSchema& type,
                                   std::vector<UnknownProtobufField>* unknown_fields = nullptr);

}  // namespace kubes::api
