// libFuzzer harness for the protobuf body decoder (api/protobuf.h).
//
// Every input is tried twice against the built-in schema registry: as a whole request
// body (magic + runtime.Unknown envelope), and as a bare message of a type picked by the
// first two bytes, so that every type's fields are reached without a valid envelope.
// Successful results are printed, which also proves they hold valid UTF-8 (nlohmann
// throws on anything else). Seeds: api/fuzz_corpus/protobuf/.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "api/protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubes::api;
  const SchemaRegistry& reg = SchemaRegistry::BuiltIn();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<UnknownProtobufField> unknown;

  auto object = DecodeProtobufObject(input, reg, &unknown);
  if (object.ok()) (void)object->dump();

  if (size >= 2 && !reg.types().empty()) {
    size_t pick = (static_cast<size_t>(data[0]) << 8 | data[1]) % reg.types().size();
    auto message = DecodeProtobufMessage(input.substr(2), *reg.types()[pick], &unknown);
    if (message.ok()) (void)message->dump();
  }
  if (unknown.size() > kMaxReportedUnknownFields) __builtin_trap();
  return 0;
}
