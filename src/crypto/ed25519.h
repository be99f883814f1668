// Ed25519 signatures (RFC 8032) through libsodium.
//
//   Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
//   Ed25519Signature sig = key.Sign(AsBytes(message));
//   bool ok = Ed25519Verify(key.public_key(), AsBytes(message), sig);
//
// A private key is stored as its 32-byte seed (RFC 8032's "private key"); FromSeed() restores
// it. The key material is wiped when the object is destroyed. Ed25519PrivateKey is
// thread-compatible (const methods may run concurrently); the free functions are thread-safe.
#pragma once

#include <array>
#include <cstdint>

#include "core/status.h"
#include "crypto/bytes.h"

namespace comity::crypto {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

using Ed25519PublicKey = std::array<uint8_t, kEd25519PublicKeySize>;
using Ed25519Seed = std::array<uint8_t, kEd25519SeedSize>;
using Ed25519Signature = std::array<uint8_t, kEd25519SignatureSize>;

class Ed25519PrivateKey {
 public:
  static Ed25519PrivateKey Generate();
  // kInvalidArgument unless `seed` is exactly 32 bytes.
  static StatusOr<Ed25519PrivateKey> FromSeed(ByteSpan seed);

  Ed25519PrivateKey(const Ed25519PrivateKey& other) = default;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey& other) = default;
  ~Ed25519PrivateKey();

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The secret seed, for writing a key file. Handle with care.
  Ed25519Seed seed() const;

  Ed25519Signature Sign(ByteSpan message) const;

 private:
  Ed25519PrivateKey() = default;
  std::array<uint8_t, 64> secret_{};  // libsodium's seed || public key
  Ed25519PublicKey public_key_{};
};

// True iff `signature` (which must be 64 bytes) is a valid signature of `message` by `key`.
bool Ed25519Verify(const Ed25519PublicKey& key, ByteSpan message, ByteSpan signature);

}  // namespace comity::crypto
