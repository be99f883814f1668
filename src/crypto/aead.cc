#include "crypto/aead.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace comity::crypto {

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kAeadKeySize);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kAeadNonceSize);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kAeadTagSize);

std::string AeadSeal(const AeadKey& key, const AeadNonce& nonce, ByteSpan plaintext,
                     ByteSpan associated_data) {
  internal::EnsureSodium();
  std::string out(plaintext.size() + kAeadTagSize, '\0');
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(out.data()), &len, plaintext.data(), plaintext.size(),
      associated_data.data(), associated_data.size(), nullptr, nonce.data(), key.data());
  out.resize(len);
  return out;
}

StatusOr<std::string> AeadOpen(const AeadKey& key, const AeadNonce& nonce, ByteSpan ciphertext,
                               ByteSpan associated_data) {
  internal::EnsureSodium();
  if (ciphertext.size() < kAeadTagSize) {
    return DataLossError("ciphertext of " + std::to_string(ciphertext.size()) +
                         " bytes is shorter than its 16-byte tag");
  }
  std::string out(ciphertext.size() - kAeadTagSize, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data()), &len,
                                                 nullptr, ciphertext.data(), ciphertext.size(),
                                                 associated_data.data(), associated_data.size(),
                                                 nonce.data(), key.data()) != 0) {
    return DataLossError("decryption failed: wrong key, or the data was modified");
  }
  out.resize(len);
  return out;
}

}  // namespace comity::crypto
