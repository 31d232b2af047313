// libFuzzer harness for what client/http reads from the network or from users:
// response heads, chunked bodies, server URLs, and the percent-encoding of request
// targets. Nothing may crash or hang, and two properties are checked:
//   - the chunked decoder gives the same result however the input is split;
//   - decoding an escaped query component or path gives back the original bytes
//     (the apiserver's decoder reads '+' as a space, in the path too).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "client/http/http_client.h"
#include "client/http/url.h"
#include "util/strings.h"

namespace {

using namespace kubes::client::http;

// The apiserver's decoding of paths and queries: '+' is a space in both.
std::string Decode(std::string_view s) { return kubes::PercentDecode(s, /*plus_is_space=*/true); }

void Check(bool ok) {
  if (!ok) std::abort();
}

void FuzzChunked(std::string_view in, size_t step) {
  ChunkedDecoder whole;
  std::string a;
  size_t used_whole = whole.Feed(in, &a);
  ChunkedDecoder pieces;
  std::string b;
  size_t used = 0;
  for (size_t i = 0; i < in.size() && !pieces.done() && !pieces.failed(); i += step) {
    used += pieces.Feed(in.substr(i, step), &b);
  }
  Check(whole.done() == pieces.done());
  Check(whole.failed() == pieces.failed());
  if (!whole.failed()) Check(a == b);
  if (whole.done()) Check(used_whole == used);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = data[0] % 7 + 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  HttpResponse resp;
  if (ParseResponseHead(in, &resp).ok()) {
    (void)FramingOf(resp);
    (void)ForwardableHeaders(resp);
  }
  FuzzChunked(in, step);
  auto url = ParseServerUrl(in);
  if (url.ok()) Check(url->port > 0 && url->port < 65536 && !url->host.empty());

  Check(Decode(EscapeQueryComponent(in)) == in);
  Check(Decode(EscapePath(in)) == in);
  std::string request = FormatRequest("GET", EscapePath(in), "h", {{std::string(in), std::string(in)}}, "");
  // Whatever the header holds, the head ends exactly once, at the end.
  Check(request.find("\r\n\r\n") == request.size() - 4);
  return 0;
}
