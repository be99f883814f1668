// Base64 (RFC 4648 section 4, standard alphabet, with padding), hex, and constant-time
// comparison.
//
//   std::string b = Base64Encode(AsBytes("hi"));           // "aGk="
//   StatusOr<std::string> raw = Base64Decode("aGk=");      // "hi"
//   std::string h = HexEncode(AsBytes("\x01\xff"));       // "01ff"
//   bool same = ConstantTimeEqual(AsBytes(a), AsBytes(b));
//
// Decoders are strict: they accept only the canonical encoding (padding present, no whitespace,
// unused bits zero for base64; even length for hex), so that a decoded value re-encodes to the
// exact input. Errors are kInvalidArgument naming what is wrong. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/bytes.h"

namespace comity::crypto {

std::string Base64Encode(ByteSpan data);
inline std::string Base64Encode(std::string_view data) { return Base64Encode(AsBytes(data)); }
StatusOr<std::string> Base64Decode(std::string_view text);

// Lower-case hex.
std::string HexEncode(ByteSpan data);
inline std::string HexEncode(std::string_view data) { return HexEncode(AsBytes(data)); }
// Accepts upper- and lower-case digits.
StatusOr<std::string> HexDecode(std::string_view text);

// Compares contents in time independent of where they differ. Different lengths compare unequal
// (the lengths themselves are not secret).
bool ConstantTimeEqual(ByteSpan a, ByteSpan b);

// Overwrites memory in a way the compiler does not elide (for secrets).
void SecureWipe(void* data, size_t size);

}  // namespace comity::crypto
