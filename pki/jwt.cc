#include "pki/jwt.h"

#include <openssl/core_names.h>

#include <cmath>
#include <optional>
#include <vector>

#include "pki/base64.h"
#include "pki/files.h"

namespace kubes::pki {
namespace {

constexpr char kAlgorithm[] = "RS256";

Status Unauthorized(const std::string& reason) { return Status(Code::kUnauthorized, reason); }

// Parses text as JSON without throwing; nullopt unless it is a JSON object.
std::optional<Json> ParseObject(std::string_view text) {
  Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;
  return value;
}

// The parts of a compact JWS: exactly three, separated by dots.
std::optional<std::vector<std::string_view>> SplitCompact(std::string_view token) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t dot; (dot = token.find('.', start)) != std::string_view::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  if (parts.size() != 3) return std::nullopt;
  return parts;
}

// A NumericDate claim (RFC 7519 §2) as whole seconds. Fractions are dropped and values
// beyond int64 are clamped, so a token cannot overflow the comparisons below.
Result<std::optional<int64_t>> NumericDate(const Json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::optional<int64_t>();
  if (it->is_number_unsigned()) {
    uint64_t v = it->get<uint64_t>();
    return std::optional<int64_t>(v > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(v));
  }
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_float()) {
    double v = it->get<double>();
    if (std::isnan(v)) return Unauthorized(std::string("malformed token: claim \"") + name + "\" is not a number");
    if (v >= 9.2e18) return std::optional<int64_t>(INT64_MAX);
    if (v <= -9.2e18) return std::optional<int64_t>(INT64_MIN);
    return std::optional<int64_t>(static_cast<int64_t>(v));
  }
  return Unauthorized(std::string("malformed token: claim \"") + name + "\" is not a number");
}

// The order and the leeway follow go-jose's Claims.ValidateWithLeeway; the messages are
// the ones kube-apiserver's service-account validator returns.
Status CheckTimes(const Json& claims, int64_t now) {
  Result<std::optional<int64_t>> nbf = NumericDate(claims, "nbf");
  Result<std::optional<int64_t>> exp = NumericDate(claims, "exp");
  Result<std::optional<int64_t>> iat = NumericDate(claims, "iat");
  for (const auto* r : {&nbf, &exp, &iat}) KUBES_RETURN_IF_ERROR(r->status());
  // 128-bit sums: now and the claims may be anywhere in int64.
  const __int128 early = __int128(now) + kClockSkewSeconds;
  const __int128 late = __int128(now) - kClockSkewSeconds;
  if (nbf->has_value() && early < **nbf) return Unauthorized("service account token is not valid yet");
  if (exp->has_value() && late > **exp) return Unauthorized("service account token has expired");
  if (iat->has_value() && early < **iat) return Unauthorized("service account token is issued in the future");
  return Status::OK();
}

Status CheckHeader(const Json& header, const std::string& key_id) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return Unauthorized("malformed token: header has no \"alg\"");
  if (alg->get_ref<const std::string&>() != kAlgorithm) {
    return Unauthorized("unsupported signing algorithm \"" + alg->get<std::string>() + "\", want " + kAlgorithm);
  }
  // RFC 7515 §4.1.11: a verifier must reject critical extensions it does not understand,
  // and it understands none.
  if (header.contains("crit")) return Unauthorized("token header has critical extensions (\"crit\")");
  auto kid = header.find("kid");
  if (kid != header.end() && (!kid->is_string() || kid->get_ref<const std::string&>() != key_id)) {
    return Unauthorized("token was signed by an unknown key (kid mismatch)");
  }
  return Status::OK();
}

bool VerifySignature(EVP_PKEY* key, std::string_view signed_part, std::string_view signature) {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
  ossl::ErrorText();  // a bad signature leaves its reason on the queue; we report our own
  return ok;
}

Result<std::string> SignBytes(EVP_PKEY* key, std::string_view data) {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(data.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    return ossl::Failure("sign token");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()) != 1) {
    return ossl::Failure("sign token");
  }
  sig.resize(len);
  return sig;
}

// An RSA public parameter ("n" or "e") as unsigned big-endian bytes in base64url (RFC 7518 §6.3.1).
Result<std::string> RsaParam(EVP_PKEY* key, const char* param) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) return ossl::Failure(std::string("read RSA ") + param);
  ossl::BignumPtr bn(raw);
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  return Base64UrlEncode(bytes);
}

}  // namespace

