// Content digests and the host platform: the two facts the image store checks everything
// against.
//
// A digest names content by its hash, "sha256:<64 lowercase hex>" (the OCI image spec's
// descriptor digest; upstream: github.com/opencontainers/go-digest). Only sha256 is
// accepted: it is what every registry and `docker save` produce.
//
// Thread-safety: a Sha256 belongs to one thread; the free functions are pure.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace kubes::runtime::images {

// Streaming SHA-256 (OpenSSL underneath).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // "sha256:<hex>". REQUIRES: called once, after the last Update.
  std::string Digest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "sha256:<hex>" of data.
std::string Sha256Digest(std::string_view data);

// OK for "sha256:<64 lowercase hex>"; Invalid with go-digest's wording otherwise
// ("invalid checksum digest format", "unsupported digest algorithm", ...).
Status ValidateDigest(std::string_view digest);

// The part after "sha256:". REQUIRES: ValidateDigest(digest).ok().
inline std::string DigestHex(std::string_view digest) { return std::string(digest.substr(7)); }

// An OCI platform: os, architecture and variant as Go spells them (linux, amd64, "").
struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string String() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }
};

// The platform of this machine (uname's machine mapped to Go's GOARCH).
Platform HostPlatform();

}  // namespace kubes::runtime::images
