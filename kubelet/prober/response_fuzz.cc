// libFuzzer harness: what a container sends back to a probe is untrusted. Arbitrary
// bytes go to the HTTP/1.x response parser (in pieces, as they would arrive), to the
// gRPC call's HTTP/2 frame handling, and to the HPACK and Huffman decoders; none may
// crash or hang.
//   clang++ -std=c++20 -fsanitize=fuzzer,address -I. kubelet/prober/response_fuzz.cc \
//     kubelet/prober/{http,net,hpack,grpc}.cc util/{status,time}.cc -lssl -lcrypto -o /tmp/response_fuzz
//   /tmp/response_fuzz -max_total_time=60 kubelet/prober/fuzz_corpus/response
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kubelet/prober/grpc.h"
#include "kubelet/prober/hpack.h"
#include "kubelet/prober/http.h"

using namespace kubes::kubelet::prober;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks where the input is cut into two feeds.
  size_t cut = size > 0 ? data[0] % (size + 1) : 0;

  ResponseParser parser(512);
  if (parser.Feed(in.substr(0, cut)) == ResponseParser::State::kNeedMore &&
      parser.Feed(in.substr(cut)) == ResponseParser::State::kNeedMore) {
    parser.Finish();
  }

  h2::UnaryCall call;
  std::string reply;
  if (call.OnBytes(in.substr(0, cut), &reply).ok() && call.OnBytes(in.substr(cut), &reply).ok() && call.done()) {
    (void)call.Result();
  }

  hpack::Decoder decoder(256);
  std::vector<hpack::HeaderField> fields;
  (void)decoder.Decode(in, &fields);
  (void)hpack::HuffmanDecode(in);
  return 0;
}
