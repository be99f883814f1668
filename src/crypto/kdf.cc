#include "crypto/kdf.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace comity::crypto {

static_assert(crypto_pwhash_argon2id_SALTBYTES == kArgon2idSaltSize);

Status ValidateArgon2idParams(const Argon2idParams& params) {
  if (params.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      params.opslimit > kArgon2idMaxOpslimit) {
    return InvalidArgumentError("Argon2id opslimit " + std::to_string(params.opslimit) +
                                " is outside [1, 4294967295]");
  }
  if (params.memlimit < kArgon2idMinMemlimit || params.memlimit > kArgon2idMaxMemlimit) {
    return InvalidArgumentError("Argon2id memlimit " + std::to_string(params.memlimit) +
                                " bytes is outside [8 KiB, 4 GiB]");
  }
  return OkStatus();
}

StatusOr<AeadKey> DeriveKeyArgon2id(std::string_view passphrase, ByteSpan salt,
                                    const Argon2idParams& params) {
  internal::EnsureSodium();
  RETURN_IF_ERROR(ValidateArgon2idParams(params));
  if (salt.size() != kArgon2idSaltSize) {
    return InvalidArgumentError("Argon2id salt is 16 bytes, got " + std::to_string(salt.size()));
  }
  if (passphrase.size() > kMaxPassphraseBytes) {
    return InvalidArgumentError("passphrase of " + std::to_string(passphrase.size()) +
                                " bytes exceeds the " + std::to_string(kMaxPassphraseBytes) +
                                "-byte limit");
  }
  AeadKey key;
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(),
                    params.opslimit, static_cast<size_t>(params.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhaustedError("Argon2id: not enough memory for " +
                                  std::to_string(params.memlimit) + " bytes");
  }
  return key;
}

}  // namespace comity::crypto
