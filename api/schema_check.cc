// schema_check FILE... — parses .schema files and reports errors with file:line.
// Used while writing schema files; the unit tests parse the built-in set too.
#include <fstream>
#include <iostream>
#include <sstream>

#include "api/schema.h"

int main(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i]);
    if (!in) { std::cerr << argv[i] << ": cannot read\n"; return 2; }
    std::stringstream ss;
    ss << in.rdbuf();
    files.emplace_back(argv[i], ss.str());
  }
  auto reg = kubes::api::SchemaRegistry::Parse(files);
  if (!reg.ok()) { std::cerr << reg.status().message() << "\n"; return 1; }
  size_t fields = 0, objects = 0;
  for (auto& t : (*reg)->types()) { fields += t->fields.size(); objects += t->is_object; }
  std::cout << (*reg)->types().size() << " types (" << objects << " kinds), " << fields << " fields: OK\n";
  return 0;
}
