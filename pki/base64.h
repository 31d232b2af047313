// base64 — the two encodings certificates and tokens travel in.
//
// Standard base64 with padding (RFC 4648 §4) is what kubeconfig's *-data fields hold.
// base64url without padding (RFC 4648 §5, "Base64url Encoding" in RFC 7515) is what each
// part of a compact JWS is written in. Decoding is strict: wrong alphabet, stray padding,
// or non-zero leftover bits are rejected, so a token has exactly one spelling.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kubes::pki {

std::string Base64Encode(std::string_view data);
// nullopt when text is not canonical padded base64.
std::optional<std::string> Base64Decode(std::string_view text);

std::string Base64UrlEncode(std::string_view data);
// nullopt when text is not canonical unpadded base64url.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace kubes::pki
