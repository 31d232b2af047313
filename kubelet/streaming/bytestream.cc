#include "kubelet/streaming/bytestream.h"

#include <chrono>
#include <vector>

namespace kubes::kubelet::streaming {

bool ConnectionByteStream::Read(std::string* out) {
  char buf[64 * 1024];
  size_t n = conn_.Read(buf, sizeof buf);
  if (n == 0) return false;
  out->append(buf, n);
  return true;
}

bool WebSocketByteStream::Read(std::string* out) {
  std::vector<Message> messages;
  if (!ws_.Receive(&messages).ok()) return false;
  for (const Message& m : messages) {
    // client-go's tunnel sends only binary messages and treats any other as an error.
    if (m.type != Opcode::kBinary) {
      ws_.SendClose(kCloseProtocolError, "binary messages only");
      return false;
    }
    out->append(m.data);
  }
  return !ws_.closed() || !messages.empty();
}

void WebSocketByteStream::Finish() {
  ws_.SendClose(kCloseNormal);
  ws_.AwaitClose(std::chrono::seconds(2));
}

}  // namespace kubes::kubelet::streaming
