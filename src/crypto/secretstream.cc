#include "crypto/secretstream.h"

#include <sodium.h>

#include "crypto/encoding.h"
#include "crypto/sodium_init.h"

namespace comity::crypto {
namespace {

using State = crypto_secretstream_xchacha20poly1305_state;
static_assert(sizeof(State) <= 64 && alignof(State) <= 16);

State* AsState(std::array<uint8_t, 64>& storage) {
  return reinterpret_cast<State*>(storage.data());
}

}  // namespace

static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == kSecretStreamKeySize);
static_assert(crypto_secretstream_xchacha20poly1305_HEADERBYTES == kSecretStreamHeaderSize);
static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == kSecretStreamOverhead);

SecretStreamWriter::SecretStreamWriter(const SecretStreamKey& key) {
  internal::EnsureSodium();
  crypto_secretstream_xchacha20poly1305_init_push(AsState(state_), header_.data(), key.data());
}

SecretStreamWriter::~SecretStreamWriter() { SecureWipe(state_.data(), state_.size()); }

StatusOr<std::string> SecretStreamWriter::Push(ByteSpan chunk, bool final) {
  if (finished_) return FailedPreconditionError("secretstream: push after the final chunk");
  if (chunk.size() > kSecretStreamMaxChunk) {
    return ResourceExhaustedError("secretstream: chunk of " + std::to_string(chunk.size()) +
                                  " bytes exceeds the " + std::to_string(kSecretStreamMaxChunk) +
                                  "-byte limit");
  }
  std::string out(chunk.size() + kSecretStreamOverhead, '\0');
  unsigned long long len = 0;
  const unsigned char tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                  : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  crypto_secretstream_xchacha20poly1305_push(AsState(state_),
                                             reinterpret_cast<unsigned char*>(out.data()), &len,
                                             chunk.data(), chunk.size(), nullptr, 0, tag);
  out.resize(len);
  finished_ = final;
  return out;
}

StatusOr<SecretStreamReader> SecretStreamReader::Create(const SecretStreamKey& key,
                                                        ByteSpan header) {
  internal::EnsureSodium();
  if (header.size() != kSecretStreamHeaderSize) {
    return InvalidArgumentError("secretstream: header is 24 bytes, got " +
                                std::to_string(header.size()));
  }
  SecretStreamReader r;
  if (crypto_secretstream_xchacha20poly1305_init_pull(AsState(r.state_), header.data(),
                                                      key.data()) != 0) {
    return InvalidArgumentError("secretstream: invalid header");
  }
  return r;
}

SecretStreamReader::SecretStreamReader(SecretStreamReader&& other) noexcept
    : finished_(other.finished_) {
  state_ = other.state_;
  SecureWipe(other.state_.data(), other.state_.size());
}

SecretStreamReader::~SecretStreamReader() { SecureWipe(state_.data(), state_.size()); }

StatusOr<std::string> SecretStreamReader::Pull(ByteSpan chunk) {
  if (finished_) return FailedPreconditionError("secretstream: data after the final chunk");
  if (chunk.size() < kSecretStreamOverhead) {
    return DataLossError("secretstream: chunk of " + std::to_string(chunk.size()) +
                         " bytes is shorter than its 17-byte overhead");
  }
  if (chunk.size() > kSecretStreamMaxChunk + kSecretStreamOverhead) {
    return ResourceExhaustedError("secretstream: chunk of " + std::to_string(chunk.size()) +
                                  " bytes exceeds the limit");
  }
  std::string out(chunk.size() - kSecretStreamOverhead, '\0');
  unsigned long long len = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(
          AsState(state_), reinterpret_cast<unsigned char*>(out.data()), &len, &tag, chunk.data(),
          chunk.size(), nullptr, 0) != 0) {
    return DataLossError(
        "secretstream: chunk fails authentication (modified, reordered or wrong key)");
  }
  out.resize(len);
  if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) finished_ = true;
  return out;
}

}  // namespace comity::crypto
