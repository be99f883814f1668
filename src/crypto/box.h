// X25519 key pairs and anonymous sealed boxes (libsodium crypto_box_seal: X25519 +
// XSalsa20-Poly1305 with an ephemeral sender key).
//
//   X25519PrivateKey recipient = X25519PrivateKey::Generate();
//   std::string sealed = SealBox(recipient.public_key(), AsBytes("data key"));
//   StatusOr<std::string> opened = OpenSealedBox(recipient, AsBytes(sealed));
//
// A sealed box is kSealedBoxOverhead bytes longer than its plaintext. Opening fails with
// kDataLoss when the box was not sealed to this key or was modified. The private key is wiped
// on destruction. X25519PrivateKey is thread-compatible; the free functions are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/status.h"
#include "crypto/bytes.h"

namespace comity::crypto {

inline constexpr size_t kX25519KeySize = 32;
inline constexpr size_t kSealedBoxOverhead = 48;  // ephemeral public key + MAC

using X25519PublicKey = std::array<uint8_t, kX25519KeySize>;

class X25519PrivateKey {
 public:
  static X25519PrivateKey Generate();
  // kInvalidArgument unless `secret` is exactly 32 bytes.
  static StatusOr<X25519PrivateKey> FromBytes(ByteSpan secret);

  X25519PrivateKey(const X25519PrivateKey&) = default;
  X25519PrivateKey& operator=(const X25519PrivateKey&) = default;
  ~X25519PrivateKey();

  const X25519PublicKey& public_key() const { return public_key_; }
  // The secret scalar, for writing a key file. Handle with care.
  const std::array<uint8_t, kX25519KeySize>& secret() const { return secret_; }

 private:
  X25519PrivateKey() = default;
  std::array<uint8_t, kX25519KeySize> secret_{};
  X25519PublicKey public_key_{};
};

std::string SealBox(const X25519PublicKey& recipient, ByteSpan plaintext);
StatusOr<std::string> OpenSealedBox(const X25519PrivateKey& recipient, ByteSpan sealed);

}  // namespace comity::crypto
