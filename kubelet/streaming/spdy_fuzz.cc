// libFuzzer harness for the SPDY/3.1 framer and the port-forward session on top of
// it: arbitrary bytes must never crash either, every frame the framer accepts must
// survive a re-encode and decode unchanged, and the session must end cleanly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kubelet/streaming/portforward.h"
#include "kubelet/streaming/spdy.h"

namespace {

namespace spdy = kubes::kubelet::streaming::spdy;

// Feeds the input to the session in chunks; drops what the session writes.
class FakeStream : public kubes::kubelet::streaming::ByteStream {
 public:
  FakeStream(std::string_view in, size_t chunk) : in_(in), chunk_(chunk) {}
  int PollFd() const override { return -1; }
  bool Buffered() override { return true; }  // so Read reports the end
  bool Read(std::string* out) override {
    if (in_.empty()) return false;
    size_t k = std::min(chunk_, in_.size());
    out->append(in_.substr(0, k));
    in_.remove_prefix(k);
    return true;
  }
  bool Write(std::string_view) override { return true; }
  void Finish() override {}

 private:
  std::string_view in_;
  size_t chunk_;
};

void CheckRoundTrip(std::string_view bytes) {
  spdy::Framer in, out, again;
  size_t at = 0;
  while (at < bytes.size()) {
    spdy::Frame f;
    auto r = in.Decode(bytes.substr(at), &f);
    if (!r.ok() || *r == 0) return;
    at += *r;
    if (f.data.size() > spdy::kMaxDataLength) abort();
    std::string wire = out.Encode(f);
    spdy::Frame g;
    auto r2 = again.Decode(wire, &g);
    if (f.type == spdy::FrameType::kUnknown) continue;  // skipped, its body not kept
    if (!r2.ok() || *r2 != wire.size()) abort();
    if (g.type != f.type || g.stream_id != f.stream_id || g.headers != f.headers || g.data != f.data ||
        g.status != f.status || g.value != f.value || g.settings != f.settings) {
      abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  CheckRoundTrip(bytes);

  kubes::kubelet::streaming::PortForwarder forwarder;
  forwarder.pod = "fuzz";
  forwarder.dial = [](uint16_t) -> kubes::Result<int> { return kubes::Internal("no pods here"); };
  FakeStream stream(bytes, 1 + data[0] % 128);
  kubes::kubelet::streaming::ServePortForward(stream, forwarder);
  return 0;
}
