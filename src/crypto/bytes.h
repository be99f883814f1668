// Byte views shared by the crypto, tlog and store modules.
//
// Inputs are read-only byte spans; strings convert without copying:
//
//   Sha256Digest d = Sha256(AsBytes("abc"));
//   std::string_view s = AsChars(d);
//
// Variable-length binary outputs (ciphertexts, signatures in transit) are std::string, which is
// binary-safe. Thread-safe: free functions only.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace comity::crypto {

using ByteSpan = std::span<const uint8_t>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace comity::crypto