Result<std::unique_ptr<ServiceAccountKey>> ServiceAccountKey::FromPem(std::string_view private_key_pem) {
  Result<ossl::PkeyPtr> key = ossl::PrivateKeyFromPem(private_key_pem);
  if (!key.ok()) return key.status();
  if (!EVP_PKEY_is_a(key->get(), "RSA")) return Invalid("service-account key: not an RSA key (RS256 needs one)");
  if (EVP_PKEY_get_bits(key->get()) < kServiceAccountKeyBits) {
    return Invalid("service-account key: RSA key shorter than " + std::to_string(kServiceAccountKeyBits) + " bits");
  }
  Result<std::string> der = ossl::PublicKeyDer(key->get());
  if (!der.ok()) return der.status();
  Result<std::string> pub = ossl::PublicKeyToPem(key->get());
  if (!pub.ok()) return pub.status();
  std::string key_id = Base64UrlEncode(ossl::Sha256(*der));
  return std::unique_ptr<ServiceAccountKey>(new ServiceAccountKey(std::move(*key), std::move(key_id), std::move(*pub)));
}

Result<std::unique_ptr<ServiceAccountKey>> ServiceAccountKey::LoadOrCreate(const std::string& dir) {
  const std::string key_path = dir + "/" + kServiceAccountKeyFile;
  Result<std::string> pem = ReadFile(key_path);
  if (!pem.ok() && pem.status().code() != Code::kNotFound) return pem.status();
  if (!pem.ok()) {
    KUBES_RETURN_IF_ERROR(EnsureDirectory(dir));
    Result<ossl::PkeyPtr> fresh = ossl::GenerateRsaKey(kServiceAccountKeyBits);
    if (!fresh.ok()) return fresh.status();
    pem = ossl::PrivateKeyToPem(fresh->get());
    if (!pem.ok()) return pem.status();
    KUBES_RETURN_IF_ERROR(WriteFileAtomic(key_path, *pem, 0600));
  }
  auto key = FromPem(*pem);
  if (!key.ok()) return std::move(key.status()).Wrap(key_path);
  // sa.pub is derived; rewriting it every start keeps it in step with sa.key.
  KUBES_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kServiceAccountPubFile, (*key)->public_key_pem(), 0644));
  return key;
}

Result<std::string> ServiceAccountKey::Sign(const Json& claims) const {
  if (!claims.is_object()) return Invalid("token claims must be a JSON object");
  std::string payload;
  try {
    payload = claims.dump();
  } catch (const Json::exception& e) {  // strings that are not UTF-8
    return Invalid(std::string("token claims: ") + e.what());
  }
  const Json header = {{"alg", kAlgorithm}, {"kid", key_id_}};
  std::string signed_part = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload);
  Result<std::string> sig = SignBytes(key_.get(), signed_part);
  if (!sig.ok()) return sig.status();
  return signed_part + "." + Base64UrlEncode(*sig);
}

Result<Json> ServiceAccountKey::Verify(std::string_view token, int64_t now) const {
  if (token.size() > kMaxTokenBytes) {
    return Unauthorized("malformed token: longer than " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  std::optional<std::vector<std::string_view>> parts = SplitCompact(token);
  if (!parts) return Unauthorized("malformed token: want three dot-separated parts");
  std::optional<std::string> header_text = Base64UrlDecode((*parts)[0]);
  std::optional<std::string> payload_text = Base64UrlDecode((*parts)[1]);
  std::optional<std::string> signature = Base64UrlDecode((*parts)[2]);
  if (!header_text || !payload_text || !signature) return Unauthorized("malformed token: a part is not base64url");

  std::optional<Json> header = ParseObject(*header_text);
  if (!header) return Unauthorized("malformed token: header is not a JSON object");
  KUBES_RETURN_IF_ERROR(CheckHeader(*header, key_id_));
  // The signature covers the text as sent, not a re-encoding of what was parsed.
  std::string_view signed_part = token.substr(0, (*parts)[0].size() + 1 + (*parts)[1].size());
  if (!VerifySignature(key_.get(), signed_part, *signature)) return Unauthorized("invalid token signature");

  std::optional<Json> claims = ParseObject(*payload_text);
  if (!claims) return Unauthorized("malformed token: payload is not a JSON object");
  KUBES_RETURN_IF_ERROR(CheckTimes(*claims, now));
  return std::move(*claims);
}

Result<Json> ServiceAccountKey::Jwks() const {
  Result<std::string> n = RsaParam(key_.get(), OSSL_PKEY_PARAM_RSA_N);
  if (!n.ok()) return n.status();
  Result<std::string> e = RsaParam(key_.get(), OSSL_PKEY_PARAM_RSA_E);
  if (!e.ok()) return e.status();
  Json key = {{"use", "sig"}, {"kty", "RSA"}, {"kid", key_id_}, {"alg", kAlgorithm}, {"n", *n}, {"e", *e}};
  return Json{{"keys", Json::array({key})}};
}

}  // namespace kubes::pki
