// SchemaRegistry::BuiltIn(): the registry of the .schema files embedded at build time.
#include <cstdio>
#include <cstdlib>

#include "api/schema.h"

namespace kubes::api {

const std::vector<std::pair<std::string, std::string>>& BuiltInSchemaFiles();  // generated

const SchemaRegistry& SchemaRegistry::BuiltIn() {
  static const SchemaRegistry* registry = [] {
    auto parsed = Parse(BuiltInSchemaFiles());
    if (!parsed.ok()) {
      // The embedded schema is part of the program: if it is broken, nothing can work.
      std::fprintf(stderr, "kubes: built-in API schema is broken:\n%s\n", parsed.status().message().c_str());
      std::abort();
    }
    return std::move(parsed).value().release();
  }();
  return *registry;
}

}  // namespace kubes::api
