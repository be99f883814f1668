#include "crypto/box.h"

#include <sodium.h>

#include "crypto/encoding.h"
#include "crypto/sodium_init.h"

namespace comity::crypto {

static_assert(crypto_box_PUBLICKEYBYTES == kX25519KeySize);
static_assert(crypto_box_SECRETKEYBYTES == kX25519KeySize);
static_assert(crypto_box_SEALBYTES == kSealedBoxOverhead);

X25519PrivateKey X25519PrivateKey::Generate() {
  internal::EnsureSodium();
  X25519PrivateKey key;
  crypto_box_keypair(key.public_key_.data(), key.secret_.data());
  return key;
}

StatusOr<X25519PrivateKey> X25519PrivateKey::FromBytes(ByteSpan secret) {
  internal::EnsureSodium();
  if (secret.size() != kX25519KeySize) {
    return InvalidArgumentError("an X25519 private key is 32 bytes, got " +
                                std::to_string(secret.size()));
  }
  X25519PrivateKey key;
  std::copy(secret.begin(), secret.end(), key.secret_.begin());
  crypto_scalarmult_base(key.public_key_.data(), key.secret_.data());
  return key;
}

X25519PrivateKey::~X25519PrivateKey() { SecureWipe(secret_.data(), secret_.size()); }

std::string SealBox(const X25519PublicKey& recipient, ByteSpan plaintext) {
  internal::EnsureSodium();
  std::string out(plaintext.size() + kSealedBoxOverhead, '\0');
  crypto_box_seal(reinterpret_cast<unsigned char*>(out.data()), plaintext.data(), plaintext.size(),
                  recipient.data());
  return out;
}

StatusOr<std::string> OpenSealedBox(const X25519PrivateKey& recipient, ByteSpan sealed) {
  internal::EnsureSodium();
  if (sealed.size() < kSealedBoxOverhead) {
    return DataLossError("sealed box of " + std::to_string(sealed.size()) +
                         " bytes is shorter than its 48-byte overhead");
  }
  std::string out(sealed.size() - kSealedBoxOverhead, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(out.data()), sealed.data(),
                           sealed.size(), recipient.public_key().data(),
                           recipient.secret().data()) != 0) {
    return DataLossError("sealed box does not open: not sealed to this key, or modified");
  }
  return out;
}

}  // namespace comity::crypto
