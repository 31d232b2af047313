// A client for one registry endpoint: the distribution API v2 (OCI distribution spec)
// over libcurl. Upstream: containerd's core/remotes/docker (resolver.go, fetcher.go,
// authorizer.go), whose error wording the kubelet shows in pod events.
//
//   GET {base}/{repository}/manifests/{tag|digest}   Accept: OCI index, OCI manifest,
//                                                    Docker list, Docker v2 manifest
//   GET {base}/{repository}/blobs/{digest}           (redirects followed, e.g. to a CDN)
//
// Authentication follows the registry's 401 challenge (RFC 7235 WWW-Authenticate):
//   Bearer realm=…,service=…,scope=…  → GET realm?service=…&scope=… (with Basic credentials
//                                       when we have them, or POST the identity token as an
//                                       OAuth2 refresh token) → {"token": …}, then
//                                       "Authorization: Bearer <token>";
//   Basic realm=…                     → "Authorization: Basic base64(user:password)".
// HTTPS is verified by default (a CA file, client certificate or insecure_skip_verify
// come from registries.yaml); http:// endpoints are spoken plainly. Connecting gives up
// after 5 s, a stalled transfer after 60 s without progress.
//
// Error codes: kNotFound (manifest or blob unknown), kUnauthorized / kForbidden (refused),
// kServiceUnavailable (could not connect or the connection broke), kTooManyRequests, and
// kInternal for other unexpected replies.
//
// Thread-safety: one RegistryClient per thread (it keeps one curl handle and a token).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/images/registries.h"
#include "util/status.h"

namespace kubes::runtime::images {

// One authentication challenge from a WWW-Authenticate header.
struct Challenge {
  std::string scheme;                         // "bearer" or "basic" (lower-cased)
  std::map<std::string, std::string> params;  // realm, service, scope, error, …
};

// Parses the first challenge of a WWW-Authenticate value. Invalid when malformed.
Result<Challenge> ParseChallenge(const std::string& header);

class RegistryClient {
 public:
  explicit RegistryClient(Endpoint endpoint);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  struct Fetched {
    std::string media_type;  // of the document (its mediaType field, else Content-Type)
    std::string digest;      // sha256 of body
    std::string body;
  };

  // Fetches a manifest or index by tag or digest; by digest the body is verified.
  Result<Fetched> FetchManifest(const std::string& tag_or_digest);
  // Streams a blob into the file at path (created or truncated), checking its size and
  // digest as it goes. On error the file holds garbage: the caller removes it.
  Status FetchBlob(const std::string& digest, int64_t size, const std::string& path);

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  struct Response {
    long status = 0;
    std::string status_line;
    std::string content_type;
    std::string www_authenticate;
    std::string body;  // error bodies and manifests (bounded)
  };
  using Sink = std::function<bool(const char* data, size_t size)>;

  // One GET (or POST when form is set) with our Authorization header; a 200 body goes to
  // sink when given.
  Result<Response> Send(const std::string& url, const std::vector<std::string>& headers, const Sink& sink,
                        const std::string* form = nullptr, bool authorize = true);
  // Sends, and on a 401 answers the challenge once and sends again.
  Result<Response> SendAuthorized(const std::string& url, const std::vector<std::string>& headers, const Sink& sink);
  Status Authenticate(const std::string& www_authenticate);
  Status FetchToken(const Challenge& challenge);
  // The error for a reply that is not 200, in containerd's words.
  Status StatusError(const Response& r, const std::string& url) const;

  Endpoint endpoint_;
  void* curl_;                 // CURL*, kept for connection reuse
  std::string authorization_;  // the Authorization header value once known
};

}  // namespace kubes::runtime::images
