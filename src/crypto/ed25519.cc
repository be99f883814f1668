#include "crypto/ed25519.h"

#include <sodium.h>

#include <algorithm>

#include "crypto/encoding.h"
#include "crypto/sodium_init.h"

namespace comity::crypto {

static_assert(crypto_sign_PUBLICKEYBYTES == kEd25519PublicKeySize);
static_assert(crypto_sign_SEEDBYTES == kEd25519SeedSize);
static_assert(crypto_sign_BYTES == kEd25519SignatureSize);
static_assert(crypto_sign_SECRETKEYBYTES == 64);

Ed25519PrivateKey Ed25519PrivateKey::Generate() {
  internal::EnsureSodium();
  Ed25519PrivateKey key;
  crypto_sign_keypair(key.public_key_.data(), key.secret_.data());
  return key;
}

StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteSpan seed) {
  internal::EnsureSodium();
  if (seed.size() != kEd25519SeedSize) {
    return InvalidArgumentError("an Ed25519 seed is 32 bytes, got " + std::to_string(seed.size()));
  }
  Ed25519PrivateKey key;
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_.data(), seed.data());
  return key;
}

Ed25519PrivateKey::~Ed25519PrivateKey() { SecureWipe(secret_.data(), secret_.size()); }

Ed25519Seed Ed25519PrivateKey::seed() const {
  Ed25519Seed out;
  std::copy_n(secret_.begin(), out.size(), out.begin());
  return out;
}

Ed25519Signature Ed25519PrivateKey::Sign(ByteSpan message) const {
  Ed25519Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool Ed25519Verify(const Ed25519PublicKey& key, ByteSpan message, ByteSpan signature) {
  internal::EnsureSodium();
  if (signature.size() != kEd25519SignatureSize) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

}  // namespace comity::crypto
