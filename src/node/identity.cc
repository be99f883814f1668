#include "node/identity.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "node/config.h"

namespace comity::node {
namespace {

std::string Join(const std::string& dir, std::string_view name) {
  return (std::filesystem::path(dir) / name).string();
}

StatusOr<std::string> EncodeKey(crypto::SecretKeyType type, const std::array<uint8_t, 32>& key) {
  if (auto passphrase = PassphraseFromEnv()) {
    return crypto::EncodeSecretKeyWithPassphrase(type, key, *passphrase,
                                                 crypto::Argon2idParams::Moderate());
  }
  return crypto::EncodeSecretKey(type, key);
}

StatusOr<crypto::SecretKeyMaterial> ReadKey(const std::string& path, crypto::SecretKeyType type) {
  ASSIGN_OR_RETURN(std::string text, crypto::ReadSecretKeyFile(path));
  auto passphrase = PassphraseFromEnv();
  auto material = crypto::DecodeSecretKey(
      text, passphrase ? std::optional<std::string_view>(*passphrase) : std::nullopt);
  if (!material.ok()) {
    if (material.status().code() == StatusCode::kFailedPrecondition) {
      return FailedPreconditionError(path + " is protected by a passphrase; set " +
                                     std::string(kPassphraseEnv));
    }
    return material.status().WithContext(path);
  }
  if (material->type != type) {
    return InvalidArgumentError(path + " does not hold an " +
                                std::string(crypto::SecretKeyTypeName(type)) + " key");
  }
  return material;
}

}  // namespace

std::optional<std::string> PassphraseFromEnv() {
  const char* p = std::getenv(std::string(kPassphraseEnv).c_str());
  if (p == nullptr || *p == '\0') return std::nullopt;
  return std::string(p);
}

StatusOr<federation::Identity> CreateIdentity(const std::string& dir, const std::string& state) {
  const std::string sign_path = Join(dir, kSignKeyFile);
  const std::string box_path = Join(dir, kBoxKeyFile);
  for (const std::string& p : {sign_path, box_path}) {
    if (std::filesystem::exists(p)) return AlreadyExistsError(p + " already exists");
  }
  federation::Identity id{state, crypto::Ed25519PrivateKey::Generate(),
                          crypto::X25519PrivateKey::Generate()};
  ASSIGN_OR_RETURN(std::string sign_text,
                   EncodeKey(crypto::SecretKeyType::kEd25519, id.sign_key.seed()));
  ASSIGN_OR_RETURN(std::string box_text,
                   EncodeKey(crypto::SecretKeyType::kX25519, id.box_key.secret()));
  RETURN_IF_ERROR(crypto::WriteSecretKeyFile(sign_path, sign_text));
  crypto::SecureWipe(sign_text.data(), sign_text.size());
  Status st = crypto::WriteSecretKeyFile(box_path, box_text);
  crypto::SecureWipe(box_text.data(), box_text.size());
  if (!st.ok()) {
    std::error_code ec;
    std::filesystem::remove(sign_path, ec);
    return st;
  }
  return id;
}

StatusOr<crypto::Ed25519PrivateKey> LoadSignKey(const std::string& dir) {
  ASSIGN_OR_RETURN(crypto::SecretKeyMaterial m,
                   ReadKey(Join(dir, kSignKeyFile), crypto::SecretKeyType::kEd25519));
  return crypto::Ed25519PrivateKey::FromSeed(m.key);
}

StatusOr<federation::Identity> LoadIdentity(const std::string& dir, const std::string& state) {
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey sign, LoadSignKey(dir));
  ASSIGN_OR_RETURN(crypto::SecretKeyMaterial box,
                   ReadKey(Join(dir, kBoxKeyFile), crypto::SecretKeyType::kX25519));
  ASSIGN_OR_RETURN(crypto::X25519PrivateKey box_key, crypto::X25519PrivateKey::FromBytes(box.key));
  return federation::Identity{state, std::move(sign), std::move(box_key)};
}

PublicIdentity Describe(const federation::Identity& id) {
  return PublicIdentity{id.state, crypto::Base64Encode(id.sign_key.public_key()),
                        crypto::Base64Encode(id.box_key.public_key())};
}

StatusOr<std::array<uint8_t, 32>> ParsePublicKey(std::string_view base64, std::string_view what) {
  auto raw = crypto::Base64Decode(base64);
  if (!raw.ok()) {
    return InvalidArgumentError(std::string(what) +
                                " is not valid base64: " + raw.status().message());
  }
  if (raw->size() != 32) {
    return InvalidArgumentError(std::string(what) + " must be 32 bytes, not " +
                                std::to_string(raw->size()));
  }
  std::array<uint8_t, 32> out;
  std::memcpy(out.data(), raw->data(), 32);
  return out;
}

}  // namespace comity::node
