// XChaCha20-Poly1305 (IETF variant) authenticated encryption with associated data, for small
// messages held in memory (key files, data keys). Large data uses secretstream.h.
//
//   AeadKey key = RandomArray<kAeadKeySize>();
//   AeadNonce nonce = RandomArray<kAeadNonceSize>();   // random 192-bit nonces never repeat
//   std::string ct = AeadSeal(key, nonce, AsBytes("secret"), AsBytes("header"));
//   StatusOr<std::string> pt = AeadOpen(key, nonce, AsBytes(ct), AsBytes("header"));
//
// Opening fails with kDataLoss when the ciphertext, nonce or associated data was altered or the
// key is wrong. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/status.h"
#include "crypto/bytes.h"

namespace comity::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 24;
inline constexpr size_t kAeadTagSize = 16;

using AeadKey = std::array<uint8_t, kAeadKeySize>;
using AeadNonce = std::array<uint8_t, kAeadNonceSize>;

std::string AeadSeal(const AeadKey& key, const AeadNonce& nonce, ByteSpan plaintext,
                     ByteSpan associated_data);
StatusOr<std::string> AeadOpen(const AeadKey& key, const AeadNonce& nonce, ByteSpan ciphertext,
                               ByteSpan associated_data);

}  // namespace comity::crypto
