// X25519 key pairs, anonymous sealed boxes (libsodium crypto_box_seal: X25519 +
// XSalsa20-Poly1305 with an ephemeral sender key), and boxes under a key agreed once (BoxKey).
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

// The key two X25519 key pairs agree on (libsodium crypto_box_beforenm), for boxing several
// messages between them with one agreement instead of one each (crypto_box_easy_afternm:
// XSalsa20-Poly1305, a random 24-byte nonce per message).
//
//   X25519PrivateKey ephemeral = X25519PrivateKey::Generate();
//   StatusOr<BoxKey> k = BoxKey::Agree(recipient_public, ephemeral);   // the sender
//   std::string boxed = k->Box(AsBytes("one")), boxed2 = k->Box(AsBytes("two"));
//   StatusOr<BoxKey> r = BoxKey::Agree(ephemeral.public_key(), recipient);  // the recipient
//   StatusOr<std::string> one = r->Open(AsBytes(boxed));
//
// A box is kBoxOverhead bytes longer than its plaintext (nonce + MAC). The key is wiped on
// destruction. Thread-compatible (Box and Open are const and may run concurrently).
inline constexpr size_t kBoxNonceSize = 24;
inline constexpr size_t kBoxOverhead = kBoxNonceSize + 16;

class BoxKey {
 public:
  // kInvalidArgument when the agreement fails (a public key of small order).
  static StatusOr<BoxKey> Agree(const X25519PublicKey& theirs, const X25519PrivateKey& mine);

  BoxKey(const BoxKey&) = default;
  BoxKey& operator=(const BoxKey&) = default;
  ~BoxKey();

  std::string Box(ByteSpan plaintext) const;
  // kDataLoss when the box was not made with this key or was modified.
  StatusOr<std::string> Open(ByteSpan boxed) const;

 private:
  BoxKey() = default;
  std::array<uint8_t, 32> key_{};
};

}  // namespace comity::crypto
