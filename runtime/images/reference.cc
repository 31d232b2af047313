#include "runtime/images/reference.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

#include "runtime/images/digest.h"

namespace kubes::runtime::images {
namespace {

constexpr size_t kRepositoryNameMax = 255;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

// One path component: lowercase alphanumeric runs joined by ".", "_", "__" or dashes.
bool IsPathComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !IsLowerAlnum(c[j])) ++j;
    const std::string_view sep = c.substr(i, j - i);
    const bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

// A DNS-like label: alphanumerics, dashes inside only.
bool IsDomainComponent(std::string_view c) {
  if (c.empty() || !IsAlnum(c.front()) || !IsAlnum(c.back())) return false;
  return std::all_of(c.begin(), c.end(), [](char ch) { return IsAlnum(ch) || ch == '-'; });
}

// host[:port] where host is a domain name or a bracketed IPv6 address.
bool IsDomainAndPort(std::string_view d) {
  std::string_view port;
  bool has_port = false;
  if (!d.empty() && d.front() == '[') {
    const size_t close = d.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    const std::string_view inner = d.substr(1, close - 1);
    if (!std::all_of(inner.begin(), inner.end(), [](char c) { return IsHex(c) || c == ':'; })) return false;
    const std::string_view rest = d.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = d.find(':');
    if (colon != std::string_view::npos) {
      port = d.substr(colon + 1);
      has_port = true;
    }
    for (std::string_view c : Split(d.substr(0, colon), '.')) {
      if (!IsDomainComponent(c)) return false;
    }
  }
  if (has_port && (port.empty() || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))) {
    return false;
  }
  return true;
}

bool IsTag(std::string_view t) {
  if (t.empty() || t.size() > 128 || !IsWord(t.front())) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return IsWord(c) || c == '.' || c == '-'; });
}

// algorithm ":" hex{32,}, algorithm = [A-Za-z][A-Za-z0-9]* joined by [-_+.].
bool LooksLikeDigest(std::string_view d) {
  const size_t colon = d.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view alg = d.substr(0, colon);
  const std::string_view hex = d.substr(colon + 1);
  bool component_start = true;
  for (char c : alg) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (component_start) {
      if (!letter) return false;
      component_start = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      component_start = true;
    } else if (!IsAlnum(c)) {
      return false;
    }
  }
  if (component_start) return false;
  return hex.size() >= 32 && std::all_of(hex.begin(), hex.end(), IsHex);
}

// domain "/" path ( ":" tag )? ( "@" digest )?: distribution's ReferenceRegexp, with the
// domain always present (normalization has put one there).
Result<Reference> ParseFull(const std::string& s) {
  const Status bad = Invalid("invalid reference format");
  Reference ref;
  std::string_view rest = s;
  if (const size_t at = rest.find('@'); at != std::string_view::npos) {
    const std::string_view digest = rest.substr(at + 1);
    if (!LooksLikeDigest(digest)) return bad;
    KUBES_RETURN_IF_ERROR(ValidateDigest(digest));
    ref.digest = std::string(digest);
    rest = rest.substr(0, at);
  }
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad;
  const size_t last_colon = rest.rfind(':');
  if (last_colon != std::string_view::npos && last_colon > rest.rfind('/')) {
    const std::string_view tag = rest.substr(last_colon + 1);
    if (!IsTag(tag)) return bad;
    ref.tag = std::string(tag);
    rest = rest.substr(0, last_colon);
  }
  const std::string_view domain = rest.substr(0, slash);
  const std::string_view path = rest.substr(slash + 1);
  if (!IsDomainAndPort(domain)) return bad;
  for (std::string_view c : Split(path, '/')) {
    if (!IsPathComponent(c)) {
      if (Lower(std::string(c)) != c && IsPathComponent(Lower(std::string(c)))) {
        return Invalid("repository name must be lowercase");
      }
      return bad;
    }
  }
  if (path.size() > kRepositoryNameMax) {
    return Invalid("repository name must not be more than 255 characters");
  }
  ref.registry = std::string(domain);
  ref.repository = std::string(path);
  return ref;
}

// Splits off the registry the way docker does: the first part is a registry when it is
// "localhost", has a "." or ":", or has capitals (repositories may not); else Docker Hub.
std::pair<std::string, std::string> SplitDockerDomain(const std::string& name) {
  const size_t slash = name.find('/');
  if (slash == std::string::npos) return {"docker.io", "library/" + name};
  std::string domain = name.substr(0, slash);
  std::string remainder = name.substr(slash + 1);
  if (domain == "index.docker.io") {
    domain = "docker.io";
  } else if (domain != "localhost" && domain.find_first_of(".:") == std::string::npos && Lower(domain) == domain) {
    domain = "docker.io";
    remainder = name;
  }
  if (domain == "docker.io" && remainder.find('/') == std::string::npos) remainder = "library/" + remainder;
  return {domain, remainder};
}

bool IsIdentifier(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) && IsHex(c); });
}

}  // namespace

std::string Reference::String() const {
  std::string out = Name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

Result<Reference> ParseReference(const std::string& s) {
  if (IsIdentifier(s)) {
    return Invalid("invalid repository name (" + s + "), cannot specify 64-byte hexadecimal strings");
  }
  auto [domain, remainder] = SplitDockerDomain(s);
  const std::string remote = remainder.substr(0, remainder.find(':'));
  if (Lower(remote) != remote) {
    return Invalid("invalid reference format: repository name (" + remote + ") must be lowercase");
  }
  Result<Reference> ref = ParseFull(domain + "/" + remainder);
  if (!ref.ok()) return ref;
  if (!ref->digest.empty()) ref->tag.clear();        // ParseDockerRef: the digest wins
  else if (ref->tag.empty()) ref->tag = "latest";    // TagNameOnly
  return ref;
}

}  // namespace kubes::runtime::images
