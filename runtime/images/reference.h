// Image references: "busybox" → docker.io/library/busybox:latest.
//
// Parses and normalizes an image name the way docker and containerd do
// (github.com/distribution/reference: ParseNormalizedNamed, then ParseDockerRef): a name
// without a registry is on Docker Hub ("docker.io"), a one-part Docker Hub name is in
// "library/", a name without tag or digest gets ":latest", and a name with both keeps only
// the digest. Errors use docker's wording ("invalid reference format", ...), because users
// see them in pod events.
//
// Thread-safety: pure functions and a value type.
#pragma once

#include <string>

#include "util/status.h"

namespace kubes::runtime::images {

struct Reference {
  std::string registry;    // "docker.io", "registry.k8s.io", "localhost:5000"
  std::string repository;  // "library/busybox", "pause"
  std::string tag;         // "latest"; empty when the reference is by digest
  std::string digest;      // "sha256:<hex>" or empty

  // "docker.io/library/busybox": the repository with its registry, no tag or digest.
  std::string Name() const { return registry + "/" + repository; }
  // "docker.io/library/busybox:latest" or "localhost:5000/x@sha256:…".
  std::string String() const;
};

// Normalizes s into a full reference. Invalid (with docker's message) when s is not one.
Result<Reference> ParseReference(const std::string& s);

}  // namespace kubes::runtime::images
