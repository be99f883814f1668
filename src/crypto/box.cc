#include "crypto/box.h"

#include <sodium.h>

#include "crypto/encoding.h"
#include "crypto/sodium_init.h"

namespace comity::crypto {

static_assert(crypto_box_PUBLICKEYBYTES == kX25519KeySize);
static_assert(crypto_box_SECRETKEYBYTES == kX25519KeySize);
static_assert(crypto_box_SEALBYTES == kSealedBoxOverhead);
static_assert(crypto_box_NONCEBYTES == kBoxNonceSize);
static_assert(crypto_box_NONCEBYTES + crypto_box_MACBYTES == kBoxOverhead);
static_assert(crypto_box_BEFORENMBYTES == 32);

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

StatusOr<BoxKey> BoxKey::Agree(const X25519PublicKey& theirs, const X25519PrivateKey& mine) {
  internal::EnsureSodium();
  BoxKey k;
  if (crypto_box_beforenm(k.key_.data(), theirs.data(), mine.secret().data()) != 0) {
    return InvalidArgumentError("no key can be agreed with this X25519 public key");
  }
  return k;
}

BoxKey::~BoxKey() { SecureWipe(key_.data(), key_.size()); }

std::string BoxKey::Box(ByteSpan plaintext) const {
  std::string out(plaintext.size() + kBoxOverhead, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(p, kBoxNonceSize);
  crypto_box_easy_afternm(p + kBoxNonceSize, plaintext.data(), plaintext.size(), p, key_.data());
  return out;
}

StatusOr<std::string> BoxKey::Open(ByteSpan boxed) const {
  if (boxed.size() < kBoxOverhead) {
    return DataLossError("box of " + std::to_string(boxed.size()) +
                         " bytes is shorter than its 40-byte overhead");
  }
  std::string out(boxed.size() - kBoxOverhead, '\0');
  if (crypto_box_open_easy_afternm(reinterpret_cast<unsigned char*>(out.data()),
                                   boxed.data() + kBoxNonceSize, boxed.size() - kBoxNonceSize,
                                   boxed.data(), key_.data()) != 0) {
    return DataLossError("box does not open: not made with this key, or modified");
  }
  return out;
}

}  // namespace comity::crypto
