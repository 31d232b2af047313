#include "runtime/images/registry.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>

#include "runtime/images/digest.h"
#include "runtime/images/oci.h"

namespace kubes::runtime::images {
namespace {

using Json = nlohmann::json;

constexpr long kConnectTimeoutSeconds = 5;
constexpr long kStallSeconds = 60;
constexpr size_t kMaxBody = 8 << 20;  // manifests, tokens and error replies

const char* const kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

struct Transfer {
  CURL* curl = nullptr;
  std::string status_line, content_type, www_authenticate;
  std::string body;
  const std::function<bool(const char*, size_t)>* sink = nullptr;
  bool overflow = false;
  bool sink_failed = false;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a redirect or 100)
    t->status_line = Trim(line);
    t->content_type.clear();
    t->www_authenticate.clear();
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  const std::string key = Lower(line.substr(0, colon));
  const std::string value = Trim(line.substr(colon + 1));
  if (key == "content-type") t->content_type = value;
  if (key == "www-authenticate" && t->www_authenticate.empty()) t->www_authenticate = value;
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (code == 200 && t->sink != nullptr && *t->sink) {
    if (!(*t->sink)(data, len)) {
      t->sink_failed = true;
      return 0;  // aborts the transfer
    }
    return len;
  }
  if (t->body.size() + len > kMaxBody) {
    t->overflow = true;
    return 0;
  }
  t->body.append(data, len);
  return len;
}

std::string ReasonPhrase(long status, const std::string& status_line) {
  // "HTTP/1.1 404 Not Found" → "404 Not Found"; HTTP/2 has no phrase.
  const size_t sp = status_line.find(' ');
  if (sp != std::string::npos && status_line.find(' ', sp + 1) != std::string::npos) return status_line.substr(sp + 1);
  switch (status) {
    case 401: return "401 Unauthorized";
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 429: return "429 Too Many Requests";
    case 500: return "500 Internal Server Error";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Unavailable";
    default: return std::to_string(status);
  }
}

// "code: message" of the first error in a distribution error body, or "".
std::string ServerMessage(const std::string& body) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  auto errors = j.find("errors");
  if (errors == j.end() || !errors->is_array() || errors->empty() || !(*errors)[0].is_object()) return "";
  const Json& e = (*errors)[0];
  const std::string code = e.contains("code") && e["code"].is_string() ? Lower(e["code"].get<std::string>()) : "";
  const std::string message = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
  if (code.empty()) return message;
  return message.empty() ? code : code + ": " + message;
}

