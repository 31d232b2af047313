// Stream — the bytes of one accepted connection, plain TCP or TLS (tls.h), behind one
// small interface so the connection loop in server.cc does not care which.
//
// Reads wait at most the socket's receive timeout (SO_RCVTIMEO, set by the server) and
// then report kTimeout, so a connection thread can notice a shutdown between requests.
// A Stream owns its socket and closes it when destroyed.
//
// Thread-safety: one thread uses a Stream at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace kubes::demo {

class Stream {
 public:
  static constexpr long kClosed = 0;    // the peer closed the connection
  static constexpr long kError = -1;    // the connection is broken
  static constexpr long kTimeout = -2;  // nothing arrived within the receive timeout

  virtual ~Stream() = default;
  // Up to n bytes into buffer: the count read (> 0), or kClosed, kError, kTimeout.
  virtual long Read(char* buffer, size_t n) = 0;
  // All of data, or false if the connection broke (or the send timeout passed).
  virtual bool WriteAll(std::string_view data) = 0;
};

// A plain TCP connection on fd (which the stream now owns).
std::unique_ptr<Stream> NewPlainStream(int fd);

}  // namespace kubes::demo
