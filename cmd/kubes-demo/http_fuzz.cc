// libFuzzer harness for what kubes-demo reads from the network and from users: the HTTP
// request parser, query strings, durations and probe states. Arbitrary bytes must never
// crash, and a complete request must account for the bytes it consumed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control.h"
#include "duration.h"
#include "http.h"

using namespace kubes::demo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ParseResult r = ParseRequest(input);
  switch (r.kind) {
    case ParseResult::Kind::kComplete:
      if (r.consumed == 0 || r.consumed > size || r.request.path.empty()) abort();
      (void)r.request.KeepAlive();
      (void)r.request.Query("state");
      (void)SerializeResponse(Response{}, r.request.KeepAlive(), r.request.method == "HEAD");
      break;
    case ParseResult::Kind::kError:
      if (r.status < 400 || r.status > 599 || r.error.empty()) abort();
      break;
    case ParseResult::Kind::kIncomplete:
      if (size >= kMaxHeadBytes + kMaxBodyBytes) abort();  // would grow without bound
      break;
  }
  (void)ParseQuery(input);
  if (auto d = ParseDuration(input)) {
    if (*d < Duration(0) || *d > kMaxDuration) abort();
    if (ParseDuration(FormatDuration(*d)) != d) abort();
  }
  if (auto b = ParseBehaviour(input)) {
    if (ParseBehaviour(FormatBehaviour(*b)) != b) abort();
  }
  return 0;
}