std::string Escape(CURL* curl, const std::string& s) {
  char* e = curl_easy_escape(curl, s.c_str(), static_cast<int>(s.size()));
  std::string out = e != nullptr ? e : "";
  curl_free(e);
  return out;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Loopback never goes through a proxy, whatever the environment says.
std::string NoProxy() {
  std::string out = "localhost,127.0.0.1,::1";
  for (const char* var : {"no_proxy", "NO_PROXY"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') out += std::string(",") + v;
  }
  return out;
}

}  // namespace

Result<Challenge> ParseChallenge(const std::string& header) {
  Challenge c;
  size_t i = 0;
  const size_t n = header.size();
  auto skip_space = [&] {
    while (i < n && (header[i] == ' ' || header[i] == '\t')) ++i;
  };
  skip_space();
  const size_t scheme_start = i;
  while (i < n && header[i] != ' ' && header[i] != '\t' && header[i] != ',') ++i;
  c.scheme = Lower(header.substr(scheme_start, i - scheme_start));
  if (c.scheme.empty()) return Invalid("WWW-Authenticate: no scheme in \"" + header + "\"");
  while (true) {
    skip_space();
    while (i < n && header[i] == ',') {
      ++i;
      skip_space();
    }
    if (i >= n) break;
    const size_t key_start = i;
    while (i < n && header[i] != '=' && header[i] != ',' && header[i] != ' ') ++i;
    const std::string key = Lower(header.substr(key_start, i - key_start));
    skip_space();
    if (i >= n || header[i] != '=') {
      if (key.empty()) return Invalid("WWW-Authenticate: malformed \"" + header + "\"");
      break;  // the start of a second challenge: only the first one is used
    }
    ++i;
    skip_space();
    std::string value;
    if (i < n && header[i] == '"') {
      ++i;
      while (i < n && header[i] != '"') {
        if (header[i] == '\\' && i + 1 < n) ++i;
        value += header[i++];
      }
      if (i >= n) return Invalid("WWW-Authenticate: unterminated quote in \"" + header + "\"");
      ++i;
    } else {
      while (i < n && header[i] != ',' && header[i] != ' ') value += header[i++];
    }
    if (key.empty()) return Invalid("WWW-Authenticate: malformed \"" + header + "\"");
    c.params[key] = value;
  }
  return c;
}

RegistryClient::RegistryClient(Endpoint endpoint) : endpoint_(std::move(endpoint)) {
  InitCurlOnce();
  curl_ = curl_easy_init();
  if (!endpoint_.registry_token.empty()) authorization_ = "Bearer " + endpoint_.registry_token;
}

RegistryClient::~RegistryClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<RegistryClient::Response> RegistryClient::Send(const std::string& url, const std::vector<std::string>& headers,
                                                      const Sink& sink, const std::string* form, bool authorize) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Internal("curl_easy_init failed");
  curl_easy_reset(curl);
  Transfer t;
  t.curl = curl;
  t.sink = &sink;
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  if (authorize && !authorization_.empty()) list = curl_slist_append(list, ("Authorization: " + authorization_).c_str());
  const std::string no_proxy = NoProxy();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "kubes");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, no_proxy.c_str());
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  const RegistryTls& tls = endpoint_.tls;
  if (tls.insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!tls.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.cert_file.c_str());
  if (!tls.key_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.key_file.c_str());
  if (form != nullptr) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form->c_str());
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  const char* method = form != nullptr ? "Post" : "Get";
  if (t.overflow) return Internal(std::string(method) + " \"" + url + "\": reply larger than " + std::to_string(kMaxBody) + " bytes");
  if (t.sink_failed) return Invalid("the content does not match its descriptor");
  if (rc != CURLE_OK) {
    return Status(Code::kServiceUnavailable, "failed to do request: " + std::string(method) + " \"" + url +
                                                 "\": " + (error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  Response r;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  r.status_line = t.status_line;
  r.content_type = t.content_type;
  r.www_authenticate = t.www_authenticate;
  r.body = std::move(t.body);
  return r;
}

Result<RegistryClient::Response> RegistryClient::SendAuthorized(const std::string& url,
                                                                const std::vector<std::string>& headers,
                                                                const Sink& sink) {
  Result<Response> r = Send(url, headers, sink);
  if (!r.ok() || r->status != 401 || r->www_authenticate.empty()) return r;
  // A token we already had may have expired: answer the new challenge once.
  KUBES_RETURN_IF_ERROR(Authenticate(r->www_authenticate));
  return Send(url, headers, sink);
}

Status RegistryClient::Authenticate(const std::string& www_authenticate) {
  Result<Challenge> c = ParseChallenge(www_authenticate);
  if (!c.ok()) return Status(Code::kUnauthorized, "failed to authorize: " + c.status().message());
  const RegistryAuth& auth = endpoint_.auth;
  if (c->scheme == "basic") {
    if (auth.username.empty() && auth.password.empty()) {
      return Status(Code::kUnauthorized, "failed to authorize: the registry asks for Basic credentials and none are configured");
    }
    authorization_ = "Basic " + Base64Encode(auth.username + ":" + auth.password);
    return Status::OK();
  }
  if (c->scheme == "bearer") return FetchToken(*c);
  return Status(Code::kUnauthorized, "failed to authorize: unsupported authentication scheme \"" + c->scheme + "\"");
}

Status RegistryClient::FetchToken(const Challenge& challenge) {
  auto realm = challenge.params.find("realm");
  if (realm == challenge.params.end() || realm->second.empty()) {
    return Status(Code::kUnauthorized, "failed to authorize: the Bearer challenge has no realm");
  }
  CURL* curl = static_cast<CURL*>(curl_);
  const std::string service = challenge.params.count("service") ? challenge.params.at("service") : "";
  std::string scope = challenge.params.count("scope") ? challenge.params.at("scope") : "";
  if (scope.empty()) scope = "repository:" + endpoint_.repository + ":pull";
  const RegistryAuth& auth = endpoint_.auth;
  std::vector<std::string> headers;
  std::string url = realm->second;
  std::string form;
  const bool refresh = !auth.identity_token.empty();
  const char* kind = refresh ? "oauth" : auth.username.empty() ? "anonymous" : "basic";
  if (refresh) {  // OAuth2 refresh-token grant, as docker login with an identity provider
    form = "grant_type=refresh_token&client_id=kubes&service=" + Escape(curl, service) + "&scope=" + Escape(curl, scope) +
           "&refresh_token=" + Escape(curl, auth.identity_token);
    headers.push_back("Content-Type: application/x-www-form-urlencoded");
  } else {
    url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("scope=") + Escape(curl, scope);
    if (!service.empty()) url += "&service=" + Escape(curl, service);
    if (!auth.username.empty()) {
      headers.push_back("Authorization: Basic " + Base64Encode(auth.username + ":" + auth.password));
    }
  }
  Result<Response> r = Send(url, headers, nullptr, refresh ? &form : nullptr, /*authorize=*/false);
  if (!r.ok()) return r.status().Wrap(std::string("failed to authorize: failed to fetch ") + kind + " token");
  if (r->status != 200) {
    const Code code = r->status == 401   ? Code::kUnauthorized
                      : r->status == 403 ? Code::kForbidden
                      : r->status == 429 ? Code::kTooManyRequests
                                         : Code::kInternal;
    const std::string server = ServerMessage(r->body);
    return Status(code, std::string("failed to authorize: failed to fetch ") + kind + " token: unexpected status from " +
                            (refresh ? "POST" : "GET") + " request to " + url + ": " +
                            ReasonPhrase(r->status, r->status_line) + (server.empty() ? "" : ": " + server));
  }
  Json j = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  std::string token;
  if (j.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      if (j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty()) {
        token = j[key].get<std::string>();
        break;
      }
    }
  }
  if (token.empty()) return Status(Code::kUnauthorized, "failed to authorize: the token reply from " + realm->second + " has no token");
  authorization_ = "Bearer " + token;
  return Status::OK();
}

Status RegistryClient::StatusError(const Response& r, const std::string& url) const {
  const std::string message = ServerMessage(r.body);
  const std::string unexpected = "unexpected status from GET request to " + url + ": " + ReasonPhrase(r.status, r.status_line);
  switch (r.status) {
    case 401:
      return Status(Code::kUnauthorized, "pull access denied, repository does not exist or may require authorization" +
                                             (message.empty() ? "" : ": server message: " + message));
    case 403:
      return Forbidden(unexpected + (message.empty() ? "" : ": " + message));
    case 404:
      return NotFound("not found");
    case 429:
      return Status(Code::kTooManyRequests, unexpected + (message.empty() ? "" : ": " + message));
    default:
      return Internal(unexpected + (message.empty() ? "" : ": " + message));
  }
}

Result<RegistryClient::Fetched> RegistryClient::FetchManifest(const std::string& tag_or_digest) {
  const std::string url = endpoint_.base_url + "/" + endpoint_.repository + "/manifests/" + tag_or_digest;
  Result<Response> r = SendAuthorized(url, {kManifestAccept}, nullptr);
  if (!r.ok()) return r.status();
  if (r->status != 200) return StatusError(*r, url);
  Fetched f;
  f.digest = Sha256Digest(r->body);
  if (tag_or_digest.rfind("sha256:", 0) == 0 && f.digest != tag_or_digest) {
    return Invalid("manifest from " + url + " has digest " + f.digest);
  }
  Result<std::string> media_type = ManifestMediaType(r->body, r->content_type);
  if (!media_type.ok()) return media_type.status().Wrap(url);
  f.media_type = *media_type;
  f.body = std::move(r->body);
  return f;
}

Status RegistryClient::FetchBlob(const std::string& digest, int64_t size, const std::string& path) {
  const std::string url = endpoint_.base_url + "/" + endpoint_.repository + "/blobs/" + digest;
  std::FILE* file = nullptr;
  Sha256 hash;
  int64_t written = 0;
  bool write_failed = false;
  // Each attempt (after an auth challenge) starts the file over.
  auto open = [&] {
    if (file != nullptr) std::fclose(file);
    file = std::fopen(path.c_str(), "wb");
    written = 0;
  };
  open();
  if (file == nullptr) return Internal("failed to open " + path + " for blob " + digest);
  const Sink sink = [&](const char* data, size_t len) {
    written += static_cast<int64_t>(len);
    if (size > 0 && written > size) return false;
    hash.Update(data, len);
    if (std::fwrite(data, 1, len, file) != len) {
      write_failed = true;
      return false;
    }
    return true;
  };
  Result<Response> r = Send(url, {}, sink);
  if (r.ok() && r->status == 401 && !r->www_authenticate.empty()) {
    if (Status s = Authenticate(r->www_authenticate); !s.ok()) {
      std::fclose(file);
      return s;
    }
    open();
    r = Send(url, {}, sink);
  }
  const bool closed_ok = file != nullptr && std::fclose(file) == 0;
  if (!r.ok()) {
    if (write_failed) return Internal("failed to write blob " + digest + " to " + path);
    if (r.status().code() == Code::kInvalid) {
      return Invalid("failed to copy blob " + digest + ": more than the " + std::to_string(size) + " bytes its descriptor says");
    }
    return r.status();
  }
  if (r->status != 200) {
    Status s = StatusError(*r, url);
    return Status(s.code(), s.code() == Code::kNotFound ? "blob " + digest + " not found at " + url : s.message());
  }
  if (!closed_ok) return Internal("failed to write blob " + digest + " to " + path);
  if (size > 0 && written != size) {
    return Invalid("failed to copy blob " + digest + ": got " + std::to_string(written) + " bytes, expected " +
                   std::to_string(size));
  }
  const std::string got = hash.Digest();
  if (got != digest) return Invalid("failed to copy blob " + digest + ": unexpected digest " + got);
  return Status::OK();
}

}  // namespace kubes::runtime::images
