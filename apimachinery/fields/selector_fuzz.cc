// libFuzzer harness for the field selector parser. Besides "never crash", it checks
// that a parsed selector prints as text that parses back to the same requirements, and
// that UnescapeValue undoes EscapeValue.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <tuple>

#include "apimachinery/fields/selector.h"
#include "apimachinery/gostrings.h"

namespace {

bool IsValidUtf8(std::string_view s) {
  while (!s.empty()) {
    const kubes::gostrings::DecodedRune d = kubes::gostrings::DecodeRune(s);
    if (d.rune == kubes::gostrings::kRuneError && d.size == 1) return false;
    s.remove_prefix(d.size);
  }
  return true;
}

// Re-parsing may order terms differently ("a==z" sorts before "a=b" but prints as
// "a=z"), so requirements are compared as sorted lists.
std::vector<kubes::fields::Requirement> Sorted(std::vector<kubes::fields::Requirement> reqs) {
  std::sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) {
    return std::tie(a.field, a.op, a.value) < std::tie(b.field, b.op, b.value);
  });
  return reqs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Unescaping decodes runes, so only valid UTF-8 is sure to come back byte for byte.
  kubes::Result<std::string> unescaped = kubes::fields::UnescapeValue(kubes::fields::EscapeValue(input));
  if (!unescaped.ok()) std::abort();
  if (IsValidUtf8(input) && *unescaped != input) std::abort();

  kubes::Result<kubes::fields::Selector> s = kubes::fields::ParseSelector(input);
  if (!s.ok()) return 0;
  (void)s->Matches({{"metadata.name", "a"}, {"spec.nodeName", ""}});
  (void)s->RequiresExactMatch("metadata.name");
  (void)kubes::fields::CheckFieldLabels(*s, {"metadata.name"});
  (void)kubes::fields::CheckDefaultFieldLabels(*s);

  kubes::Result<kubes::fields::Selector> again = kubes::fields::ParseSelector(s->String());
  if (!again.ok()) std::abort();
  if (Sorted(again->requirements()) != Sorted(s->requirements())) std::abort();
  return 0;
}
