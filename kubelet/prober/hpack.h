// HPACK, HTTP/2's header compression (RFC 7541), as much of it as a gRPC client needs:
// a decoder for the server's header blocks (static and dynamic tables, Huffman-coded
// strings, table size updates) and an encoder that writes every field as a literal
// without indexing or Huffman coding — valid HPACK that keeps no state.
//
// The Huffman code is RFC 7541 Appendix B. It is canonical (codes of one length are
// consecutive in symbol order), so the table here holds only each symbol's code
// length and the codes are rebuilt from them; hpack_test.cc checks the result
// against the RFC's examples.
//
// Thread-safety: a Decoder belongs to one connection and one thread; the functions are
// pure.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace kubes::kubelet::prober::hpack {

using HeaderField = std::pair<std::string, std::string>;

// One header block of a connection, decoded in order (the dynamic table carries over
// from block to block).
class Decoder {
 public:
  // max_table_size: what SETTINGS_HEADER_TABLE_SIZE allows the peer (4096 by default).
  explicit Decoder(size_t max_table_size = 4096) : max_allowed_(max_table_size), max_size_(max_table_size) {}
  // Appends the block's fields to *out. An error leaves the connection unusable
  // (COMPRESSION_ERROR).
  Status Decode(std::string_view block, std::vector<HeaderField>* out);

 private:
  Result<HeaderField> Lookup(uint64_t index) const;
  void Insert(HeaderField field);
  void Evict();

  size_t max_allowed_;
  size_t max_size_;
  size_t size_ = 0;
  std::deque<HeaderField> dynamic_;  // newest first
};

// A field as "literal header field without indexing — new name", strings raw.
std::string EncodeLiteral(std::string_view name, std::string_view value);

// An integer with an N-bit prefix (RFC 7541 §5.1); `first` holds the pattern bits
// above the prefix.
std::string EncodeInteger(uint64_t value, int prefix_bits, uint8_t first);

// The Huffman code of RFC 7541 Appendix B.
std::string HuffmanEncode(std::string_view text);
Result<std::string> HuffmanDecode(std::string_view code);

}  // namespace kubes::kubelet::prober::hpack
