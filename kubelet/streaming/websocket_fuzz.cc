// libFuzzer harness for the WebSocket frame parser and message reader: arbitrary
// bytes from a "client", delivered in chunks whose size the input also picks, must
// never crash the server side, whatever the frames say.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kubelet/streaming/websocket.h"

namespace {

using kubes::kubelet::streaming::DecodeFrame;
using kubes::kubelet::streaming::Frame;
using kubes::kubelet::streaming::Message;
using kubes::kubelet::streaming::WebSocket;

class FakeConnection : public kubes::apiserver::UpgradedConnection {
 public:
  FakeConnection(const uint8_t* data, size_t size, size_t chunk) : data_(data), size_(size), chunk_(chunk) {}
  int PollFd() const override { return -1; }
  bool Buffered() override { return at_ < size_; }
  size_t Read(char* buf, size_t n) override {
    size_t k = std::min({n, chunk_, size_ - at_});
    std::memcpy(buf, data_ + at_, k);
    at_ += k;
    return k;
  }
  bool Write(const void*, size_t) override { return true; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t chunk_;
  size_t at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  for (bool from_client : {true, false}) {
    Frame f;
    (void)DecodeFrame(bytes, from_client, 1 << 16, &f);
  }
  FakeConnection conn(data + 1, size - 1, 1 + data[0] % 64);
  WebSocket ws(conn, /*max_message=*/1 << 16);
  std::vector<Message> messages;
  while (!ws.closed()) {
    if (!ws.Receive(&messages).ok()) break;
  }
  return 0;
}
