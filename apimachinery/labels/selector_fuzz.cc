// libFuzzer harness for the label selector parser and the metav1.LabelSelector
// conversion. Input starting with '{' is read as JSON, anything else as selector text.
// Besides "never crash", it checks that a selector prints as text that parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "apimachinery/labels/selector.h"

namespace {

const kubes::labels::Labels kSample = {{"app", "web"}, {"tier", "5"}, {"in", ""}, {"k8s.io/x", "y"}};

// Text parsing dedups and sorts set values, so a selector built from JSON (which may
// repeat a value) need only print as text that parses; a parsed one must print the same.
void CheckRoundTrip(const kubes::labels::Selector& s, bool exact) {
  (void)s.Matches(kSample);
  (void)s.RequiresExactMatch("app");
  if (s.MatchesNothing()) return;
  const std::string text = s.String();
  kubes::Result<kubes::labels::Selector> again = kubes::labels::Parse(text);
  if (!again.ok()) std::abort();
  if (exact && again->String() != text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == '{') {
    const kubes::labels::Json json = kubes::labels::Json::parse(input, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return 0;
    kubes::Result<kubes::labels::Selector> s = kubes::labels::SelectorFromLabelSelector(json);
    if (s.ok()) CheckRoundTrip(*s, /*exact=*/false);
    return 0;
  }
  kubes::Result<kubes::labels::Selector> s = kubes::labels::Parse(input);
  if (s.ok()) CheckRoundTrip(*s, /*exact=*/true);
  return 0;
}
