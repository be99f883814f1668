#include "crypto/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace comity::crypto {
namespace {

// EVP failures here mean memory exhaustion or a broken OpenSSL installation: nothing a caller
// can handle, so they stop the process (Envoy's "cannot happen after start-up" class).
[[noreturn]] void Fatal(const char* what) {
  std::fprintf(stderr, "comity: OpenSSL SHA-256 failure: %s\n", what);
  std::abort();
}

// Fetched once: an explicit fetch avoids the implicit per-call provider lookup of EVP_sha256().
const EVP_MD* Sha256Md() {
  static EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) Fatal("EVP_MD_fetch");
    return m;
  }();
  return md;
}

}  // namespace

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) Fatal("EVP_MD_CTX_new");
  Reset();
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

void Sha256Hasher::Reset() {
  if (EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr) != 1) Fatal("EVP_DigestInit_ex2");
}

void Sha256Hasher::Update(ByteSpan data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) Fatal("EVP_DigestUpdate");
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != out.size()) {
    Fatal("EVP_DigestFinal_ex");
  }
  Reset();
  return out;
}

Sha256Digest Sha256(ByteSpan data) {
  thread_local Sha256Hasher hasher;
  hasher.Update(data);
  return hasher.Finish();
}

}  // namespace comity::crypto
